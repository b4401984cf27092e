// What a lab looks like, as data: the spec a caller writes, and the plan (names, addresses, MTU
// truth) derived from it. Pure — no I/O — so the truth can be unit-tested without root.
//
// Topology: node 0 is the client, nodes 1..n the routers r1..rn, node n+1 the server. Link i joins
// node i (its "left" end, towards the client) and node i+1 (its "right" end, towards the server).
// Link i carries 198.18.i.0/24 (.1 left, .2 right) and 2001:db8:i::/64 (::1 left, ::2 right).
// A VXLAN overlay, when asked for, uses 198.19.0.0/24 and 2001:db8:ffff::/64.
import type { Family } from '../wire/facts.js';
import { LabError } from '../errors.js';

/** One link between neighbours. `mtu` sets both ends; `leftMtu`/`rightMtu` override one end. */
export interface LinkSpec {
  /** MTU of both ends (default 1500). */
  mtu?: number;
  /** MTU of the client-side end (default `mtu`). */
  leftMtu?: number;
  /** MTU of the server-side end (default `mtu`). Smaller than leftMtu = an L2 mismatch (silent drop). */
  rightMtu?: number;
}

/** Knobs every node has. ICMP rate limits stay at the kernel defaults unless set. */
export interface NodeSpec {
  /** net.ipv4.icmp_ratelimit and net.ipv6.icmp.ratelimit, in ms (0 = no per-destination limit). */
  icmpRateLimitMs?: number;
  /** net.ipv4.icmp_ratemask (bit per ICMP type that is rate-limited). */
  icmpRateMask?: number;
}

export interface RouterSpec extends NodeSpec {
  /**
   * Never send ICMP frag-needed / ICMPv6 packet-too-big: the classic PMTUD black hole. `4` or `6`
   * drops only that family's (a firewall written for IPv4 only, say).
   */
  dropPtb?: boolean | Family;
  /** Still forward, but never send time-exceeded (a "silent" hop in a trace). */
  noTimeExceeded?: boolean;
  /**
   * Lie: send a PTB claiming next-hop MTU `mtu` for every forwarded packet above `above` (default
   * `mtu`), and forward it all the same (a process in the router's namespace, see liar.ts).
   */
  liePtb?: PtbLie;
  /**
   * An RFC 792 router: its "fragmentation needed" / "packet too big" for packets too big for its
   * egress link carry next-hop MTU 0 (RFC 1191 §5). The kernel's own PTBs are dropped and a
   * process in the router (liar.ts, claiming MTU 0) sends these instead; it is still a drop.
   */
  ptbMtuZero?: boolean;
}

/** What a lying router claims, and for which packets. */
export interface PtbLie {
  /** The next-hop MTU to claim. */
  mtu: number;
  /** Lie about forwarded packets larger than this (default: `mtu`). */
  above?: number;
}

export interface ServerSpec extends NodeSpec {
  /** Drop incoming UDP, so probes get no port-unreachable. */
  dropUdp?: boolean;
  /** Drop incoming echo requests (v4 and v6). */
  dropEcho?: boolean;
  /** Refuse incoming echo requests with an ICMP "administratively prohibited" (a REJECT rule). */
  rejectEcho?: boolean;
  /** Drop all incoming ICMP (v6: all but neighbour discovery, which IPv6 cannot live without). */
  dropIcmpIn?: boolean;
  /** Drop incoming frag-needed / packet-too-big only. */
  blockPtbIn?: boolean;
}

export interface ClientSpec extends NodeSpec {}

/** A VXLAN tunnel between client and server, over the routed path as its underlay. */
export interface VxlanSpec {
  /** VXLAN network identifier (default 42). */
  vni?: number;
  /** Underlay family: the tunnel endpoints are the client's and server's v4 or v6 addresses (default 4). */
  underlay?: Family;
  /** MTU of the vxlan devices (default 1500, i.e. too big for a 1500 underlay — the classic mistake). */
  mtu?: number;
  /**
   * DF on the outer IPv4 packets (kernel default: unset, so routers fragment them). 'set' lets an
   * underlay router's PTB reach the tunnel endpoint — or, with dropPtb, makes a black hole.
   */
  df?: 'set' | 'unset' | 'inherit';
}

