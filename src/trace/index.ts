// Public face of src/trace: the path hop by hop with its MTUs, black holes located, bogus PTBs.
export { trace, DEFAULT_MAX_HOPS } from './trace.js';
export { explainTrace } from './explained.js';
export { renderTrace, type RenderTraceOptions } from './render.js';
export { assemble, judgePtb, type AssembleInput, type Assembled } from './assemble.js';
export { reverseNames, unnamable } from './names.js';
export type {
  BlackHole,
  BogusPtb,
  FirstHop,
  HopPtb,
  MtuDrop,
  TraceEvent,
  TraceHop,
  TraceOptions,
  TracePhase,
  TraceResult,
} from './types.js';
