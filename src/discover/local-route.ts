// Is the destination this host itself? The kernel's own route lookup says so: `ip route get <addr>`
// answers a route of type local (RTN_LOCAL, leaving by lo) for 127.0.0.0/8, ::1 and every address
// of this host's interfaces. Such a path has no routers: what the local stack lets leave is what
// arrives, so its path MTU is the largest size sent and confirmed delivered.
import { c, native } from '../sock/binding.js';
import * as nl from '../wire/netlink.js';
import { addressFamilies, encodeNetlink } from '../sock/sockaddr.js';
import type { Family } from '../wire/facts.js';

const SEQ = 1;
/** One RTM_NEWROUTE: rtmsg and a handful of attributes, well under this. */
const RECV_BUFFER = 8192;

/**
 * True when the route to `address` is of type local. Synchronous: rtnetlink handles a request inside
 * the sender's sendmsg(), so its answer is already queued when that returns. Any failure (no route, a
 * zone the codec does not take, an unexpected answer) is "not known to be local": the caller then
 * does what it does for any other destination.
 */
export function isLocalDestination(address: string, family: Family): boolean {
  let fd = -1;
  try {
    const n = native();
    fd = n.socket(c('AF_NETLINK'), c('SOCK_RAW'), c('NETLINK_ROUTE'));
    if (fd < 0) return false;
    const payload = nl.encodeRouteQuery(addressFamilies(), family, 0, address);
    const msg = nl.encode({ type: nl.RTM_GETROUTE, flags: nl.NLM_F_REQUEST, seq: SEQ, pid: 0, payload });
    if (n.sendmsg(fd, msg, encodeNetlink(0, 0), null, 0) < 0) return false;
    const r = n.recvmsg(fd, RECV_BUFFER, 0, 0);
    if (typeof r === 'number') return false;
    for (const m of nl.decode(r.data.subarray(0, Math.min(r.length, r.data.length)))) {
      if (m.seq === SEQ && m.type === nl.RTM_NEWROUTE) return nl.decodeRoute(addressFamilies(), m.payload).type === nl.RTN_LOCAL;
    }
    return false;
  } catch {
    return false;
  } finally {
    if (fd >= 0) native().close(fd);
  }
}
