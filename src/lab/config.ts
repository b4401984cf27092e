// What each namespace gets: `ip` batch lines (links, addresses, routes), sysctls and nftables
// rules, derived from the plan. Pure text generation, so it can be read and unit-tested.
import type { Family } from '../wire/facts.js';
import {
  type LabPlan,
  type NodeSpec,
  type PathSpec,
  type RouterSpec,
  type ServerSpec,
  dropsPtb,
  linkAddress,
  linkPrefix,
  overlayAddress,
  VXLAN_PORT,
} from './spec.js';

const FAMILIES: Family[] = [4, 6];

/** Root-namespace batch: create every namespace, then every veth pair directly inside them. */
export function rootBatch(plan: LabPlan, ns: (node: string) => string): string[] {
  const lines = plan.nodes.map((node) => `netns add ${ns(node)}`);
  for (const l of plan.links) {
    // Created with a target netns on both ends: the kernel builds each end inside its namespace,
    // so no interface ever appears in the root namespace, not even for a moment.
    // Distinct ifindexes for the two ends matter: the kernel's linkwatch treats a carrier change
    // as urgent only when a device's ifindex differs from its peer's (iflink); otherwise it waits
    // up to a second, and IPv6 stays unusable ("link not ready") until then. In fresh namespaces
    // both ends would get index 2.
    lines.push(
      `link add ${l.leftIf} netns ${ns(l.leftNode)} index ${ifindex(l.index, 'left')} mtu ${l.leftMtu} type veth ` +
        `peer name ${l.rightIf} netns ${ns(l.rightNode)} index ${ifindex(l.index, 'right')} mtu ${l.rightMtu}`,
    );
  }
  return lines;
}

/** ifindex of one end of link i: unique inside each namespace and different from its peer's. */
export function ifindex(link: number, end: 'left' | 'right'): number {
  return 10 + 2 * link + (end === 'left' ? 0 : 1);
}

/** Interfaces of node k: its link towards the client (k-1) and towards the server (k). */
function nodeLinks(plan: LabPlan, k: number): Array<{ link: number; dev: string; end: 'left' | 'right' }> {
  const out: Array<{ link: number; dev: string; end: 'left' | 'right' }> = [];
  if (k > 0) out.push({ link: k - 1, dev: plan.links[k - 1].rightIf, end: 'right' });
  if (k < plan.nodes.length - 1) out.push({ link: k, dev: plan.links[k].leftIf, end: 'left' });
  return out;
}

export function nodeInterfaces(plan: LabPlan, k: number): string[] {
  return nodeLinks(plan, k).map((x) => x.dev);
}

/** Per-namespace batch (run with `ip -n <ns> -batch -`): addresses, link up, static routes. */
export function nodeBatch(plan: LabPlan, k: number, spec: PathSpec): string[] {
  const lines = ['link set lo up'];
  const last = plan.nodes.length - 1;
  for (const { link, dev, end } of nodeLinks(plan, k)) {
    for (const f of FAMILIES) {
      // nodad: usable at once instead of "tentative" for a second (accept_dad=0 is set as well).
      lines.push(`addr add ${linkAddress(link, f, end)}/${f === 4 ? 24 : 64} dev ${dev}${f === 6 ? ' nodad' : ''}`);
    }
    lines.push(`link set ${dev} up`);
  }
  for (const f of FAMILIES) {
    const towardsClient = k > 0 ? linkAddress(k - 1, f, 'left') : undefined;
    const towardsServer = k < last ? linkAddress(k, f, 'right') : undefined;
    if (k === 0 || k === last) {
      // End hosts: a default route into the path (lab links only, nothing else exists here).
      lines.push(`route add ${f === 4 ? '0.0.0.0/0' : '::/0'} via ${k === 0 ? towardsServer : towardsClient}`);
      continue;
    }
    // Routers: explicit routes to every link they are not on; no default route, so a stray
    // destination gets "unreachable" instead of going anywhere. The overlay (198.19/16) needs no
    // route here: it lives only inside the tunnel.
    for (let j = 0; j < plan.links.length; j++) {
      if (j === k - 1 || j === k) continue;
      lines.push(`route add ${linkPrefix(j, f)} via ${j < k ? towardsClient : towardsServer}`);
    }
  }
  if (spec.vxlan && (k === 0 || k === last)) lines.push(...vxlanLines(spec, k === 0 ? 'client' : 'server', plan));
  return lines;
}

