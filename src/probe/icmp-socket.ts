// Socket set-up shared by the raw and datagram probe methods.
import { UsageError } from '../errors.js';
import { c } from '../sock/binding.js';
import type { ProbeSocket } from '../sock/socket.js';
import { canonicalIp, ipFamily } from '../wire/addr.js';
import type { Family } from './outcome.js';

/** Destination in the socket layer's text form; throws UsageError for non-addresses or the wrong family. */
export function canonicalDestination(destination: string, family: Family): string {
  if (ipFamily(destination) !== family) throw new UsageError(`${destination} is not an IPv${family} address`);
  return canonicalIp(destination);
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
