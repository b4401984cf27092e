// Tell a host its packets to a peer are too big: an ICMPv4 "fragmentation needed" (type 3 code 4,
// RFC 1191 next-hop MTU) or an ICMPv6 Packet Too Big (RFC 4443 §3.2), quoting a packet the target
// supposedly sent to the peer. The receiving kernel caches the MTU for that peer (~10 minutes) if it
// believes the quote:
// - quoting an ICMP echo reply (v4) / any ICMPv6 message (v6): believed with no socket involved;
// - quoting UDP: only when a socket matches the quoted ports (__udp4_lib_err / __udp6_lib_err look
//   one up and drop the error otherwise);
// - quoting TCP: only for an existing connection, and (v4) with a sequence number in flight.
// Sent over a header-including raw socket (IPPROTO_RAW: IP_HDRINCL implied, IPv6 too since Linux
// 4.5), so the source address can be any router's (--from), and the ICMPv6 checksum is ours to
// compute against that source.
import { isIP } from 'node:net';
import { constants as osConstants, networkInterfaces } from 'node:os';
import { PermissionError, SystemCallError, UsageError } from '../errors.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { resolveTarget } from '../sock/resolve.js';
import { routePathMtu, routeSource } from '../sock/route.js';
import { MIN_MTU, type Family } from '../wire/facts.js';
import { c, native } from '../sock/binding.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../wire/protocols.js';
import { encodePtb } from '../wire/ptb.js';
import { encodeInet } from '../sock/sockaddr.js';
import { buildOriginal, quoteOf, tooBigLength, type QuoteProto } from './original.js';

export interface InjectOptions {
  /** Host that receives the PTB (and will cache the MTU). */
  target: string;
  /** The next-hop MTU to claim. */
  mtu: number;
  /** The peer the target was sending to: the quoted packet's destination. */
  about: string;
  /** The peer's port (udp/tcp). */
  port?: number;
  /** What the quoted packet was (default icmp: honoured without any socket). */
  proto?: QuoteProto;
  /** Source address of the PTB (a router's); default: our own address towards the target. */
  from?: string;
  /** The target's port (udp/tcp), or the echo id (icmp). */
  srcPort?: number;
  /** TCP sequence number of the quoted segment, or the echo sequence (icmp). */
  seq?: number;
  /** Allow MTUs below the protocol floor (68 / 1280). */
  force?: boolean;
  family?: Family;
  signal?: AbortSignal;
}

export interface InjectResult {
  family: Family;
  target: string;
  /** Source address the PTB carried. */
  from: string;
  about: string;
  port: number | null;
  proto: QuoteProto;
  srcPort: number | null;
  seq: number;
  mtu: number;
  /** The whole IP packet sent (outer header, ICMP, quote). */
  bytes: Buffer;
  length: number;
  /** Size the quoted original packet claims, and how much of it is quoted. */
  originalLength: number;
  quotedLength: number;
  summary: string;
  /** What the caller should know (the target will cache it, the kernel's clamp, ...). */
  warnings: string[];
}

const MAX_MTU: Record<Family, number> = { 4: 0xffff, 6: 0xffffffff };
/** Linux never caches an IPv4 PMTU below net.ipv4.route.min_pmtu (552 by default). */
const LINUX_MIN_PMTU_V4 = 552;

function checkPort(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new UsageError((n) => `${n(name)} must be 0..65535, got ${v}`);
}

/** Our source address towards the target: what the kernel would pick (connect() sends nothing). */
function localSourceFor(address: string, family: Family): string {
  return routeSource(address, family);
}

