// The lab: a linear path client -> r1..rn -> server of real Linux network stacks, one network
// namespace each, joined by veth pairs. Built in a handful of process spawns (one `ip -batch` in
// the root namespace, one per node, nft only where a node needs rules; sysctls written in-process).
//
//   const lab = await Lab.create({ routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] });
//   try { await lab.exec('client', ['ping', '-M', 'do', '-s', '1372', lab.server.v4]); }
//   finally { await lab.destroy(); }
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import type { Family } from '../wire/facts.js';
import { LabError } from '../errors.js';
import {
  type Direction,
  type LabPlan,
  type PathSpec,
  type Side,
  bottleneckLink,
  dropsPtb,
  linkAddress,
  overlayAddress,
  pathMtu,
  planLab,
  overlayLimits,
} from './spec.js';
import { nodeBatch, nodeInterfaces, nodeSysctls, rootBatch, routerRules, serverRules } from './config.js';
import { startLiar, type Lie, type LiarProcess } from './liar.js';
import { NamespaceGroup } from './group.js';
import { collect, ipBatch, NETNS_DIR, spawnIn, sweepStale, writeSysctls } from './netns.js';

export type { ExecOptions } from './group.js';

export interface Addresses {
  v4: string;
  v6: string;
}

export interface Overlay {
  device: string;
  vni: number;
  underlay: Family;
  client: Addresses;
  server: Addresses;
}

function which(tool: string): boolean {
  const r = spawnSync(tool, ['-V'], { stdio: 'ignore' });
  return r.error === undefined;
}

/** Can this process build labs? For tests' skip logic; reason says what is missing. */
export function canRunLab(): { ok: boolean; reason?: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'the lab needs Linux network namespaces' };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'the lab needs root (network namespaces, veth); run the tests with sudo or as root' };
  }
  if (!which('ip')) return { ok: false, reason: 'the lab needs `ip` from iproute2 (apt-get install -y iproute2)' };
  try {
    mkdirSync(NETNS_DIR, { recursive: true });
    accessSync(NETNS_DIR, fsConstants.W_OK);
  } catch (e) {
    return { ok: false, reason: `cannot write ${NETNS_DIR}: ${(e as Error).message}` };
  }
  return { ok: true };
}

/** Throw LabError unless canRunLab(). */
export function requireRoot(): void {
  const r = canRunLab();
  if (!r.ok) throw new LabError(r.reason!);
}

let nftChecked: boolean | undefined;
export function requireNft(): void {
  nftChecked ??= which('nft');
  if (!nftChecked) throw new LabError('this lab spec needs nftables rules, but `nft` is missing (apt-get install -y nftables)');
}

/**
 * Wait until the kernel has carried each device's carrier change through linkwatch (operstate
 * UP): only then is its qdisc active and IPv6 "ready" on it. Usually already true at the first look.
 */
