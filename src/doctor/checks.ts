// The checks, one function each: facts in, a DoctorCheck out (status, what was found, why it
// matters, the exact commands that fix it). The facts are read by doctor.ts in the process's own
// network namespace; sysctl fixes therefore apply to that namespace.
import type { CacheLookup } from '../cache/index.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';
import { describeFate, fixFor, type FirewallAnalysis } from './firewall.js';
import type { ChainFate } from './firewall-model.js';
import type { DoctorCheck } from './types.js';

/** `sudo ` for a user who is not root, so a fix can be pasted as is. */
export function sudo(uid: number): string {
  return uid === 0 ? '' : 'sudo ';
}

/** The sysctl command that fixes it now (in this network namespace). */
function sysctlFix(uid: number, key: string, value: string): string[] {
  return [`${sudo(uid)}sysctl -w ${key}=${/\s/.test(value) ? `"${value}"` : value}`];
}

/** How to keep a sysctl after a reboot (a note, not a fix: it writes a host-wide file). */
function persistNote(uid: number, key: string, value: string): string {
  return `to keep it after a reboot: echo '${key} = ${value}' | ${sudo(uid)}tee -a /etc/sysctl.d/60-pathmtu.conf`;
}

export interface RawFacts {
  uid: number;
  capNetRaw: boolean | undefined;
  /** Methods that opened, per family. */
  methods: Record<Family, MethodName[]>;
  /** realpath of the node binary, for setcap. */
  nodePath: string;
}

export function rawSocketsCheck(f: RawFacts): DoctorCheck {
  const raw = f.methods[4].includes('icmp') || f.methods[6].includes('icmp');
  const data = { capNetRaw: f.capNetRaw ?? null, rawSocketOpens: raw };
  const title = 'raw sockets (CAP_NET_RAW)';
  if (raw) {
    return { id: 'raw-sockets', status: 'ok', title, summary: 'raw sockets open: the icmp and tcp methods are available', details: [], fixes: [], data };
  }
  if (f.capNetRaw === true) {
    return {
      id: 'raw-sockets',
      status: 'problem',
      title,
      summary: 'CAP_NET_RAW is in effect, yet a raw socket was refused',
      details: ['a security module (seccomp, SELinux, AppArmor) or a container runtime forbids raw sockets to this process'],
      fixes: [],
      data,
    };
  }
  return {
    id: 'raw-sockets',
    status: 'warn',
    title,
    summary: 'no CAP_NET_RAW: the icmp and tcp methods are unavailable (udp, and icmp-dgram where allowed, still work)',
    details: [
      'raw ICMP echo (round trip, echo replies are not rate-limited) and TCP SYN probes need raw sockets',
      `allowing it on the node binary allows it to every node program run by anyone: prefer running pathmtu as root where that matters`,
    ],
    fixes: [`${sudo(f.uid)}setcap cap_net_raw+ep ${/^[\w./+-]+$/.test(f.nodePath) ? f.nodePath : `'${f.nodePath.replaceAll("'", "'\\''")}'`}`],
    data,
  };
}

export interface PingGroupFacts {
  uid: number;
  /** net.ipv4.ping_group_range, undefined when unreadable. */
  range: string | undefined;
  groups: number[];
  methods: Record<Family, MethodName[]>;
}

