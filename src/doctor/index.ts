// pathmtu doctor: what stands between this user and path MTU discovery here, and the fixes.
export { doctor } from './doctor.js';
export type { CheckId, CheckStatus, DoctorCheck, DoctorOptions, DoctorResult } from './types.js';
export { analyseRulesets, readRulesets, fixFor, type FirewallAnalysis, type RulesetSources } from './firewall.js';
export { FRAG_NEEDED, PACKET_TOO_BIG, inputFates, type ChainFate, type FwTable, type PtbPacket } from './firewall-model.js';
export { nftTables } from './nftables.js';
export { iptablesTable } from './iptables.js';