/** Build the PTB packet (no I/O): exported for tests and for `--dry-run`-like inspection. */
export function buildPtb(p: {
  family: Family;
  from: string;
  target: string;
  about: string;
  proto: QuoteProto;
  mtu: number;
  port: number;
  srcPort: number;
  seq: number;
}): { packet: Buffer; originalLength: number; quotedLength: number } {
  const originalLength = tooBigLength(p.mtu);
  const original = buildOriginal({
    family: p.family,
    src: p.target,
    dst: p.about,
    proto: p.proto,
    srcPort: p.srcPort,
    dstPort: p.port,
    seq: p.seq,
    length: originalLength,
  });
  const quoted = quoteOf(original, p.family);
  let packet: Buffer;
  if (p.family === 4) {
    const icmp = encodePtb({ family: 4, mtu: p.mtu, quoted });
    const ip = ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + icmp.length, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_ICMP, src: p.from, dst: p.target, options: Buffer.alloc(0) });
    packet = Buffer.concat([ip, icmp]);
  } else {
    const icmp = encodePtb({ family: 6, mtu: p.mtu, quoted, pseudo: { src: p.from, dst: p.target } });
    const ip = ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: icmp.length, hopLimit: 255, src: p.from, dst: p.target, extensions: [], protocol: IPPROTO_ICMPV6 });
    packet = Buffer.concat([ip, icmp]);
  }
  return { packet, originalLength, quotedLength: quoted.length };
}

function openRaw(family: Family): number {
  const fd = native().socket(c(family === 4 ? 'AF_INET' : 'AF_INET6'), c('SOCK_RAW'), c('IPPROTO_RAW'));
  if (fd === -osConstants.errno.EPERM || fd === -osConstants.errno.EACCES) {
    throw new PermissionError(
      'sending a crafted ICMP error',
      'a raw socket: CAP_NET_RAW (root)',
      'Run it as root (sudo pathmtu inject ...), or grant the capability: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")".',
    );
  }
  if (fd < 0) throw new SystemCallError('socket', -fd);
  return fd;
}

