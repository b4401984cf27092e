// The lab's public face: real Linux routers in network namespaces, for tests, benchmarks and demos.
// (The node:test helper labTest lives in ./testing.js, imported by test files only.)
export { Lab, canRunLab, requireRoot, sweepStale, type Addresses, type ExecOptions, type Overlay } from './lab.js';
export type { RunResult } from './netns.js';
export {
  type ClientSpec,
  type Direction,
  type LinkSpec,
  type NodeSpec,
  type PathSpec,
  type PtbLie,
  type RouterSpec,
  type ServerSpec,
  type Side,
  type VxlanSpec,
  VETH_RX_SLACK,
  VXLAN_OVERHEAD,
} from './spec.js';
export { Hub, hubNodeBatch, hubRootBatch } from './hub.js';
export { DEFAULT_HUB_TARGETS, MAX_HUB_TARGETS, hubTargetAddress, planHub, type HubNode, type HubSpec, type HubTarget } from './hub-spec.js';
