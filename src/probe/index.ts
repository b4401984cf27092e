// The probe layer's face: open a Prober for a method and family, and tell which methods this process
// may use here (privilege, ping_group_range, IPv6 present). Outcomes and matching live in the methods.
import { constants as osConstants } from 'node:os';
import { PermissionError, SystemCallError, UsageError } from '../errors.js';
import { ProbeSocket, type SocketKind } from '../sock/socket.js';
import { IcmpDgramProber } from './icmp-dgram.js';
import { IcmpProber } from './icmp.js';
import { METHODS, type MethodName } from './outcome.js';
import type { Family } from '../wire/facts.js';
import type { Prober } from './prober.js';
import { TcpProber } from './tcp.js';
import { UdpProber } from './udp.js';

export { IcmpProber, type IcmpProberOptions } from './icmp.js';
export { classifyIcmpError, type IcmpErrorInfo } from './classify.js';
export { IcmpDgramProber, type IcmpDgramProberOptions } from './icmp-dgram.js';
export { TcpProber, TCP_DEFAULT_PORT, type TcpProberOptions } from './tcp.js';
export { UdpProber, UDP_BASE_PORT, type UdpProberOptions } from './udp.js';
export { Prober, type Direction, type Ignored, type InFlight, type ProbeOutcome, type ProberEvents, type SendOptions } from './prober.js';
export * from './outcome.js';
export { PROBE_CHANNEL, ProbeReporter, publishProbe, describeProbe, type ProbeMessage, type ProbeSentMessage, type ProbeOutcomeMessage, type ProbeTool } from './diagnostics.js';

export interface CreateProberOptions {
  /** Local address to send from. */
  source?: string;
  /** tcp: the destination port (default 443). udp: the first destination port (default 33434). */
  port?: number;
  /** icmp: the echo id (default random; icmp-dgram's id is chosen by the kernel). */
  echoId?: number;
}


const SOCKET_KIND: Record<MethodName, SocketKind> = {
  icmp: 'icmp-raw',
  'icmp-dgram': 'icmp-dgram',
  udp: 'udp',
  tcp: 'tcp-raw',
};

/**
 * Open a prober. Throws PermissionError naming the way out when the method needs a privilege this
 * process lacks (raw sockets: CAP_NET_RAW; icmp-dgram: a group in net.ipv4.ping_group_range), and
 * UsageError for an unknown method or family.
 */
export function createProber(method: MethodName, family: Family, opts: CreateProberOptions = {}): Prober {
  if (family !== 4 && family !== 6) throw new UsageError((n) => `${n('family')} must be 4 or 6, got ${String(family)}`);
  try {
    switch (method) {
      case 'icmp':
        return new IcmpProber(family, { source: opts.source, echoId: opts.echoId });
      case 'icmp-dgram':
        return new IcmpDgramProber(family, { source: opts.source });
      case 'udp':
        return new UdpProber(family, { source: opts.source, basePort: opts.port });
      case 'tcp':
        return new TcpProber(family, { source: opts.source, port: opts.port });
      default:
        throw new UsageError((n) => `unknown ${n('method', String(method))} (methods: ${METHODS.join(', ')})`);
    }
  } catch (err) {
    // ProbeSocket.open already turns a refused socket() into PermissionError; an EPERM/EACCES
    // later (a setsockopt or bind the kernel reserves to privilege) gets the same treatment.
    if (err instanceof SystemCallError && (err.errno === -osConstants.errno.EPERM || err.errno === -osConstants.errno.EACCES)) {
      throw new PermissionError(
        `the ${method} method (${err.syscall})`,
        method === 'icmp-dgram' ? 'a group listed in net.ipv4.ping_group_range' : method === 'udp' ? 'permission the system refused' : 'CAP_NET_RAW (root)',
        (n) => `Run as root, or use ${n('method', 'udp')} (needs no privilege).`,
      );
    }
    throw err;
  }
}

/**
 * Methods this process can open for a family right now, in `auto`'s order of preference. Opens
 * (and closes at once) one socket per method; sends nothing. Empty when the family is unsupported.
 */
export function availableMethods(family: Family): MethodName[] {
  const out: MethodName[] = [];
  for (const m of METHODS) {
    try {
      ProbeSocket.open(SOCKET_KIND[m], family).close();
      out.push(m);
    } catch (err) {
      if (!(err instanceof PermissionError) && !(err instanceof SystemCallError)) throw err;
    }
  }
  return out;
}