export interface PathSpec {
  routers: RouterSpec[];
  /** routers.length + 1 links, client side first; missing entries are 1500 on both ends. */
  links?: LinkSpec[];
  client?: ClientSpec;
  server?: ServerSpec;
  /** Open net.ipv4.ping_group_range in the client so unprivileged ICMP sockets work (default true). */
  clientPingGroup?: boolean;
  /** Add a VXLAN overlay between client and server. */
  vxlan?: VxlanSpec;
}

export const DEFAULT_MTU = 1500;

/** Does this router drop its own PTBs for this family? */
export function dropsPtb(r: RouterSpec | undefined, family: Family): boolean {
  return r?.dropPtb === true || r?.dropPtb === family;
}
/** A Linux veth accepts frames up to MTU + hard header (14) + one VLAN tag (4): 4 bytes of IP slack. */
export const VETH_RX_SLACK = 4;
export const MAX_ROUTERS = 200;
/** Outer IPv4 (20) or IPv6 (40) + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD: Record<Family, number> = { 4: 50, 6: 70 };
export const VXLAN_PORT = 4789;

export type Side = 'in' | 'out';

export interface LinkPlan {
  index: number;
  leftNode: string;
  rightNode: string;
  leftIf: string;
  rightIf: string;
  leftMtu: number;
  rightMtu: number;
}

export interface LabPlan {
  nodes: string[];
  links: LinkPlan[];
  routers: RouterSpec[];
}

export function routerName(index: number): string {
  return `r${index}`;
}

/** Validate a spec and lay out names, interfaces and MTUs. Throws LabError on nonsense. */
export function planLab(spec: PathSpec): LabPlan {
  const routers = spec.routers ?? [];
  if (!Array.isArray(routers) || routers.length > MAX_ROUTERS) {
    throw new LabError(`routers must be an array of at most ${MAX_ROUTERS} entries`);
  }
  const n = routers.length;
  if (spec.links !== undefined && spec.links.length !== n + 1) {
    throw new LabError(`a path with ${n} routers has ${n + 1} links, but links has ${spec.links.length}`);
  }
  routers.forEach((r, i) => {
    const lie = r?.liePtb;
    if (lie === undefined) return;
    const ok = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 68 && (v as number) <= 65535;
    if (!ok(lie.mtu) || (lie.above !== undefined && !ok(lie.above))) {
      throw new LabError(`router ${i + 1}: liePtb needs mtu (and above) from 68 to 65535`);
    }
  });
  const nodes = ['client', ...routers.map((_, i) => routerName(i + 1)), 'server'];
  const links: LinkPlan[] = [];
  for (let i = 0; i <= n; i++) {
    const l = spec.links?.[i] ?? {};
    const base = l.mtu ?? DEFAULT_MTU;
    const leftMtu = l.leftMtu ?? base;
    const rightMtu = l.rightMtu ?? base;
    for (const m of [leftMtu, rightMtu]) {
      if (!Number.isInteger(m) || m < 68 || m > 65535) throw new LabError(`link ${i}: MTU ${m} outside 68..65535`);
    }
    links.push({
      index: i,
      leftNode: nodes[i],
      rightNode: nodes[i + 1],
      // The client has one interface, eth0; routers have eth0 towards the client, eth1 towards the server.
      leftIf: i === 0 ? 'eth0' : 'eth1',
      rightIf: 'eth0',
      leftMtu,
      rightMtu,
    });
  }
  if (spec.vxlan) {
    const v = spec.vxlan;
    if (v.vni !== undefined && (!Number.isInteger(v.vni) || v.vni < 1 || v.vni > 0xffffff)) {
      throw new LabError(`vxlan vni ${v.vni} outside 1..16777215`);
    }
    if (v.underlay !== undefined && v.underlay !== 4 && v.underlay !== 6) throw new LabError('vxlan underlay must be 4 or 6');
  }
  return { nodes, links, routers };
}

/** Address of one end of link `link`: left = .1 / ::1, right = .2 / ::2. */
export function linkAddress(link: number, family: Family, end: 'left' | 'right'): string {
  const host = end === 'left' ? 1 : 2;
  return family === 4 ? `198.18.${link}.${host}` : `${v6Net(link)}${host}`;
}

