// The tcp method: for hosts behind firewalls that pass only TCP to one port (default 443). Each
// probe is a SYN padded with data to the probe size (a SYN may carry data, RFC 9293 §3.10.7.3;
// the receiver acknowledges or discards it), sent from a raw IPPROTO_TCP socket with DF (PMTU mode
// PROBE; IPv6 also IPV6_DONTFRAG). A SYN-ACK or an RST from the destination proves the whole
// packet arrived. We never complete a handshake: our kernel has no socket for the probe's port and
// answers the SYN-ACK with an RST itself. Measures the forward path (the answer is small). Root.
//
// Matching: every probe has its own source port (a random span of the ephemeral range, so parallel
// probes to one listener never share a 4-tuple — a second SYN on a half-open tuple would get the
// first one's ACK) and an initial sequence number taken from its nonce. An answer must come from
// the destination and the probed port, to a source port in flight, acknowledging that probe's SYN
// (ack = seq + 1, or seq + 1 + data length when the data is counted, as an RST to a closed port does).
// ICMP errors quoting TCP reach a raw TCP socket's error queue (IP_RECVERR): the entry names the
// original destination and the offender and holds the quoted TCP header (plus the data, where our
// nonce sits, when the router quoted it); ports, sequence and nonce must match a probe in flight.
// The TCP checksum of an answer is not verified: the copy a raw socket gets of a segment that came
// over veth or loopback may still carry a partial checksum (CHECKSUM_PARTIAL, measured in the lab for
// SYN-ACKs and IPv6 RSTs), and the 32-bit acknowledgement of a random sequence number is the
// stronger check anyway.
import { randomInt } from './random.js';
import { DecodeError, UsageError } from '../errors.js';
import { routeSource } from '../sock/route.js';
import { attachFilter, tcpProbeProgram } from '../sock/bpf.js';
import { ProbeSocket, type ErrQueueEntry, type Message } from '../sock/socket.js';
import * as ipv4 from '../wire/ipv4.js';
import * as tcp from '../wire/tcp.js';
import type { Outcome } from './outcome.js';
import { IP_HEADER, type Family } from '../wire/facts.js';
import { classifyIcmpError } from './classify.js';
import { canonicalDestination, prepareProbeSocket, RAW_RECEIVE_BUFFER, sendAddress } from './icmp-socket.js';
import { Prober, type InFlight, type SendOptions } from './prober.js';

const TCP_HEADER = tcp.MIN_HEADER_LENGTH;
const NONCE = 8;
export const TCP_DEFAULT_PORT = 443;
/** Source ports in use at once (one per probe, cycling); an answer is matched by (port, destination) and then its acknowledgement. */
const PORT_SPAN = 4096;
/** Linux's default ip_local_port_range. */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_HIGH = 60999;

export interface TcpProberOptions {
  /** Destination port (default 443). */
  port?: number;
  /** Local address to send from (default: the one the kernel picks for each destination). */
  source?: string;
}

export class TcpProber extends Prober {
  readonly method = 'tcp' as const;
  readonly direction = 'forward' as const;
  readonly port: number;
  readonly #sock: ProbeSocket;
  readonly #source: string | undefined;
  /** The source address the kernel uses towards each destination (the pseudo-header needs it). */
  readonly #sources = new Map<string, string>();
  readonly #basePort: number;
  #next = 0;

