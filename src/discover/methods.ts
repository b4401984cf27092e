// Which probe methods to try, in which order, and opening one.
import type { Family, MethodName } from '../probe/outcome.js';
import type { Prober } from '../probe/prober.js';
import { IcmpProber } from '../probe/icmp.js';
import { IcmpDgramProber } from '../probe/icmp-dgram.js';
import { TcpProber } from '../probe/tcp.js';
import { UdpProber } from '../probe/udp.js';

/**
 * auto: raw ICMP echo first (round trip, and echo replies are not rate-limited like the port-unreachable
 * answers the udp method relies on); without CAP_NET_RAW, an unprivileged ping socket; then udp, which
 * needs nothing; tcp last for hosts that pass only TCP (needs root).
 */
export function methodOrder(_family: Family): MethodName[] {
  return ['icmp', 'icmp-dgram', 'udp', 'tcp'];
}

/** Open a prober; a missing privilege throws PermissionError naming the way out. */
export function openMethod(method: MethodName, family: Family, opts: { port?: number } = {}): Prober {
  switch (method) {
    case 'udp':
      return new UdpProber(family, opts.port !== undefined ? { basePort: opts.port } : {});
    case 'icmp':
      return new IcmpProber(family);
    case 'icmp-dgram':
      return new IcmpDgramProber(family);
    case 'tcp':
      return new TcpProber(family, opts.port !== undefined ? { port: opts.port } : {});
  }
}
