// check-server: does a TCP server honour ICMP "fragmentation needed" / "packet too big"?
export {
  checkServer,
  DEFAULT_MTU,
  DEFAULT_TIMEOUT_MS,
  type CheckServerOptions,
  type CheckServerResult,
  type PhaseSummary,
  type SizeCount,
} from './check.js';
export { buildPtb, quoteFor, MIN_MTU, type PtbInput } from './ptb.js';
export { parseFrame, wireSegments, type CapturedPacket, type FrameInfo, type WireSegment } from './segment.js';
export { judge, type Verdict, type VerdictInput, type VerdictResult } from './verdict.js';
export { parseHostPort } from './target.js';