export function linkPrefix(link: number, family: Family): string {
  return family === 4 ? `198.18.${link}.0/24` : `${v6Net(link)}/64`;
}

/** 2001:db8:<link>:: in canonical (RFC 5952) form, as tools print it: link 0 is 2001:db8::. */
function v6Net(link: number): string {
  return link === 0 ? '2001:db8::' : `2001:db8:${link.toString(16)}::`;
}

export function overlayAddress(family: Family, end: 'client' | 'server'): string {
  const host = end === 'client' ? 1 : 2;
  return family === 4 ? `198.19.0.${host}` : `2001:db8:ffff::${host}`;
}

export type Direction = 'forward' | 'reverse';

/**
 * Largest IP packet link `l` carries in a direction. The sender refuses anything above its own MTU
 * (locally, or with a PTB when it is a router); the receiving veth silently drops frames above its
 * MTU + 18, i.e. IP packets above MTU + 4.
 */
export function linkLimit(l: LinkPlan, direction: Direction): { limit: number; silent: boolean } {
  const [tx, rx] = direction === 'forward' ? [l.leftMtu, l.rightMtu] : [l.rightMtu, l.leftMtu];
  const rxLimit = rx + VETH_RX_SLACK;
  return tx <= rxLimit ? { limit: tx, silent: false } : { limit: rxLimit, silent: true };
}

/** The path MTU the kernel will really enforce, min over links (forward = client to server). */
export function pathMtu(plan: LabPlan, family: Family, direction: Direction = 'forward'): number {
  if (family === 6) {
    const low = plan.links.find((l) => Math.min(l.leftMtu, l.rightMtu) < 1280);
    // Linux disables IPv6 on an interface whose MTU is below 1280: no v6 path at all.
    if (low) throw new LabError(`link ${low.index} has an MTU below 1280, so IPv6 is disabled on it`);
  }
  return Math.min(...plan.links.map((l) => linkLimit(l, direction).limit));
}

/**
 * Index of the first link (client to server) whose limit is the path MTU, and whether that limit
 * is a silent L2 drop. The left node of that link is where a too-big packet stops.
 */
export function bottleneckLink(plan: LabPlan, family: Family): { link: number; silent: boolean } {
  const pmtu = pathMtu(plan, family);
  const i = plan.links.findIndex((l) => linkLimit(l, 'forward').limit === pmtu);
  return { link: i, silent: linkLimit(plan.links[i], 'forward').silent };
}

/**
 * Overlay truth, as observed on Linux 6.x (see test/lab/vxlan.test.ts). The vxlan driver checks
 * each inner packet against its underlay route's PMTU minus the encapsulation
 * (skb_tunnel_check_pmtu) and, when it is too big, lowers the inner route's PMTU and refuses it —
 * so a local sender learns the limit instead of losing packets. What the driver knows is the
 * local underlay MTU plus whatever PTBs reached it for the outer packets. Outer IPv4 packets
 * without DF (the driver's default) are fragmented by underlay routers, so a router's smaller MTU
 * costs nothing; outer IPv6 packets, or IPv4 with df set/inherit (DF pings set DF inside), draw a
 * PTB instead. A silent L2 drop, or a router that drops its PTBs, limits the overlay without
 * telling anyone: then `pmtu` < `kernel`, and inner packets between the two vanish.
 */
export function overlayLimits(plan: LabPlan, v: VxlanSpec): { pmtu: number; kernel: number } {
  const u: Family = v.underlay ?? 4;
  const overhead = VXLAN_OVERHEAD[u];
  const devMtu = v.mtu ?? DEFAULT_MTU;
  const outerDf = u === 6 || v.df === 'set' || v.df === 'inherit';
  let truth = Infinity;
  let known = Infinity;
  for (const l of plan.links) {
    const { limit, silent } = linkLimit(l, 'forward');
    const local = l.index === 0 && !silent;
    if (silent || outerDf || local) truth = Math.min(truth, limit);
    const tells = local || (!silent && outerDf && !dropsPtb(plan.routers[l.index - 1], u));
    if (tells) known = Math.min(known, limit);
  }
  return { pmtu: Math.min(devMtu, truth - overhead), kernel: Math.min(devMtu, known - overhead) };
}
