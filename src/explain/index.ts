// Public face of src/explain: what an MTU number means and the commands that fix it.
export { explain, MTU_RANGE } from './explain.js';
export { fixes } from './fixes.js';
export { payloadSizes } from './payload.js';
export { rankCandidates, type RankOptions } from './candidates.js';
export { renderExplanation, type RenderOptions } from './render.js';
export { KNOWN_MTUS, LAYERS, UNDERLAYS, type KnownMtu, type Layer, type Underlay } from './encapsulations.js';
export type { Candidate, Confidence, ExplainInput, Explanation, Fix, FixesInput, Payload } from './types.js';
