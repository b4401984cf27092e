// Facts every layer needs (DESIGN.md "Layers"): the address family, IP header sizes and the
// protocol MTU floors. They sit here, below sock/probe/search/lab, so no lower layer imports a
// higher one to learn them.

export type Family = 4 | 6;

/** IP header sizes without options/extensions, and the protocol floors (RFC 791 / RFC 8200). */
export const IP_HEADER = { 4: 20, 6: 40 } as const;
export const MIN_MTU = { 4: 68, 6: 1280 } as const;