export function pingGroupCheck(f: PingGroupFacts): DoctorCheck {
  const title = 'ping sockets (net.ipv4.ping_group_range)';
  const [lo, hi] = (f.range ?? '').split(/\s+/).map(Number);
  const inRange = lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi) ? f.groups.filter((g) => lo <= g && g <= hi) : [];
  const dgram = f.methods[4].includes('icmp-dgram') || f.methods[6].includes('icmp-dgram');
  const raw = f.methods[4].includes('icmp') || f.methods[6].includes('icmp');
  const data = { range: f.range ?? null, groups: f.groups, groupsInRange: inRange, pingSocketOpens: dgram };
  const fixes = sysctlFix(f.uid, 'net.ipv4.ping_group_range', '0 2147483647');
  if (dgram) {
    return { id: 'ping-group', status: 'ok', title, summary: `ping sockets open: group ${inRange[0] ?? f.groups[0]} is in the range ${f.range}`, details: [], fixes: [], data };
  }
  const excludes = `the range "${f.range ?? '?'}" excludes all of your groups (${f.groups.join(', ')})`;
  if (raw) {
    return {
      id: 'ping-group',
      status: 'ok',
      title,
      summary: `${excludes}; not needed here: raw sockets cover ICMP`,
      details: [],
      fixes: [],
      data,
    };
  }
  return {
    id: 'ping-group',
    status: 'problem',
    title,
    summary: inRange.length > 0 ? `a group of yours is in "${f.range}", yet a ping socket was refused` : `${excludes}: no ICMP method is left (only udp)`,
    details: [
      'unprivileged ICMP ("ping") sockets give the icmp-dgram method, a round-trip measurement without root',
      'the same sysctl covers IPv6 ping sockets; "0 2147483647" (every group) is what systemd sets by default; a narrower range can name just your group',
      'the sysctl belongs to this network namespace',
      persistNote(f.uid, 'net.ipv4.ping_group_range', '0 2147483647'),
    ],
    fixes,
    data,
  };
}

export interface FirewallFacts {
  uid: number;
  analysis: FirewallAnalysis | null;
}

export function firewallCheck(f: FirewallFacts): DoctorCheck {
  const title = 'local firewall lets "fragmentation needed" / "packet too big" in';
  const a = f.analysis;
  if (a === null || (a.read.length === 0 && a.unread.length > 0)) {
    return {
      id: 'firewall',
      status: 'warn',
      title,
      summary: 'the ruleset could not be read',
      details: [...(a?.unread ?? []), ...(f.uid === 0 ? [] : ['run doctor as root to check the rules: sudo pathmtu doctor'])],
      fixes: [],
      data: { read: a?.read ?? [], unread: a?.unread ?? [] },
    };
  }
  const bad = (fates: ChainFate[]): ChainFate[] => fates.filter((x) => x.fate !== 'accept');
  const v4 = bad(a.v4);
  const v6 = bad(a.v6);
  const data = { read: a.read, unread: a.unread, ipv4: a.v4, ipv6: a.v6 };
  const chains = a.v4.length + a.v6.length;
  if (v4.length === 0 && v6.length === 0) {
    const what = a.read.length === 0 ? 'no nft or iptables tool found: no ruleset to check' : chains === 0 ? `no input chain (read: ${a.read.join(', ')})` : `every input chain accepts them (read: ${a.read.join(', ')})`;
    return { id: 'firewall', status: a.unread.length > 0 ? 'warn' : 'ok', title, summary: what, details: a.unread, fixes: [], data };
  }
  const certain = [...v4, ...v6].some((x) => x.fate === 'drop');
  const details: string[] = [];
  const fixes: string[] = [];
  for (const [fam, list] of [[4, v4], [6, v6]] as const) {
    for (const x of list) {
      const what = fam === 4 ? 'IPv4 frag-needed (ICMP type 3 code 4)' : 'IPv6 packet-too-big (ICMPv6 type 2)';
      details.push(`${what} ${x.fate === 'drop' ? 'dropped' : 'may be dropped'} by ${describeFate(x)}`);
      if (x.fate === 'maybe-drop' && x.conditions.length > 0) details.push(`  depends on: ${x.conditions.slice(0, 3).join('; ')}`);
      fixes.push(`${sudo(f.uid)}${fixFor(x, fam)}`);
    }
  }
  details.push(
    'this host is then its own PMTUD black hole: routers report the smaller MTU, the report is thrown away on arrival, and TCP stalls on every narrower path',
    'the fix inserts an accept at the top of the chain; add it to your firewall configuration (nftables.conf, ufw, firewalld) to keep it',
  );
  const said = (name: string, list: ChainFate[]): string => (list.length === 0 ? '' : `${name} ${list.some((x) => x.fate === 'drop') ? 'is dropped' : 'may be dropped'}`);
  const families = [said('IPv4 frag-needed', v4), said('IPv6 packet-too-big', v6)].filter(Boolean).join(', ');
  return {
    id: 'firewall',
    status: certain ? 'problem' : 'warn',
    title,
    summary: `${families} on input`,
    details,
    fixes: [...new Set(fixes)],
    data,
  };
}