export async function waitOperUp(ns: string, devs: string[], deadlineMs = 3000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await collect(spawn('ip', ['-n', ns, '-o', 'link', 'show'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const down = devs.filter((d) => !new RegExp(`^\\d+: ${d}[@:].* state UP `, 'm').test(r.stdout));
    if (down.length === 0) return;
    if (Date.now() > until) throw new LabError(`${ns}: ${down.join(', ')} did not come up: ${r.stdout}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

let nextLabId = 0;

export class Lab extends NamespaceGroup {
  readonly client: Addresses;
  readonly server: Addresses;
  /** The VXLAN tunnel between client and server, when the spec asked for one. */
  readonly overlay: Overlay | undefined;
  readonly spec: PathSpec;
  private readonly plan: LabPlan;
  private readonly liars = new Map<number, LiarProcess>();

  private constructor(spec: PathSpec, plan: LabPlan, id: string) {
    // nodes: 'client', 'r1', …, 'rn', 'server'.
    super(id, plan.nodes);
    this.spec = spec;
    this.plan = plan;
    this.client = { v4: this.address('client', 4), v6: this.address('client', 6) };
    this.server = { v4: this.address('server', 4), v6: this.address('server', 6) };
    this.overlay = spec.vxlan
      ? {
          device: 'vx0',
          vni: spec.vxlan.vni ?? 42,
          underlay: spec.vxlan.underlay ?? 4,
          client: { v4: overlayAddress(4, 'client'), v6: overlayAddress(6, 'client') },
          server: { v4: overlayAddress(4, 'server'), v6: overlayAddress(6, 'server') },
        }
      : undefined;
  }

  /** Build the path. Throws LabError with the reason when not root, a tool is missing or the kernel refuses. */
  static async create(spec: PathSpec): Promise<Lab> {
    requireRoot();
    const plan = planLab(spec);
    const rules = plan.nodes.map((_, k) =>
      k === 0 ? undefined : k === plan.nodes.length - 1 ? serverRules(spec.server ?? {}) : routerRules(plan.routers[k - 1]),
    );
    if (rules.some((r) => r !== undefined)) requireNft();
    await sweepStale();
    const lab = new Lab(spec, plan, (nextLabId++).toString(36));
    lab.track();
    try {
      await ipBatch(rootBatch(plan, (n) => lab.nsName(n)));
      plan.nodes.forEach((node, k) => writeSysctls(lab.nsName(node), nodeSysctls(plan, k, spec)));
      await Promise.all(plan.nodes.map((node, k) => ipBatch(nodeBatch(plan, k, spec), { netns: lab.nsName(node) })));
      await Promise.all(plan.nodes.map((node, k) => waitOperUp(lab.nsName(node), nodeInterfaces(plan, k))));
      await Promise.all(
        plan.nodes.map(async (node, k) => {
          if (rules[k] === undefined) return;
          const r = await collect(spawnIn(lab.nsName(node), ['nft', '-f', '-']), rules[k]);
          if (r.code !== 0) throw new LabError(`nft in ${node} failed: ${r.stderr.trim()}`);
        }),
      );
      // Lying routers last: their processes watch interfaces that must exist and be up.
      await Promise.all(
        plan.routers.map(async (r, i) => {
          if (r.liePtb) lab.liars.set(i + 1, await startLiar(lab, i + 1, r.liePtb));
          // An RFC 792 router: MTU 0 for whatever its egress link (link i + 1) cannot carry.
          else if (r.ptbMtuZero) lab.liars.set(i + 1, await startLiar(lab, i + 1, { mtu: 0, above: plan.links[i + 1]!.leftMtu }));
        }),
      );
    } catch (e) {
      await lab.destroy();
      throw e instanceof LabError ? e : new LabError(`cannot build the lab: ${(e as Error).message}`, { cause: e });
    }
    return lab;
  }

  private nodeIndex(node: string): number {
    const k = this.plan.nodes.indexOf(node);
    if (k < 0) throw new LabError(`no node ${node} in this lab (nodes: ${this.plan.nodes.join(', ')})`);
    return k;
  }

  /**
   * A node's address. Client and server have one per family; a router has one per link it sits
   * on — `link` picks it (default: its client-side link, the address its ICMP errors come from).
   */
  address(node: string, family: Family, link?: number): string {
    const k = this.nodeIndex(node);
    const last = this.plan.nodes.length - 1;
    const onLeft = k > 0 ? k - 1 : undefined; // link where this node is the right end
    const onRight = k < last ? k : undefined; // link where this node is the left end
    const l = link ?? onLeft ?? onRight!;
    if (l === onLeft) return linkAddress(l, family, 'right');
    if (l === onRight) return linkAddress(l, family, 'left');
    throw new LabError(`${node} is not on link ${link}`);
  }

  /** Router `index` (1-based): 'in' faces the client, 'out' faces the server. */
  routerAddress(index: number, family: Family, side: Side): string {
    if (!Number.isInteger(index) || index < 1 || index > this.plan.routers.length) {
      throw new LabError(`no router ${index} (this lab has ${this.plan.routers.length})`);
    }
    return side === 'in' ? linkAddress(index - 1, family, 'right') : linkAddress(index, family, 'left');
  }

  /**
   * The path MTU the kernel really enforces between client and server (forward: client to
   * server; reverse: server to client), from the spec and the veth rule (a receiving veth takes
   * IP packets up to its MTU + 4). For the overlay, the largest inner packet that gets through
   * the tunnel whole (see overlayPmtu).
   */
  expectedPmtu(family: Family, direction: Direction = 'forward'): number {
    return pathMtu(this.plan, family, direction);
  }

  /**
   * Largest overlay (inner) IP packet that reaches the server whole, once the kernel has learned
   * what it can (the first oversized packet may be lost while it learns). See overlayLimits.
   */
  overlayPmtu(): number {
    return this.overlayTruth().pmtu;
  }

  /**
   * The inner PMTU the client's kernel settles on (what `ip route get` shows on the overlay).
   * Larger than overlayPmtu() exactly when the overlay is a black hole: packets in between vanish.
   */
  overlayKernelPmtu(): number {
    return this.overlayTruth().kernel;
  }

  private overlayTruth(): { pmtu: number; kernel: number } {
    if (!this.spec.vxlan) throw new LabError('this lab has no VXLAN overlay');
    return overlayLimits(this.plan, this.spec.vxlan);
  }

  /**
   * Address of the router expected to answer a packet of expectedPmtu+1 bytes with a PTB (its
   * client-side address); undefined when nobody will: the client's own interface is the limit,
   * the limit is a silent L2 drop, or that router drops its PTBs.
   */
  bottleneckRouter(family: Family): string | undefined {
    const { link, silent } = bottleneckLink(this.plan, family);
    if (silent || link === 0 || dropsPtb(this.plan.routers[link - 1], family)) return undefined;
    return this.routerAddress(link, family, 'in');
  }

  /** The lies router `index` (1-based) has told, when its spec has liePtb (or ptbMtuZero: its MTU-0 PTBs). */
  lies(index: number): readonly Lie[] {
    const l = this.liars.get(index);
    if (!l) throw new LabError(`router ${index} does not lie (no liePtb or ptbMtuZero in its spec)`);
    return l.lies;
  }

}

export { sweepStale };
