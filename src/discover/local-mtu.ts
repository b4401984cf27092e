// The MTU of the interface the route to a destination leaves by. A UDP datagram in PROBE mode that is
// larger than that interface is refused locally (EMSGSIZE) and the error queue carries the interface
// MTU — nothing is put on the wire. Needs no privilege. PROBE mode uses the device MTU, not the
// kernel's cached PMTU, so an earlier run cannot bias it.
import { DISCARD_PORT, routePathMtu } from '../sock/route.js';
import { ProbeSocket } from '../sock/socket.js';
import { IP_HEADER, type Family } from '../wire/facts.js';

/** Largest IP packet (65535); sent to the discard port: the datagram is meant to be refused before sending. */
const MAX_PACKET = 65535;

export function interfaceMtu(address: string, family: Family): number {
  const sock = ProbeSocket.open('udp', family);
  try {
    sock.setPmtuMode('probe');
    sock.receiveErrors();
    // The largest UDP payload that fits a 65535-byte IPv4 packet; IPv6 allows the same payload.
    const payload = Buffer.alloc(MAX_PACKET - IP_HEADER[4] - 8);
    const r = sock.sendProbe(payload, { address, port: DISCARD_PORT });
    if (r.ok) return MAX_PACKET; // left the host whole: only loopback-sized links do that
    if (r.localMtu !== undefined) return r.localMtu;
    sock.send(payload, { address, port: DISCARD_PORT }); // throws the real error (e.g. ENETUNREACH)
    return MAX_PACKET;
  } finally {
    sock.close();
  }
}

/**
 * What the kernel will let ordinary sockets send to this destination right now: IP_MTU / IPV6_MTU on
 * a freshly connected socket (seed 001), i.e. the route MTU or a cached PMTU exception. Comparing it
 * with the measured path MTU shows a black hole applications will fall into (kernel believes more)
 * or a stale cached value (kernel believes less). Null when the socket cannot be connected.
 */
export function kernelPathMtu(address: string, family: Family): number | null {
  return routePathMtu(address, family);
}