export interface Ipv6Facts {
  uid: number;
  /** /proc/sys/net/ipv6 exists (false: ipv6.disable=1 at boot). */
  present: boolean;
  disableAll: string | undefined;
  disableLo: string | undefined;
  loopback: boolean;
  /** The target is IPv6: then IPv6 missing is a problem, not a remark. */
  needed: boolean;
}

export function ipv6Check(f: Ipv6Facts): DoctorCheck {
  const title = 'IPv6';
  const bad = f.needed ? 'problem' : 'warn';
  const data = { present: f.present, disableAll: f.disableAll ?? null, disableLo: f.disableLo ?? null, loopback: f.loopback };
  if (!f.present) {
    return {
      id: 'ipv6',
      status: bad,
      title,
      summary: 'IPv6 is disabled in the kernel (booted with ipv6.disable=1): no IPv6 path can be checked',
      details: ['to enable it: remove ipv6.disable=1 from the kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub), update-grub, reboot'],
      fixes: [],
      data,
    };
  }
  if (f.disableAll === '1') {
    return {
      id: 'ipv6',
      status: bad,
      title,
      summary: 'IPv6 is disabled on every interface (net.ipv6.conf.all.disable_ipv6 = 1)',
      details: ['IPv6 paths cannot be probed from here'],
      fixes: [...sysctlFix(f.uid, 'net.ipv6.conf.all.disable_ipv6', '0'), ...sysctlFix(f.uid, 'net.ipv6.conf.default.disable_ipv6', '0')],
      data,
    };
  }
  if (!f.loopback) {
    return {
      id: 'ipv6',
      status: bad,
      title,
      summary: f.disableLo === '1' ? 'IPv6 is disabled on lo (net.ipv6.conf.lo.disable_ipv6 = 1): no ::1' : 'no ::1 on lo (lo down, or its address removed)',
      details: ['IPv6 loopback is missing: local IPv6 services and tests against ::1 fail'],
      fixes: f.disableLo === '1' ? sysctlFix(f.uid, 'net.ipv6.conf.lo.disable_ipv6', '0') : [`${sudo(f.uid)}ip link set lo up`, `${sudo(f.uid)}ip -6 addr add ::1/128 dev lo`],
      data,
    };
  }
  return { id: 'ipv6', status: 'ok', title, summary: 'enabled, ::1 on lo', details: [], fixes: [], data };
}

export interface RouteMtuIssue {
  family: Family;
  destination: string;
  via: string | null;
  device: string;
  table: number;
  priority: number | null;
  routeMtu: number;
  deviceMtu: number;
}

const TABLE_NAMES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };

export function routeChangeCommand(r: RouteMtuIssue, uid: number): string {
  const parts = [`${sudo(uid)}ip`, ...(r.family === 6 ? ['-6'] : []), 'route', 'change', r.destination];
  if (r.via) parts.push('via', r.via);
  parts.push('dev', r.device);
  if (r.table !== 254) parts.push('table', TABLE_NAMES[r.table] ?? String(r.table));
  if (r.priority !== null) parts.push('metric', String(r.priority));
  parts.push('mtu', String(r.deviceMtu));
  return parts.join(' ');
}

export interface RouteMtuFacts {
  uid: number;
  issues: RouteMtuIssue[];
  routesWithMtu: number;
  /** With a host: the route to it. */
  host: CacheLookup | null;
  error?: string;
}

