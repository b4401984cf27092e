// The wire layer: pure packet codecs, no I/O. Each codec is a namespace with encode / decode /
// encodingLength (dns-packet style); decoders throw DecodeError and nothing else on bad bytes.
export * as addr from './addr.js';
export * as checksum from './checksum.js';
export * as ethernet from './ethernet.js';
export * as icmpExtension from './icmp-extension.js';
export * as icmpTypes from './icmp-types.js';
export * as icmpv4 from './icmpv4.js';
export * as icmpv6 from './icmpv6.js';
export * as ipv4 from './ipv4.js';
export * as ipv6 from './ipv6.js';
export * as protocols from './protocols.js';
export * as ptb from './ptb.js';
export * as quote from './quote.js';
export * as tcp from './tcp.js';
export * as udp from './udp.js';
export { bytesToIp, ipToBytes, canonicalIp, ipFamily } from './addr.js';
export { decodeQuote, type QuotedDatagram, type QuotedTransport } from './quote.js';
export type { PseudoHeader } from './pseudo.js';
export type { Family } from './facts.js';
