// Which socket the echo requests leave from: a raw ICMP socket when this process may open one
// (it sees every ICMP error, so routers' answers come with their whole quote), an unprivileged
// ping socket otherwise (errors arrive through the error queue, already filtered by echo id).
// Both probers set DF with PMTU mode PROBE; `df: false` turns that off here rather than in the
// probe layer, because only ping wants packets the kernel may fragment.
//
// The prober is leased from the engine's pool: with DF (the default) ping shares the process's
// socket for its method and family with every other job (answers routed by token); without DF it
// takes one of its own (exclusive), since clearing DF changes the socket for everyone on it.
import { PermissionError } from '../errors.js';
import type { IcmpDgramProber, IcmpProber } from '../probe/index.js';
import type { Family } from '../wire/facts.js';
import { ECHO_METHODS } from '../probe/outcome.js';
import { c } from '../sock/binding.js';
import type { Lease, ProberPool } from '../engine/pool.js';
import type { PingMethod, PingMethodChoice } from './types.js';

export type PingProber = IcmpProber | IcmpDgramProber;

/** Lease the prober ping uses; PermissionError naming both ways out when neither socket is allowed. */
export function leasePingProber(pool: ProberPool, family: Family, choice: PingMethodChoice, df: boolean): { lease: Lease; method: PingMethod } {
  const order: PingMethod[] = choice === 'auto' ? [...ECHO_METHODS] : [choice];
  for (const method of order) {
    let lease: Lease;
    try {
      lease = pool.acquire({ method, family }, { exclusive: !df });
    } catch (err) {
      if (!(err instanceof PermissionError)) throw err;
      continue;
    }
    try {
      if (!df) allowFragmentation(lease.prober as PingProber, family);
    } catch (err) {
      lease.release();
      throw err;
    }
    return { lease, method };
  }
  if (choice === 'icmp') throw new PermissionError('ping with method icmp (a raw ICMP socket)', NEED_RAW, (n) => `${RAW_WAY}, or use ${n('method', 'icmp-dgram')}.`);
  if (choice === 'icmp-dgram') throw new PermissionError('ping with method icmp-dgram (a ping socket)', NEED_DGRAM, `A${DGRAM_WAY.slice(1)}, or run as root.`);
  throw new PermissionError('ping', `${NEED_RAW} for a raw ICMP socket, or ${NEED_DGRAM} for a ping socket`, `${RAW_WAY}; or ${DGRAM_WAY}.`);
}

const NEED_RAW = 'CAP_NET_RAW (e.g. root)';
const NEED_DGRAM = 'a group listed in net.ipv4.ping_group_range';
const RAW_WAY = 'Run it as root (or grant node the capability: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")")';
const DGRAM_WAY = "allow ping sockets for your group: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'";

/**
 * Clear DF. IPv4: IP_PMTUDISC_DONT — no DF bit, the kernel fragments above the interface MTU and
 * routers may fragment on the way. IPv6 has no DF bit (routers never fragment): IPV6_DONTFRAG 0 and
 * mode DONT let the sending kernel fragment to the path MTU it has learned from PTBs.
 */
function allowFragmentation(prober: PingProber, family: Family): void {
  const sock = prober.socket;
  sock.setPmtuMode('dont');
  if (family === 6) sock.setOption(c('IPPROTO_IPV6'), c('IPV6_DONTFRAG'), 0);
}
