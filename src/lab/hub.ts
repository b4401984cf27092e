// The hub lab: one client, thousands of targets with their own path MTUs (see hub-spec.ts for the
// shape and the truth). Built like the path lab — one `ip -batch` in the root namespace, one per
// node, nft in r2, sysctls written in-process — so 1,000 targets per family take well under a
// second of `ip` time. Namespaces are pmtu-<pid>-h<n>-<node>: torn down by destroy(), on exit,
// and by sweepStale() once the owner is dead.
//
//   const hub = await Hub.create({ targets: 1000 });
//   try {
//     for (const t of hub.targets(4)) … discover(t.address) inside hub.enter('client') … === t.pmtu
//   } finally { await hub.destroy(); }
import type { Family } from '../wire/facts.js';
import { LabError } from '../errors.js';
import { routerRules, ifindex } from './config.js';
import { HUB_LINKS, HUB_NODES, planHub, type HubNode, type HubPlan, type HubSpec, type HubTarget } from './hub-spec.js';
import { NamespaceGroup } from './group.js';
import { requireNft, requireRoot, waitOperUp, type Addresses } from './lab.js';
import { collect, ipBatch, spawnIn, sweepStale, writeSysctls } from './netns.js';
import { linkAddress, type NodeSpec } from './spec.js';

const FAMILIES: Family[] = [4, 6];
const plen = (f: Family): number => (f === 4 ? 24 : 64);
const host = (f: Family): number => (f === 4 ? 32 : 128);
const nodad = (f: Family): string => (f === 6 ? ' nodad' : '');

