// The udp method: UDP datagrams with PMTU discovery in PROBE mode (DF set, the kernel's cached PMTU
// ignored) and the error queue. Needs no privilege. The kernel matches each ICMP error to our socket
// by the quoted ports and hands us the offender, the ICMP type/code, the MTU (ee_info) and the quoted
// payload, where our per-probe nonce sits. Arrival is proven by the destination's port-unreachable.
// Measures the forward path only: the answer is a small ICMP error.
import { ProbeSocket, type ErrQueueEntry } from '../sock/socket.js';
import { ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp-types.js';
import { UsageError } from '../errors.js';
import { classifyIcmpError } from './classify.js';
import { canonicalDestination, sendAddress, SHARED_RECEIVE_BUFFER } from './icmp-socket.js';
import type { Outcome } from './outcome.js';
import { IP_HEADER, type Family } from '../wire/facts.js';
import { NONCE_LENGTH, Prober, unprovenQuote, type SendOptions } from './prober.js';

const UDP_HEADER = 8;
/** traceroute's customary range of (almost always closed) ports; one per probe in flight. */
export const UDP_BASE_PORT = 33434;
const PORT_SPAN = 1024;

export interface UdpProberOptions {
  /** First destination port (default 33434); probes cycle through the next 1024. */
  basePort?: number;
  /** Local address to send from. */
  source?: string;
}

export class UdpProber extends Prober {
  readonly method = 'udp' as const;
  readonly direction = 'forward' as const;
  readonly #sock: ProbeSocket;
  readonly #basePort: number;
  #seq = 0;

  constructor(family: Family, opts: UdpProberOptions = {}) {
    super(family);
    this.#basePort = opts.basePort ?? UDP_BASE_PORT;
    if (!Number.isInteger(this.#basePort) || this.#basePort < 1 || this.#basePort > 65535) {
      throw new UsageError(`port must be 1..65535, got ${opts.basePort}`);
    }
    this.#sock = this.openSocket(
      'udp',
      (sock) => {
        sock.setPmtuMode('probe');
        sock.receiveErrors();
        sock.receiveBuffer(SHARED_RECEIVE_BUFFER);
        if (opts.source) sock.bind(opts.source, 0);
      },
      { errqueue: (e) => this.#onError(e), message: (m) => this.ignore(m.from, 'udp datagram', 'unexpected UDP reply') },
    );
  }

  get minSize(): number {
    return IP_HEADER[this.family] + UDP_HEADER + 8;
  }

  get socket(): ProbeSocket {
    return this.#sock;
  }

  send(destination: string, size: number, opts: SendOptions = {}): number {
    // The UDP length field caps the datagram at 65535 bytes; IPv6's payload length excludes its header.
    this.checkSize(size, this.family === 4 ? 65535 : 65535 + IP_HEADER[6]);
    const port = this.#basePort + (this.#seq++ % PORT_SPAN);
    // Matched in canonical form (as the kernel reports it); sent with the zone the caller gave.
    const dst = canonicalDestination(destination, this.family);
    const p = this.register(dst, size, opts.ttl, port > 65535 ? port - PORT_SPAN : port);
    const data = this.payload(p, size - IP_HEADER[this.family] - UDP_HEADER);
    this.transmit(this.#sock, p, data, { address: sendAddress(dst, destination), port: p.key });
    return p.token;
  }

  #onError(e: ErrQueueEntry): void {
    // sendProbe() reports local EMSGSIZE itself; other local errors leave the probe to time out.
    if (e.origin === 'local') return;
    const from = e.offender ?? e.destination ?? '';
    const quoted = e.payload.length > 0 ? e.payload.subarray(0, 8) : null;
    const p = this.match(e.destination, e.destinationPort, quoted);
    if (p === undefined) {
      this.ignore(from, `${e.origin} error ${e.type}/${e.code}`, 'matches no probe in flight (port or nonce)');
      return;
    }
    const base = { size: p.size, ttl: p.ttl };
    const rttMs = this.rttMs(p, e.receivedAt);
    if (e.origin !== 'icmp' && e.origin !== 'icmp6') {
      this.ignore(from, `origin ${e.origin}`, 'unknown error origin');
      return;
    }
    const family = e.origin === 'icmp' ? 4 : 6;
    // The quoted payload is what follows the UDP header: the nonce, when the quote carries it.
    const unproven = unprovenQuote(Math.min(e.payload.length, NONCE_LENGTH));
    // The destination's own port-unreachable is our proof of arrival — only when it quotes the
    // whole nonce: ports and addresses are there for anyone on the path to copy.
    const portUnreachable = family === 4
      ? e.type === ICMP_DEST_UNREACH && e.code === ICMP_PORT_UNREACH
      : e.type === ICMP6_DST_UNREACH && e.code === ICMP6_DST_UNREACH_NOPORT;
    if (portUnreachable && from === p.destination && unproven !== undefined) {
      this.ignore(from, 'port unreachable from the target', `${unproven}: no proof of delivery`);
      return;
    }
    const outcome: Outcome | null =
      portUnreachable && from === p.destination
        ? { ...base, kind: 'delivered', from, rttMs }
        : classifyIcmpError({ family, type: e.type, code: e.code, mtu: e.info, from }, base, rttMs);
    if (outcome === null) {
      this.ignore(from, `ICMP type ${e.type} code ${e.code}`, 'not an error a probe can meet');
      return;
    }
    if (unproven !== undefined) outcome.unproven = unproven;
    this.resolve(p, outcome);
  }

  close(): void {
    this.#sock.close();
  }
}