function vxlanLines(spec: PathSpec, end: 'client' | 'server', plan: LabPlan): string[] {
  const v = spec.vxlan!;
  const uf: Family = v.underlay ?? 4;
  const last = plan.links.length - 1;
  const local = end === 'client' ? linkAddress(0, uf, 'left') : linkAddress(last, uf, 'right');
  const remote = end === 'client' ? linkAddress(last, uf, 'right') : linkAddress(0, uf, 'left');
  // No `dev`: with a lower device the kernel caps the vxlan MTU at lower MTU - overhead, and the
  // point of this overlay is the common misconfiguration of leaving it at 1500.
  const lines = [
    `link add vx0 type vxlan id ${v.vni ?? 42} local ${local} remote ${remote} dstport ${VXLAN_PORT}` +
      (v.df ? ` df ${v.df}` : ''),
    `link set vx0 mtu ${v.mtu ?? 1500} up`,
  ];
  for (const f of FAMILIES) {
    lines.push(`addr add ${overlayAddress(f, end)}/${f === 4 ? 24 : 64} dev vx0${f === 6 ? ' nodad' : ''}`);
  }
  return lines;
}

/** Sysctls of node k before its interfaces go up. */
export function nodeSysctls(plan: LabPlan, k: number, spec: PathSpec): Array<[string, string | number]> {
  const last = plan.nodes.length - 1;
  const isRouter = k > 0 && k < last;
  const devs = ['all', 'default', 'lo', ...nodeInterfaces(plan, k)];
  const s: Array<[string, string | number]> = [];
  for (const d of devs) {
    // rp_filter: the effective value is max(all, dev); both must be 0 for asymmetric test traffic.
    s.push([`net.ipv4.conf.${d}.rp_filter`, 0]);
    if (d !== 'lo') s.push([`net.ipv6.conf.${d}.accept_dad`, 0]);
  }
  if (isRouter) {
    s.push(['net.ipv4.ip_forward', 1], ['net.ipv6.conf.all.forwarding', 1]);
  }
  if (k === 0 && spec.clientPingGroup !== false) s.push(['net.ipv4.ping_group_range', '0 2147483647']);
  const node: NodeSpec | undefined = k === 0 ? spec.client : k === last ? spec.server : plan.routers[k - 1];
  if (node?.icmpRateLimitMs !== undefined) {
    s.push(['net.ipv4.icmp_ratelimit', node.icmpRateLimitMs], ['net.ipv6.icmp.ratelimit', node.icmpRateLimitMs]);
  }
  if (node?.icmpRateMask !== undefined) s.push(['net.ipv4.icmp_ratemask', node.icmpRateMask]);
  return s;
}

/** nftables ruleset for a router, or undefined when it needs none. */
export function routerRules(r: RouterSpec): string | undefined {
  const rules: string[] = [];
  // The ICMP errors the router itself originates pass its output hook.
  if (r.ptbMtuZero) {
    // The kernel's own PTBs go; the MTU-0 ones the router's liar process sends pass.
    rules.push('icmp type destination-unreachable icmp code 4 icmp mtu != 0 drop', 'icmpv6 type packet-too-big icmpv6 mtu != 0 drop');
  } else {
    if (dropsPtb(r, 4)) rules.push('icmp type destination-unreachable icmp code 4 drop');
    if (dropsPtb(r, 6)) rules.push('icmpv6 type packet-too-big drop');
  }
  if (r.noTimeExceeded) rules.push('icmp type time-exceeded drop', 'icmpv6 type time-exceeded drop');
  return rules.length ? table('output', rules) : undefined;
}

/** nftables ruleset for the server, or undefined when it needs none. */
export function serverRules(s: ServerSpec): string | undefined {
  const rules: string[] = [];
  if (s.dropUdp) rules.push('meta l4proto udp drop');
  if (s.dropEcho) rules.push('icmp type echo-request drop', 'icmpv6 type echo-request drop');
  if (s.rejectEcho) {
    rules.push('icmp type echo-request reject with icmp type admin-prohibited', 'icmpv6 type echo-request reject with icmpv6 type admin-prohibited');
  }
  if (s.blockPtbIn) rules.push('icmp type destination-unreachable icmp code 4 drop', 'icmpv6 type packet-too-big drop');
  if (s.dropIcmpIn) {
    rules.push(
      'meta l4proto icmp drop',
      // Without neighbour discovery IPv6 stops working altogether; everything else goes.
      'icmpv6 type != { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } drop',
    );
  }
  return rules.length ? table('input', rules) : undefined;
}

function table(hook: 'input' | 'output', rules: string[]): string {
  return [
    'table inet pmtu_lab {',
    `  chain ${hook} {`,
    `    type filter hook ${hook} priority 0; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