/** Interfaces of a node: [device, link, end]. */
function interfaces(node: HubNode): Array<[string, number, 'left' | 'right']> {
  const out: Array<[string, number, 'left' | 'right']> = [];
  HUB_LINKS.forEach(([l, lIf, r, rIf], i) => {
    if (l === node) out.push([lIf, i, 'left']);
    if (r === node) out.push([rIf, i, 'right']);
  });
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Root-namespace batch: the four namespaces and the veth pairs created directly inside them. */
export function hubRootBatch(ns: (node: HubNode) => string): string[] {
  const lines = HUB_NODES.map((n) => `netns add ${ns(n)}`);
  HUB_LINKS.forEach(([l, lIf, r, rIf], i) => {
    // Distinct ifindexes per end, as in config.ts rootBatch: linkwatch then brings carriers up at once.
    lines.push(
      `link add ${lIf} netns ${ns(l)} index ${ifindex(i, 'left')} type veth peer name ${rIf} netns ${ns(r)} index ${ifindex(i, 'right')}`,
    );
  });
  return lines;
}

/**
 * One node's batch (run with `ip -n <ns> -batch -`). Forwarding honours a route's `mtu` metric
 * (v4 and v6; checked in test/lab/hub.test.ts). It is locked so that no PMTU the router might
 * learn later changes it: the route stays the truth the API states.
 */
export function hubNodeBatch(plan: HubPlan, node: HubNode): string[] {
  const lines = ['link set lo up'];
  for (const [dev, link, end] of interfaces(node)) {
    for (const f of FAMILIES) lines.push(`addr add ${linkAddress(link, f, end)}/${plen(f)} dev ${dev}${nodad(f)}`);
    lines.push(`link set ${dev} up`);
  }
  for (const f of FAMILIES) {
    const targets = plan.targets[f];
    if (node === 'client') lines.push(`route add default via ${linkAddress(0, f, 'right')}`);
    if (node === 'r1') {
      for (const t of targets) {
        const via = t.blackHole ? linkAddress(2, f, 'right') : linkAddress(1, f, 'right');
        lines.push(`route add ${t.address}/${host(f)} via ${via} mtu lock ${t.r1Mtu}`);
      }
    }
    if (node === 'r2') {
      lines.push(`route add default via ${linkAddress(2, f, 'left')}`);
      for (const t of targets) {
        if (t.blackHole) lines.push(`route add ${t.address}/${host(f)} via ${linkAddress(3, f, 'right')} mtu lock ${t.r2Mtu}`);
      }
    }
    if (node === 'targets') {
      // Replies (echo replies, port unreachables, RSTs) go straight back through r1: 1500 all the way.
      lines.push(`route add default via ${linkAddress(1, f, 'left')}`);
      for (const t of targets) lines.push(`addr add ${t.address}/${host(f)} dev lo`);
    }
  }
  return lines;
}

function rateLimits(n: NodeSpec | undefined): Array<[string, number]> {
  const s: Array<[string, number]> = [];
  if (n?.icmpRateLimitMs !== undefined) s.push(['net.ipv4.icmp_ratelimit', n.icmpRateLimitMs], ['net.ipv6.icmp.ratelimit', n.icmpRateLimitMs]);
  if (n?.icmpRateMask !== undefined) s.push(['net.ipv4.icmp_ratemask', n.icmpRateMask]);
  return s;
}

export function hubSysctls(spec: HubSpec, node: HubNode): Array<[string, string | number]> {
  const s: Array<[string, string | number]> = [];
  for (const d of ['all', 'default', 'lo', ...interfaces(node).map(([dev]) => dev)]) {
    s.push([`net.ipv4.conf.${d}.rp_filter`, 0]);
    if (d !== 'lo') s.push([`net.ipv6.conf.${d}.accept_dad`, 0]);
  }
  if (node === 'r1' || node === 'r2') s.push(['net.ipv4.ip_forward', 1], ['net.ipv6.conf.all.forwarding', 1], ...rateLimits(spec.routers));
  if (node === 'client') s.push(['net.ipv4.ping_group_range', '0 2147483647']);
  if (node === 'targets') s.push(...rateLimits(spec.targetHost));
  return s;
}

let nextHubId = 0;

export class Hub extends NamespaceGroup {
  readonly spec: HubSpec;
  readonly client: Addresses;
  /** Wall time of create(), in ms (namespaces, links, routes, addresses, rules). */
  buildMs = 0;
  private readonly plan: HubPlan;
  private readonly byAddress = new Map<string, HubTarget>();

  private constructor(plan: HubPlan, id: string) {
    super(id, [...HUB_NODES]);
    this.plan = plan;
    this.spec = plan.spec;
    this.client = { v4: linkAddress(0, 4, 'left'), v6: linkAddress(0, 6, 'left') };
    for (const f of FAMILIES) for (const t of plan.targets[f]) this.byAddress.set(t.address, t);
  }

  /** Build the hub. Throws LabError with the reason when not root, a tool is missing or the kernel refuses. */
  static async create(spec: HubSpec = {}): Promise<Hub> {
    const started = performance.now();
    requireRoot();
    const plan = planHub(spec);
    const r2Rules = routerRules({ dropPtb: true })!;
    requireNft();
    await sweepStale();
    const hub = new Hub(plan, `h${(nextHubId++).toString(36)}`);
    hub.track();
    try {
      await ipBatch(hubRootBatch((n) => hub.nsName(n)));
      for (const n of HUB_NODES) writeSysctls(hub.nsName(n), hubSysctls(spec, n));
      await Promise.all(HUB_NODES.map((n) => ipBatch(hubNodeBatch(plan, n), { netns: hub.nsName(n) })));
      await Promise.all(HUB_NODES.map((n) => waitOperUp(hub.nsName(n), interfaces(n).map(([dev]) => dev))));
      const r = await collect(spawnIn(hub.nsName('r2'), ['nft', '-f', '-']), r2Rules);
      if (r.code !== 0) throw new LabError(`nft in r2 failed: ${r.stderr.trim()}`);
    } catch (e) {
      await hub.destroy();
      throw e instanceof LabError ? e : new LabError(`cannot build the hub: ${(e as Error).message}`, { cause: e });
    }
    hub.buildMs = performance.now() - started;
    return hub;
  }

  /** Every target of a family (both families, v4 first, when none is given), in address order. */
  targets(family?: Family): readonly HubTarget[] {
    return family === undefined ? [...this.plan.targets[4], ...this.plan.targets[6]] : this.plan.targets[family];
  }

  /** The target at this address (IPv6 in any spelling). Throws LabError for an address not in the hub. */
  target(address: string): HubTarget {
    const t = this.byAddress.get(address) ?? (address.includes(':') ? this.byAddress.get(canonicalV6(address)) : undefined);
    if (!t) throw new LabError(`${address} is not a target of this hub`);
    return t;
  }

  /** The path MTU from the client to a target (forward; the round trip is the same here). */
  expectedPmtu(address: string): number {
    return this.target(address).pmtu;
  }

  /** A router's address: 'in' faces the client (r1) or r1 (r2); 'out' faces the targets. */
  routerAddress(router: 'r1' | 'r2', family: Family, side: 'in' | 'out' = 'in'): string {
    if (router === 'r1') return side === 'in' ? linkAddress(0, family, 'right') : linkAddress(1, family, 'left');
    return side === 'in' ? linkAddress(2, family, 'right') : linkAddress(3, family, 'left');
  }
}

/** RFC 5952 form of an IPv6 address (the WHATWG URL parser writes it so), or the input if it is not one. */
function canonicalV6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}
