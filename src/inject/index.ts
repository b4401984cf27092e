// Crafted ICMP frag-needed / packet-too-big: make a host cache a path MTU (seed 004).
export { inject, buildPtb, type InjectOptions, type InjectResult } from './inject.js';
export { buildOriginal, quoteOf, tooBigLength, QUOTE_LIMIT, type OriginalFlow, type QuoteProto } from './original.js';
