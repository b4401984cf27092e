// Socket set-up shared by the raw and datagram probe methods.
import { UsageError } from '../errors.js';
import { c } from '../sock/binding.js';
import type { ProbeSocket } from '../sock/socket.js';
import { canonicalIp, ipFamily, zoneOf } from '../wire/addr.js';
import type { Family } from '../wire/facts.js';
import {
  ICMP6_DST_UNREACH,
  ICMP6_ECHO_REPLY,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROB,
  ICMP6_TIME_EXCEEDED,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED,
} from '../wire/icmp-types.js';

/**
 * Destination in the socket layer's text form, without any zone: what answers are matched against
 * (the kernel reports sources and quoted destinations without one). Throws UsageError for
 * non-addresses or the wrong family.
 */
export function canonicalDestination(destination: string, family: Family): string {
  if (ipFamily(destination) !== family) throw new UsageError(`${destination} is not an IPv${family} address`);
  return canonicalIp(destination);
}

/** Where to send: the canonical address with the zone the caller gave (fe80::1%eth0), if any. */
export function sendAddress(canonical: string, original: string): string {
  const zone = zoneOf(original);
  return zone === null ? canonical : `${canonical}%${zone}`;
}

/** Options every raw/datagram probe socket gets: DF and no cached PMTU, local errors with the MTU. */
export function prepareProbeSocket(sock: ProbeSocket, family: Family, source: string | undefined): void {
  sock.setPmtuMode('probe');
  // PROBE already refuses to fragment on IPv6; DONTFRAG also makes the kernel say so per send.
  if (family === 6) sock.setOption(c('IPPROTO_IPV6'), c('IPV6_DONTFRAG'), 1);
  sock.receiveErrors();
  sock.receiveTtl();
  if (source !== undefined) sock.bind(canonicalDestination(source, family), 0);
}

/**
 * Receive buffer of a raw probe socket: it gets a copy of every ICMP (or TCP) packet the host
 * receives, so under a flood (tens of thousands of forged ICMP errors a second, each also queued on
 * the error queue) the default ~200 kB fills between two reads and replies are dropped.
 */
export const RAW_RECEIVE_BUFFER = 4 << 20;

/**
 * Receive buffer of a shared udp or ping socket. Their answers come on the error queue, which the
 * kernel charges to the same buffer (~1 kB of truesize per entry): the default ~200 kB holds ~200,
 * which one socket serving a thousand targets at 10,000 pps fills in a 20 ms pause of the event
 * loop. 1 MiB holds a tenth of a second of it (unprivileged: capped by net.core.rmem_max).
 */
export const SHARED_RECEIVE_BUFFER = 1 << 20;

/** The ICMP types a probe can meet: echo reply and the errors that quote a probe (RFC 792, RFC 4443). */
const WANTED = {
  4: [ICMP_ECHO_REPLY, ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM],
  6: [ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB, ICMP6_ECHO_REPLY],
} as const;

/**
 * Let a raw ICMP socket see only the types a probe can meet (ICMP_FILTER / ICMP6_FILTER, a bit per
 * type to block). A raw socket otherwise gets a copy of every ICMP packet the host receives —
 * neighbour discovery, router adverts, other programs' pings — to decode and throw away.
 */
export function filterIcmpTypes(sock: ProbeSocket, family: Family): void {
  if (family === 4) {
    // struct icmp_filter: one u32, bit n blocks type n (types above 31 always pass).
    let block = 0xffffffff;
    for (const t of WANTED[4]) block &= ~(1 << t);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(block >>> 0, 0);
    sock.setOption(c('SOL_RAW'), c('ICMP_FILTER'), b);
    return;
  }
  // struct icmp6_filter: 256 bits, bit n blocks type n.
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const t of WANTED[6]) words[t >> 5]! &= ~(1 << (t & 31));
  sock.setOption(c('IPPROTO_ICMPV6'), c('ICMP6_FILTER'), Buffer.from(words.buffer));
}