export function routeMtuCheck(f: RouteMtuFacts): DoctorCheck {
  const title = 'route and interface MTUs agree';
  const data: Record<string, unknown> = { routesWithMtu: f.routesWithMtu, issues: f.issues };
  if (f.host) data.host = { destination: f.host.destination, device: f.host.device, deviceMtu: f.host.deviceMtu, routeMtu: f.host.routeMtu, via: f.host.via };
  if (f.error !== undefined) {
    return { id: 'route-mtu', status: 'warn', title, summary: `the routes could not be read: ${f.error}`, details: [], fixes: [], data };
  }
  const details: string[] = [];
  const fixes: string[] = [];
  for (const r of f.issues) {
    details.push(
      `${r.family === 6 ? 'IPv6 ' : ''}route ${r.destination}${r.via ? ` via ${r.via}` : ''} dev ${r.device} has mtu ${r.routeMtu}, above ${r.device}'s MTU ${r.deviceMtu}: ` +
        `the stack sizes packets (and TCP's MSS) for ${r.routeMtu}, the interface cannot send them`,
    );
    fixes.push(routeChangeCommand(r, f.uid));
  }
  let hostNote: string | undefined;
  if (f.host) {
    const h = f.host;
    if (h.device === null) {
      details.push(`no route to ${h.destination}`);
      return { id: 'route-mtu', status: 'problem', title, summary: `no route to ${h.target}`, details, fixes, data };
    }
    hostNote = `route to ${h.destination}: dev ${h.device}, MTU ${h.deviceMtu ?? '?'}${h.routeMtu !== null ? `, route mtu ${h.routeMtu}` : ''}`;
  }
  if (f.issues.length === 0) {
    const summary = `${f.routesWithMtu === 0 ? 'no route sets its own mtu' : `${f.routesWithMtu} route${f.routesWithMtu === 1 ? '' : 's'} with an mtu, none above its interface's`}${hostNote ? `; ${hostNote}` : ''}`;
    return { id: 'route-mtu', status: 'ok', title, summary, details: [], fixes: [], data };
  }
  details.push("or, if the link really carries the larger packets, raise the interface's MTU instead: ip link set dev <device> mtu <the route's mtu>");
  const hostHit = f.host !== null && f.issues.some((r) => r.device === f.host!.device && r.routeMtu === f.host!.routeMtu);
  return {
    id: 'route-mtu',
    status: 'problem',
    title,
    summary: `${f.issues.length} route${f.issues.length === 1 ? '' : 's'} with an mtu above the interface's MTU${hostHit ? ` (the route to ${f.host!.target} is one)` : ''}`,
    details: hostNote ? [...details, hostNote] : details,
    fixes,
    data,
  };
}

export function pmtuCacheCheck(h: CacheLookup, uid: number): DoctorCheck {
  const title = `kernel PMTU cache for ${h.target}`;
  const base = h.routeMtu ?? h.deviceMtu;
  const data = { destination: h.destination, cached: h.cached, mtu: h.mtu, expiresSec: h.expiresSec, deviceMtu: h.deviceMtu, routeMtu: h.routeMtu, socketMtu: h.socketMtu };
  if (!h.cached) {
    return { id: 'pmtu-cache', status: 'ok', title, summary: `nothing cached: the kernel uses ${base ?? 'the route\'s MTU'}`, details: [], fixes: [], data };
  }
  const lowered = base === null || (h.mtu ?? 0) < base;
  return {
    id: 'pmtu-cache',
    status: lowered ? 'warn' : 'ok',
    title,
    summary: `cached path MTU ${h.mtu} (expires in ${h.expiresSec} s)${base !== null ? `, below ${h.device}'s ${base}` : ''}`,
    details: [
      'a router said "too big" (or someone forged it): every socket to this host uses the smaller size until the entry expires',
      'pathmtu discover ignores the cache (it probes in PROBE mode); flush it if the value is stale or forged',
      ...(h.family === 4 ? ['Linux cannot forget one IPv4 entry: the flush empties the whole IPv4 cache'] : []),
    ],
    fixes: [h.family === 6 ? `${sudo(uid)}ip -6 route flush cache ${h.destination}` : `${sudo(uid)}ip route flush cache`],
    data,
  };
}

