// Which probe methods to try, in which order, and opening one.
import { createProber, METHODS } from '../probe/index.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';
import type { Prober } from '../probe/prober.js';

/**
 * auto: raw ICMP echo first (round trip, and echo replies are not rate-limited like the port-unreachable
 * answers the udp method relies on); without CAP_NET_RAW, an unprivileged ping socket; then udp, which
 * needs nothing; tcp last for hosts that pass only TCP (needs root).
 */
export function methodOrder(_family: Family): MethodName[] {
  return [...METHODS];
}

/** Open a prober; a missing privilege throws PermissionError naming the way out. */
export function openMethod(method: MethodName, family: Family, opts: { port?: number } = {}): Prober {
  return createProber(method, family, opts.port !== undefined ? { port: opts.port } : {});
}
