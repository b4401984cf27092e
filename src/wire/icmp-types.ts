// ICMP and ICMPv6 type/code numbers with their names, after the IANA registries.
// ICMPv4: RFC 792, RFC 950, RFC 1191 (frag needed carries the next-hop MTU), RFC 1256, RFC 1812
// (codes 13-15 of type 3, code 2 of type 12), RFC 6633/6918 (deprecations), RFC 8335.
// ICMPv6: RFC 4443 (types 1-4, 128, 129 and their codes), RFC 4861, RFC 7112, RFC 8335, RFC 8883.
// RFC 4884 defines which error types may carry an extension structure (see *_EXTENSIBLE).

// ---- ICMPv4 ----
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ROUTER_ADVERT = 9;
export const ICMP_ROUTER_SOLICIT = 10;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMP_REPLY = 14;
export const ICMP_EXT_ECHO_REQUEST = 42;
export const ICMP_EXT_ECHO_REPLY = 43;

// Destination unreachable codes (type 3).
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
/** "Fragmentation needed and DF set": the one that carries the next-hop MTU (RFC 1191). */
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_PKT_FILTERED = 13;

// Time exceeded codes (type 11).
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

// ---- ICMPv6 ----
export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROB = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_REDIRECT = 137;

export const ICMP6_DST_UNREACH_NOROUTE = 0;
export const ICMP6_DST_UNREACH_ADMIN = 1;
export const ICMP6_DST_UNREACH_ADDR = 3;
export const ICMP6_DST_UNREACH_NOPORT = 4;
export const ICMP6_TIME_EXCEED_TRANSIT = 0;
export const ICMP6_TIME_EXCEED_REASSEMBLY = 1;

interface TypeEntry {
  name: string;
  codes?: Readonly<Record<number, string>>;
}

export const ICMPV4_TYPES: Readonly<Record<number, TypeEntry>> = {
  0: { name: 'echo reply', codes: { 0: 'no code' } },
  3: {
    name: 'destination unreachable',
    codes: {
      0: 'net unreachable',
      1: 'host unreachable',
      2: 'protocol unreachable',
      3: 'port unreachable',
      4: 'fragmentation needed and DF set',
      5: 'source route failed',
      6: 'destination network unknown',
      7: 'destination host unknown',
      8: 'source host isolated',
      9: 'communication with destination network administratively prohibited',
      10: 'communication with destination host administratively prohibited',
      11: 'destination network unreachable for type of service',
      12: 'destination host unreachable for type of service',
      13: 'communication administratively prohibited',
      14: 'host precedence violation',
      15: 'precedence cutoff in effect',
    },
  },
  4: { name: 'source quench (deprecated)', codes: { 0: 'no code' } },
  5: {
    name: 'redirect',
    codes: {
      0: 'redirect datagram for the network',
      1: 'redirect datagram for the host',
      2: 'redirect datagram for the type of service and network',
      3: 'redirect datagram for the type of service and host',
    },
  },
  8: { name: 'echo request', codes: { 0: 'no code' } },
  9: { name: 'router advertisement', codes: { 0: 'normal router advertisement', 16: 'does not route common traffic' } },
  10: { name: 'router solicitation', codes: { 0: 'no code' } },
  11: { name: 'time exceeded', codes: { 0: 'time to live exceeded in transit', 1: 'fragment reassembly time exceeded' } },
  12: {
    name: 'parameter problem',
    codes: { 0: 'pointer indicates the error', 1: 'missing a required option', 2: 'bad length' },
  },
  13: { name: 'timestamp', codes: { 0: 'no code' } },
  14: { name: 'timestamp reply', codes: { 0: 'no code' } },
  15: { name: 'information request (deprecated)' },
  16: { name: 'information reply (deprecated)' },
  17: { name: 'address mask request (deprecated)' },
  18: { name: 'address mask reply (deprecated)' },
  30: { name: 'traceroute (deprecated)' },
  40: { name: 'photuris' },
  42: { name: 'extended echo request', codes: { 0: 'no error' } },
  43: {
    name: 'extended echo reply',
    codes: {
      0: 'no error',
      1: 'malformed query',
      2: 'no such interface',
      3: 'no such table entry',
      4: 'multiple interfaces satisfy query',
    },
  },
};

