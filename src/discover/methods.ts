// Which probe methods to try, in which order, and opening one.
import { createProber, METHODS } from '../probe/index.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';
import type { Prober } from '../probe/prober.js';
import type { Lease } from '../engine/pool.js';

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

/**
 * Lease, up front, the prober of every method a run may use in each family (the one method asked
 * for, or auto's order; icmp-dgram only where raw icmp is not allowed), so that runs started later
 * find them open in the pool and need no privilege. `acquire` leases one (default: from `pool`); a
 * method that cannot open here (no privilege, no IPv6) is skipped and handed to `onFail` (`alone`:
 * it was the only method asked for): the run that needs it reports why.
 */
export function leaseUpFront(
  families: Iterable<Family>,
  method: MethodName | 'auto' | undefined,
  acquire: (family: Family, method: MethodName) => Lease,
  onFail?: (err: unknown, alone: boolean) => void,
): Lease[] {
  const held: Lease[] = [];
  for (const family of families) {
    const order = method === undefined || method === 'auto' ? methodOrder(family) : [method];
    for (const m of order) {
      if (m === 'icmp-dgram' && held.some((l) => l.prober.method === 'icmp' && l.prober.family === family)) continue;
      try {
        held.push(acquire(family, m));
      } catch (err) {
        onFail?.(err, order.length === 1);
      }
    }
  }
  return held;
}