export async function inject(o: InjectOptions): Promise<InjectResult> {
  const started = performance.now();
  const proto = o.proto ?? 'icmp';
  if (!['icmp', 'udp', 'tcp'].includes(proto)) throw new UsageError((n) => `${n('proto')} must be icmp, udp or tcp, got '${String(proto)}'`);
  checkPort('port', o.port);
  checkPort('srcPort', o.srcPort);
  if (o.seq !== undefined && (!Number.isInteger(o.seq) || o.seq < 0 || o.seq > 0xffffffff)) throw new UsageError((n) => `${n('seq')} must be 0..4294967295, got ${o.seq}`);
  if (proto !== 'icmp' && (o.port === undefined || o.srcPort === undefined)) {
    throw new UsageError((n) => `a ${proto} quote needs the flow's ports: the target's (${n('srcPort')}) and the peer's (${n('port')}); the target ignores it unless a socket matches them`);
  }
  const t = await resolveTarget(o.target, o.family);
  const family = t.family;
  const max = MAX_MTU[family];
  if (!Number.isInteger(o.mtu) || o.mtu < 0 || o.mtu > max) throw new UsageError((n) => `${n('mtu')} must be a whole number from 0 to ${max}, got ${o.mtu}`);
  if (o.mtu < MIN_MTU[family] && !o.force) {
    throw new UsageError((n) => `${n('mtu', o.mtu)} is below the IPv${family} minimum of ${MIN_MTU[family]}; no honest router sends that (${n('force')} sends it anyway)`);
  }
  // The quoted packet went from the target to the peer, so both are of the target's family.
  for (const [option, text] of [['about', o.about], ['from', o.from]] as const) {
    const other = typeof text === 'string' ? isIP(text.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')) : 0;
    if (other !== 0 && other !== family) {
      throw new UsageError((n) => `target is IPv${family}, ${n(option)} is IPv${other}: the PTB and the packet it quotes are of the target's family`);
    }
  }
  const about = await resolveTarget(o.about, family);
  const from = o.from !== undefined ? (await resolveTarget(o.from, family)).address : localSourceFor(t.address, family);
  const seq = o.seq ?? (proto === 'icmp' ? 1 : 0);
  const srcPort = o.srcPort ?? (proto === 'icmp' ? (process.pid & 0xffff) : 0);
  const port = o.port ?? 0;
  const { packet, originalLength, quotedLength } = buildPtb({ family, from, target: t.address, about: about.address, proto, mtu: o.mtu, port, srcPort, seq });

  o.signal?.throwIfAborted();
  const fd = openRaw(family);
  try {
    const r = native().sendmsg(fd, packet, encodeInet({ family, address: t.address, port: 0 }), null, 0);
    if (r < 0) throw new SystemCallError('sendmsg', -r, `sending the PTB to ${t.address}`);
    new ProbeReporter('inject', family, t.address, started).sent('ptb', 1, originalLength, undefined, o.mtu);
  } finally {
    native().close(fd);
  }

  const what = family === 4 ? `ICMP frag-needed (type 3 code 4), next-hop MTU ${o.mtu}` : `ICMPv6 packet too big, MTU ${o.mtu}`;
  const flow =
    proto === 'icmp'
      ? `echo reply id ${srcPort} seq ${seq} ${t.address} -> ${about.address}`
      : `${proto} ${fmt(t.address, srcPort, family)} -> ${fmt(about.address, port, family)}${proto === 'tcp' ? ` seq ${seq}` : ''}`;
  const warnings = [effectWarning(t.address, about.address, o.mtu, family)];
  if (family === 4 && o.mtu < LINUX_MIN_PMTU_V4) warnings.push(`a Linux target clamps this to its net.ipv4.route.min_pmtu (552 by default)`);
  if (proto === 'udp') warnings.push(`a Linux target honours a UDP quote only while a socket on ${fmt(t.address, srcPort, family)} exists`);
  if (proto === 'tcp') warnings.push(`a Linux target honours a TCP quote only for an open connection with seq ${seq} in flight (snd_una..snd_nxt)`);
  return {
    family,
    target: t.address,
    from,
    about: about.address,
    port: proto === 'icmp' ? null : port,
    proto,
    srcPort,
    seq,
    mtu: o.mtu,
    bytes: packet,
    length: packet.length,
    originalLength,
    quotedLength,
    summary: `${what} from ${from} to ${t.address}, quoting ${flow} (${quotedLength} of ${originalLength} bytes); ${packet.length} bytes sent`,
    warnings,
  };
}

/**
 * What the target will make of the PTB. Linux only ever lowers a PMTU: a PTB whose MTU is above the
 * one the target uses towards the peer (its route MTU, or a PMTU it cached) is ignored (IPv4
 * __ip_rt_update_pmtu: old_mtu < mtu; IPv6 __ip6_rt_update_pmtu: mtu >= dst_mtu). That MTU is known
 * exactly when the target is this host; otherwise this host's own route MTU towards the target is
 * the best hint there is (an MTU above it rarely fits the target's links either).
 */
function effectWarning(target: string, about: string, mtu: number, family: Family): string {
  const honoured = family === 4 ? Math.max(mtu, LINUX_MIN_PMTU_V4) : Math.max(mtu, 1280);
  const ignoredAbove = (current: number): boolean => (family === 4 ? honoured > current : honoured >= current);
  const undo = `undo there with: pathmtu cache --flush ${about}`;
  if (isLocalAddress(target, family)) {
    const current = routePathMtu(about, family);
    if (current !== null && ignoredAbove(current)) {
      return `Linux ignores a PTB that does not lower the MTU it uses: ${target} (this host) sends to ${about} with MTU ${current}, so MTU ${mtu} changes nothing`;
    }
    return `${target} (this host) will use MTU ${honoured} towards ${about} for about 10 minutes (${undo})`;
  }
  const here = routePathMtu(target, family);
  if (here !== null && ignoredAbove(here)) {
    return `MTU ${mtu} is above this host's route MTU towards ${target} (${here}): Linux ignores a PTB that does not lower the MTU it uses, so unless ${target}'s own route to ${about} allows more than ${mtu}, it changes nothing`;
  }
  return `${target} will use MTU ${honoured} towards ${about} for about 10 minutes if it believes this and its current MTU towards ${about} is larger — Linux ignores a PTB that does not lower it (${undo})`;
}

/** An address of this host (in the current network namespace), loopback included. */
function isLocalAddress(address: string, family: Family): boolean {
  if (family === 4 ? address.startsWith('127.') : address === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === address));
}

function fmt(address: string, port: number, family: Family): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
