import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';

/** ok: fine. warn: worth knowing, or could not be checked; does not fail the run. problem: a wall in the way of PMTUD. */
export type CheckStatus = 'ok' | 'warn' | 'problem';

export type CheckId =
  | 'raw-sockets'
  | 'ping-group'
  | 'firewall'
  | 'ipv6'
  | 'route-mtu'
  | 'pmtu-cache'
  | 'pmtu-disc'
  | 'tcp-mtu-probing'
  | 'methods';

export interface DoctorCheck {
  /** Stable identifier, for scripts. */
  id: CheckId;
  status: CheckStatus;
  /** What was checked, e.g. "raw sockets (CAP_NET_RAW)". */
  title: string;
  /** One line: what was found. */
  summary: string;
  /** Why it matters and the facts found, one sentence a line. */
  details: string[];
  /** Commands that fix it, exactly as to type them (empty when nothing needs fixing). */
  fixes: string[];
  /** The raw facts the check used (sysctl values, rules, routes). */
  data: Record<string, unknown>;
}

export interface DoctorOptions {
  /** Check the path to this host as well: its route, interface, cached PMTU, and the methods of its family. */
  host?: string;
  family?: Family;
  signal?: AbortSignal;
}

export interface DoctorResult {
  host: { target: string; address: string; family: Family } | null;
  user: { uid: number; gid: number; groups: number[] };
  /** The network namespace the checks ran in (every sysctl read is this namespace's). */
  netns: { inode: number; name: string | null };
  /** Methods this process can open here, per family, in `auto`'s order. */
  methods: Record<Family, MethodName[]>;
  checks: DoctorCheck[];
  problems: number;
  warnings: number;
  /** True when no check found a problem (warnings allowed). */
  ok: boolean;
}
