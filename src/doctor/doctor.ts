// doctor(): the walls a user meets before the first probe, checked in the network namespace this
// process runs in — privileges for each method, the sysctls that govern PMTUD, the local firewall,
// IPv6, route MTUs, and with a host, the route to it and the kernel's cached PMTU for it.
import { existsSync, realpathSync } from 'node:fs';
import { lookupCache, type CacheLookup } from '../cache/index.js';
import { PathMtuError, UsageError } from '../errors.js';
import { availableMethods } from '../probe/index.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';
import { resolveTarget } from '../sock/resolve.js';
import {
  firewallCheck,
  ipv6Check,
  methodsCheck,
  pingGroupCheck,
  pmtuCacheCheck,
  pmtuDiscCheck,
  rawSocketsCheck,
  routeMtuCheck,
  tcpMtuProbingCheck,
} from './checks.js';
import { analyseRulesets, readRulesets, type FirewallAnalysis } from './firewall.js';
import { scanRouteMtus, type RouteScan } from './routes.js';
import { CAP_NET_RAW, currentNetns, effectiveCaps, hasCap, ipv6Addresses, readSysctl } from './system.js';
import type { DoctorCheck, DoctorOptions, DoctorResult } from './types.js';

const LOOPBACK6 = '00000000000000000000000000000001';

function nodePath(): string {
  try {
    return realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}

/**
 * Run every check. Never throws for what it finds (that is the result); throws UsageError for bad
 * options and ResolveError for a host that does not resolve.
 */
export async function doctor(opts: DoctorOptions = {}): Promise<DoctorResult> {
  if (opts.family !== undefined && opts.family !== 4 && opts.family !== 6) throw new UsageError(`family must be 4 or 6, got ${String(opts.family)}`);
  opts.signal?.throwIfAborted();
  const resolved = opts.host !== undefined ? await resolveTarget(opts.host, opts.family) : null;
  opts.signal?.throwIfAborted();

  const uid = process.geteuid?.() ?? process.getuid?.() ?? -1;
  const gid = process.getegid?.() ?? process.getgid?.() ?? -1;
  const groups = [...new Set([gid, ...(process.getgroups?.() ?? [])])];
  const netns = currentNetns();
  const methods: Record<Family, MethodName[]> = { 4: availableMethods(4), 6: availableMethods(6) };

  // Independent reads, in parallel: the ruleset (child processes), the routes, the host's route.
  const [analysis, routes, host] = await Promise.all([
    readRulesets().then(analyseRulesets).catch((): FirewallAnalysis | null => null),
    scanRouteMtus({ signal: opts.signal }).catch((e: unknown) => (e instanceof PathMtuError ? e.message : String(e))),
    resolved
      ? lookupCache(resolved.address, { family: resolved.family, signal: opts.signal }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
      : Promise.resolve(null),
  ]);
  opts.signal?.throwIfAborted();

  // The route lookup for the host failing (rtnetlink refused, say) is reported, not thrown.
  const hostError = host instanceof Error ? `the route to ${resolved?.address} could not be read: ${host.message}` : undefined;
  const hostRoute: CacheLookup | null = host instanceof Error ? null : host;
  const v6 = ipv6Addresses();
  const checks: DoctorCheck[] = [
    rawSocketsCheck({ uid, capNetRaw: hasCap(effectiveCaps(), CAP_NET_RAW), methods, nodePath: nodePath() }),
    pingGroupCheck({ uid, range: readSysctl('net.ipv4.ping_group_range')?.replace(/\s+/g, ' '), groups, methods }),
    firewallCheck({ uid, analysis }),
    ipv6Check({
      uid,
      present: existsSync('/proc/sys/net/ipv6'),
      disableAll: readSysctl('net.ipv6.conf.all.disable_ipv6'),
      disableLo: readSysctl('net.ipv6.conf.lo.disable_ipv6'),
      loopback: v6?.some((a) => a.hex === LOOPBACK6 && a.device === 'lo') ?? false,
      needed: resolved?.family === 6,
    }),
    routeMtuCheck(
      typeof routes === 'string' || hostError !== undefined
        ? { uid, issues: [], routesWithMtu: 0, host: hostRoute, error: typeof routes === 'string' ? routes : hostError! }
        : { uid, issues: (routes as RouteScan).issues, routesWithMtu: (routes as RouteScan).routesWithMtu, host: hostRoute },
    ),
    ...(hostRoute ? [pmtuCacheCheck({ ...hostRoute, target: opts.host ?? hostRoute.target }, uid)] : []),
    pmtuDiscCheck(readSysctl('net.ipv4.ip_no_pmtu_disc'), uid),
    tcpMtuProbingCheck(readSysctl('net.ipv4.tcp_mtu_probing'), uid),
    methodsCheck(methods, resolved?.family ?? null),
  ];
  const problems = checks.filter((c) => c.status === 'problem').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  return {
    host: resolved ? { target: resolved.target, address: resolved.address, family: resolved.family } : null,
    user: { uid, gid, groups },
    netns,
    methods,
    checks,
    problems,
    warnings,
    ok: problems === 0,
  };
}