export function pmtuDiscCheck(value: string | undefined, uid: number): DoctorCheck {
  const title = 'path MTU discovery on (net.ipv4.ip_no_pmtu_disc)';
  const data = { ip_no_pmtu_disc: value ?? null };
  if (value === undefined || value === '0') {
    return { id: 'pmtu-disc', status: value === undefined ? 'warn' : 'ok', title, summary: value === undefined ? 'could not read the sysctl' : 'on (ip_no_pmtu_disc = 0)', details: [], fixes: [], data };
  }
  const modes: Record<string, string> = {
    '1': 'a frag-needed lowers the PMTU to min_pmtu (552) instead of the MTU the router named',
    '2': 'incoming frag-needed messages are thrown away',
    '3': 'frag-needed is believed only for TCP and SCTP: UDP and ICMP sockets ignore it',
  };
  return {
    id: 'pmtu-disc',
    status: 'problem',
    title,
    summary: `path MTU discovery is off (ip_no_pmtu_disc = ${value})`,
    details: [
      `mode ${value}: ${modes[value] ?? 'an unknown mode'}`,
      'new sockets default to IP_PMTUDISC_DONT: packets leave without DF, so routers fragment them instead of reporting the MTU',
      'pathmtu sets DF on its own probes, but every other program on this host is affected',
      persistNote(uid, 'net.ipv4.ip_no_pmtu_disc', '0'),
    ],
    fixes: sysctlFix(uid, 'net.ipv4.ip_no_pmtu_disc', '0'),
    data,
  };
}

export function tcpMtuProbingCheck(value: string | undefined, uid: number): DoctorCheck {
  const title = 'TCP MTU probing (net.ipv4.tcp_mtu_probing)';
  const data = { tcp_mtu_probing: value ?? null };
  if (value === '1') {
    return { id: 'tcp-mtu-probing', status: 'ok', title, summary: '1: TCP probes smaller segments once it detects a black hole (RFC 4821)', details: [], fixes: [], data };
  }
  if (value === '2') {
    return { id: 'tcp-mtu-probing', status: 'ok', title, summary: '2: TCP always probes the path MTU itself (RFC 4821), from tcp_base_mss', details: [], fixes: [], data };
  }
  if (value === undefined) {
    return { id: 'tcp-mtu-probing', status: 'warn', title, summary: 'could not read the sysctl', details: [], fixes: [], data };
  }
  return {
    id: 'tcp-mtu-probing',
    status: 'warn',
    title,
    summary: `off (tcp_mtu_probing = ${value}): on a black-holed path TCP connections hang`,
    details: [
      'with 0, TCP relies only on ICMP "too big" messages: where a router or firewall drops them, full-size segments vanish,',
      '  the handshake works (small packets) and the transfer then hangs, retransmitting the same large segment until it times out',
      '1 = probe smaller segments once a black hole is detected (the usual choice); 2 = always probe; both cover IPv6 TCP too',
      'this is the Linux default: it matters on paths that black-hole, where it turns a hang into a slow start',
      persistNote(uid, 'net.ipv4.tcp_mtu_probing', '1'),
    ],
    fixes: sysctlFix(uid, 'net.ipv4.tcp_mtu_probing', '1'),
    data,
  };
}

export function methodsCheck(methods: Record<Family, MethodName[]>, hostFamily: Family | null): DoctorCheck {
  const title = 'probe methods this user can use here';
  const fams: Family[] = hostFamily ? [hostFamily] : [4, 6];
  const text = fams.map((f) => `IPv${f}: ${methods[f].length ? methods[f].join(', ') : 'none'}`).join('; ');
  const none = fams.filter((f) => methods[f].length === 0);
  const auto = fams.map((f) => methods[f][0]).find((m) => m !== undefined);
  return {
    id: 'methods',
    status: none.length === 0 ? 'ok' : hostFamily ? 'problem' : 'warn',
    title,
    summary: `${text}${auto ? ` (--method auto starts with ${auto})` : ''}`,
    details: [
      'udp: forward path, needs nothing; icmp-dgram: round trip, needs ping_group_range; icmp and tcp: need CAP_NET_RAW',
      ...(none.length ? [`no socket of any method opens for IPv${none.join(' and IPv')}: that family is missing here`] : []),
    ],
    fixes: [],
    data: { ipv4: methods[4], ipv6: methods[6] },
  };
}