export const ICMPV6_TYPES: Readonly<Record<number, TypeEntry>> = {
  1: {
    name: 'destination unreachable',
    codes: {
      0: 'no route to destination',
      1: 'communication with destination administratively prohibited',
      2: 'beyond scope of source address',
      3: 'address unreachable',
      4: 'port unreachable',
      5: 'source address failed ingress/egress policy',
      6: 'reject route to destination',
      7: 'error in source routing header',
      8: 'headers too long',
    },
  },
  2: { name: 'packet too big', codes: { 0: 'no code' } },
  3: { name: 'time exceeded', codes: { 0: 'hop limit exceeded in transit', 1: 'fragment reassembly time exceeded' } },
  4: {
    name: 'parameter problem',
    codes: {
      0: 'erroneous header field encountered',
      1: 'unrecognized next header type encountered',
      2: 'unrecognized IPv6 option encountered',
      3: 'IPv6 first fragment has incomplete IPv6 header chain',
      4: 'SR upper-layer header error',
      5: 'unrecognized next header type encountered by intermediate node',
      6: 'extension header too big',
      7: 'extension header chain too long',
      8: 'too many extension headers',
      9: 'too many options in extension header',
      10: 'option too big',
    },
  },
  128: { name: 'echo request', codes: { 0: 'no code' } },
  129: { name: 'echo reply', codes: { 0: 'no code' } },
  130: { name: 'multicast listener query' },
  131: { name: 'multicast listener report' },
  132: { name: 'multicast listener done' },
  133: { name: 'router solicitation', codes: { 0: 'no code' } },
  134: { name: 'router advertisement', codes: { 0: 'no code' } },
  135: { name: 'neighbor solicitation', codes: { 0: 'no code' } },
  136: { name: 'neighbor advertisement', codes: { 0: 'no code' } },
  137: { name: 'redirect', codes: { 0: 'no code' } },
  138: { name: 'router renumbering', codes: { 0: 'router renumbering command', 1: 'router renumbering result', 255: 'sequence number reset' } },
  139: { name: 'node information query' },
  140: { name: 'node information response' },
  141: { name: 'inverse neighbor discovery solicitation' },
  142: { name: 'inverse neighbor discovery advertisement' },
  143: { name: 'version 2 multicast listener report' },
  144: { name: 'home agent address discovery request' },
  145: { name: 'home agent address discovery reply' },
  146: { name: 'mobile prefix solicitation' },
  147: { name: 'mobile prefix advertisement' },
  148: { name: 'certification path solicitation' },
  149: { name: 'certification path advertisement' },
  151: { name: 'multicast router advertisement' },
  152: { name: 'multicast router solicitation' },
  153: { name: 'multicast router termination' },
  155: { name: 'RPL control message' },
  160: { name: 'extended echo request', codes: { 0: 'no error' } },
  161: {
    name: 'extended echo reply',
    codes: {
      0: 'no error',
      1: 'malformed query',
      2: 'no such interface',
      3: 'no such table entry',
      4: 'multiple interfaces satisfy query',
    },
  },
};

/** ICMPv4 error types: they quote the offending datagram (RFC 1122 §3.2.2). */
export const ICMPV4_ERRORS: ReadonlySet<number> = new Set([ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM]);
/** ICMPv4 types whose quote may be followed by an RFC 4884 extension structure. */
export const ICMPV4_EXTENSIBLE: ReadonlySet<number> = new Set([ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM]);
/** ICMPv6 types whose quote may be followed by an RFC 4884 extension structure. */
export const ICMPV6_EXTENSIBLE: ReadonlySet<number> = new Set([ICMP6_DST_UNREACH, ICMP6_TIME_EXCEEDED]);

/** ICMPv6 error messages are types 0-127, informational ones 128-255 (RFC 4443 §2.1). */
export function isIcmpv6Error(type: number): boolean {
  return type >= 0 && type < 128;
}

export function isIcmpv4Error(type: number): boolean {
  return ICMPV4_ERRORS.has(type);
}

function typeName(table: Readonly<Record<number, TypeEntry>>, v: string, type: number): string {
  return table[type]?.name ?? `unknown ${v} type ${type}`;
}

function codeName(table: Readonly<Record<number, TypeEntry>>, v: string, type: number, code: number): string {
  return table[type]?.codes?.[code] ?? `${typeName(table, v, type)}, code ${code}`;
}

export const icmpv4TypeName = (type: number): string => typeName(ICMPV4_TYPES, 'ICMP', type);
export const icmpv4CodeName = (type: number, code: number): string => codeName(ICMPV4_TYPES, 'ICMP', type, code);
export const icmpv6TypeName = (type: number): string => typeName(ICMPV6_TYPES, 'ICMPv6', type);
export const icmpv6CodeName = (type: number, code: number): string => codeName(ICMPV6_TYPES, 'ICMPv6', type, code);