  constructor(family: Family, opts: TcpProberOptions = {}) {
    super(family);
    this.port = opts.port ?? TCP_DEFAULT_PORT;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) throw new UsageError(`port must be 1..65535, got ${opts.port}`);
    this.#basePort = pickBasePort(this.port);
    this.#source = opts.source === undefined ? undefined : canonicalDestination(opts.source, family);
    // A raw TCP socket gets a copy of every TCP segment the host receives (every connection's):
    // in the kernel, only answers from the probed port to our span of source ports pass.
    const program = tcpProbeProgram(family, { remotePort: this.port, localPorts: { from: this.#basePort, to: this.#basePort + PORT_SPAN - 1 } });
    this.#sock = this.openSocket('tcp-raw', (sock) => {
      prepareProbeSocket(sock, family, this.#source);
      attachFilter(sock, program);
      // What was queued before the filter (other connections' segments) cannot be ours: read it away.
      sock.drain();
      sock.receiveBuffer(RAW_RECEIVE_BUFFER);
    }, {
      message: (m) => this.#onMessage(m),
      errqueue: (e) => this.#onError(e),
    });
  }

  get minSize(): number {
    return IP_HEADER[this.family] + TCP_HEADER + NONCE;
  }

  get socket(): ProbeSocket {
    return this.#sock;
  }

  /** Source ports this prober uses: [first, first + count). */
  get sourcePorts(): { first: number; count: number } {
    return { first: this.#basePort, count: PORT_SPAN };
  }

  /** The initial sequence number of a probe (derived from its nonce). */
  static sequenceOf(p: InFlight): number {
    return p.nonce.readUInt32BE(4);
  }

  send(destination: string, size: number, opts: SendOptions = {}): number {
    this.checkSize(size);
    const dst = canonicalDestination(destination, this.family);
    const to = sendAddress(dst, destination);
    const src = this.#sourceFor(to);
    const srcPort = this.#basePort + (this.#next++ % PORT_SPAN);
    const p = this.register(dst, size, opts.ttl, srcPort);
    const segment = tcp.encode(
      {
        srcPort,
        dstPort: this.port,
        seq: TcpProber.sequenceOf(p),
        ackNumber: 0,
        flags: { syn: true },
        window: 1024,
        urgentPointer: 0,
        options: [],
        payload: this.payload(p, size - IP_HEADER[this.family] - TCP_HEADER),
      },
      undefined,
      0,
      { src, dst },
    );
    this.transmit(this.#sock, p, segment, { address: to });
    return p.token;
  }

  /** Ask the kernel which source address it would use: connect a UDP socket, read its name. */
  #sourceFor(dst: string): string {
    if (this.#source !== undefined) return this.#source;
    let src = this.#sources.get(dst);
    if (src === undefined) {
      src = routeSource(dst, this.family, this.port);
      this.#sources.set(dst, src);
    }
    return src;
  }

  #ours(port: number): boolean {
    return port >= this.#basePort && port < this.#basePort + PORT_SPAN;
  }

  #onMessage(m: Message): void {
    // The socket's BPF program passes only segments from the probed port to our source ports; the
    // checks stay (the filter cannot see sequence numbers).
    let seg: tcp.DecodedTcp;
    let segment: Buffer;
    let replyTtl: number | undefined;
    try {
      if (this.family === 4) {
        const ip = ipv4.decode(m.data);
        segment = ipv4.payload(m.data);
        replyTtl = ip.ttl;
      } else {
        segment = m.data;
        replyTtl = m.ttl;
      }
      seg = tcp.decode(segment);
    } catch (err) {
      if (err instanceof DecodeError) return;
      throw err;
    }
    if (!this.#ours(seg.dstPort)) return;
    const what = `TCP ${flagText(seg.flags)}`;
    if (seg.srcPort !== this.port) return this.ignore(m.from, what, `from port ${seg.srcPort}, not the probed ${this.port}`);
    const p = this.match(m.from, seg.dstPort, null);
    if (p === undefined) return this.ignore(m.from, what, 'matches no probe in flight (address or port)');
    const seq = TcpProber.sequenceOf(p);
    const dataLength = p.size - IP_HEADER[this.family] - TCP_HEADER;
    const acksProbe = seg.flags.ack && (seg.ackNumber === ((seq + 1) >>> 0) || seg.ackNumber === ((seq + 1 + dataLength) >>> 0));
    if (!acksProbe) return this.ignore(m.from, what, 'does not acknowledge a probe in flight');
    if (!(seg.flags.syn || seg.flags.rst)) return this.ignore(m.from, what, 'neither SYN-ACK nor RST');
    const outcome: Outcome = { kind: 'delivered', size: p.size, ttl: p.ttl, from: m.from, rttMs: this.rttMs(p, m.receivedAt) };
    if (replyTtl !== undefined) outcome.replyTtl = replyTtl;
    this.resolve(p, outcome);
  }

  #onError(e: ErrQueueEntry): void {
    // sendProbe() reports local EMSGSIZE itself; other local errors leave the probe to time out.
    if (e.origin === 'local') return;
    const from = e.offender ?? e.destination ?? '';
    const what = `${e.origin} error ${e.type}/${e.code}`;
    if (e.origin !== (this.family === 4 ? 'icmp' : 'icmp6')) return this.ignore(from, what, 'unknown error origin');
    const q = quotedTcp(e.payload);
    if (q === null) return this.ignore(from, what, 'quote too short for TCP ports and sequence');
    if (!this.#ours(q.srcPort) || q.dstPort !== this.port) return this.ignore(from, what, 'quotes ports that are not ours');
    const p = this.match(e.destination, q.srcPort, q.data.length > 0 ? q.data.subarray(0, NONCE) : null);
    if (p === undefined) return this.ignore(from, what, 'matches no probe in flight (destination, port or nonce)');
    if (q.seq !== TcpProber.sequenceOf(p)) return this.ignore(from, what, "quoted sequence number is not the probe's");
    // Proven even by an 8-byte quote: the sequence number is the random half of the nonce.
    const outcome = classifyIcmpError(
      { family: this.family, type: e.type, code: e.code, mtu: e.info, from },
      { size: p.size, ttl: p.ttl },
      this.rttMs(p, e.receivedAt),
    );
    if (outcome === null) return this.ignore(from, what, 'not an error a probe can meet');
    this.resolve(p, outcome);
  }

  close(): void {
    this.#sock.close();
  }
}

/** A span of PORT_SPAN source ports inside the ephemeral range that leaves out the probed port. */
function pickBasePort(dstPort: number): number {
  for (;;) {
    const base = randomInt(EPHEMERAL_LOW, EPHEMERAL_HIGH - PORT_SPAN + 2);
    if (dstPort < base || dstPort >= base + PORT_SPAN) return base;
  }
}

/**
 * Ports, sequence and quoted data from the TCP segment an ICMP error quotes. RFC 792 routers quote
 * only 8 bytes of it (ports and sequence: too short for the wire codec, which needs the whole
 * header), so those are read here directly; a longer quote goes through tcp.decode.
 */
function quotedTcp(b: Buffer): { srcPort: number; dstPort: number; seq: number; data: Buffer } | null {
  if (b.length >= TCP_HEADER) {
    try {
      const s = tcp.decode(b);
      return { srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, data: s.payload };
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  if (b.length < 8) return null;
  return { srcPort: b.readUInt16BE(0), dstPort: b.readUInt16BE(2), seq: b.readUInt32BE(4), data: Buffer.alloc(0) };
}

function flagText(f: tcp.TcpFlags): string {
  const names = (['syn', 'ack', 'rst', 'fin', 'psh', 'urg'] as const).filter((k) => f[k]);
  return names.length > 0 ? names.join('-').toUpperCase() : 'segment';
}
