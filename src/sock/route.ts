// What the kernel's routing says about a destination, learnt the cheap way every tool here uses:
// connect() a UDP socket to it. connect() sends nothing; it only binds the route (and any cached
// PMTU exception, seed 001) to the socket, whose name then is the source address the kernel would
// pick and whose IP_MTU / IPV6_MTU is the MTU ordinary sockets may send with right now.
import type { Family } from '../wire/facts.js';
import { ProbeSocket } from './socket.js';

/** The discard port (RFC 863): any port does for connect(); this one names the intent. */
export const DISCARD_PORT = 9;

function withConnectedUdp<T>(address: string, family: Family, port: number, read: (s: ProbeSocket) => T): T {
  const s = ProbeSocket.open('udp', family);
  try {
    s.connect(address, port);
    return read(s);
  } finally {
    s.close();
  }
}

/**
 * The source address the kernel would use towards `address`. Throws SystemCallError (e.g.
 * ENETUNREACH) when there is no route.
 */
export function routeSource(address: string, family: Family, port = DISCARD_PORT): string {
  return withConnectedUdp(address, family, port, (s) => s.localAddress().address);
}

/**
 * What the kernel will let ordinary sockets send to `address` right now (IP_MTU / IPV6_MTU on a
 * freshly connected socket): the route MTU or a cached PMTU exception. Null when the socket cannot
 * be connected (no route).
 */
export function routePathMtu(address: string, family: Family): number | null {
  try {
    return withConnectedUdp(address, family, DISCARD_PORT, (s) => s.pathMtu());
  } catch {
    return null;
  }
}
