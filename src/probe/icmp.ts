// The icmp method: ICMP / ICMPv6 echo requests from a raw socket, DF set (PMTU mode PROBE: the
// kernel's cached PMTU ignored; IPv6 also IPV6_DONTFRAG). Needs CAP_NET_RAW. Measures the round
// trip: the echo reply is as large as the request, so a delivered probe crossed both directions.
//
// A raw ICMP socket sees every ICMP packet that reaches the host (other pings, other programs'
// errors), so nothing is taken on arrival order: echo replies must carry our echo id, a sequence
// number in flight and the probe's 8-byte nonce; ICMP errors must quote an echo request of ours
// (destination, echo id, sequence, the nonce when quoted, and the probe's total length). Anything
// else that claims to concern us is counted in ignoredCounts and never becomes an outcome. A classic
// BPF program on the socket (src/sock/bpf.ts) already drops, in the kernel, replies with another
// echo id and errors quoting anything but an echo request with ours: other pings on the host never
// reach JavaScript or fill our receive buffer. The checks here stay: the filter cannot see nonces.
//
// IP_RECVERR stays off (see ProbeSocket.receiveLocalErrorsOnly): with it, every ICMP error quoting
// any ICMP packet of this host would also be queued, unfiltered, on the error queue — a flood of
// forgeries then fills the receive buffer and the echo replies are dropped. It is switched on only
// for the moment it takes to learn the MTU of a send above the interface MTU.
import { randomInt } from './random.js';
import { DecodeError, UsageError } from '../errors.js';
import { attachFilter, icmpProgram } from '../sock/bpf.js';
import type { Message } from '../sock/socket.js';
import { ICMP6_ECHO_REQUEST, ICMP_ECHO_REQUEST } from '../wire/icmp-types.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ipv4 from '../wire/ipv4.js';
import { decodeQuote, type QuotedDatagram } from '../wire/quote.js';
import type { Outcome } from './outcome.js';
import type { Family } from '../wire/facts.js';
import { classifyIcmpError } from './classify.js';
import { EchoProber, NONCE } from './echo.js';
import { unprovenQuote } from './prober.js';
import { filterIcmpTypes, prepareProbeSocket, RAW_RECEIVE_BUFFER } from './icmp-socket.js';


export interface IcmpProberOptions {
  /** Local address to send from. */
  source?: string;
  /** Echo identifier (default: random per prober, like ping's pid). */
  echoId?: number;
}

export class IcmpProber extends EchoProber {
  readonly method = 'icmp' as const;

  constructor(family: Family, opts: IcmpProberOptions = {}) {
    super(family);
    this.id = opts.echoId ?? randomInt(0, 0x10000);
    if (!Number.isInteger(this.id) || this.id < 0 || this.id > 0xffff) throw new UsageError(`echo id must be 0..65535, got ${opts.echoId}`);
    // Built before the socket opens: until the program is attached the socket queues everything.
    const program = icmpProgram(family, { echoIds: [this.id] });
    // Errors from routers arrive on the raw path too (with the whole quote); of the error queue only
    // LOCAL refusals matter, and sendProbe() turns those into localTooBig itself.
    this.sock = this.openSocket(
      'icmp-raw',
      (sock) => {
        prepareProbeSocket(sock, family, opts.source);
        // Routers' errors come whole on the data path (filtered below); the error queue would get
        // every ICMP error quoting any ICMP packet of this host, unfiltered, and fill the buffer.
        sock.receiveLocalErrorsOnly();
        filterIcmpTypes(sock, family);
        // And in the kernel too, before anything is copied to us: only replies carrying our echo id
        // and errors quoting a request with it (a shared socket will rebuild this from its set of ids).
        attachFilter(sock, program);
        // What arrived between socket() and the filter (a busy host: another ping's replies) was
        // queued unfiltered and cannot be ours, as nothing has been sent: read it away unheard
        // (no listener yet), as libpcap does when it sets a filter.
        sock.drain();
        sock.receiveBuffer(RAW_RECEIVE_BUFFER);
      },
      {
        message: (m) => this.#onMessage(m),
      },
    );
  }

  #onMessage(m: Message): void {
    try {
      if (this.family === 4) this.#onV4(m);
      else this.#onV6(m);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.ignore(m.from, 'ICMP packet', `undecodable: ${err.message}`);
    }
  }

  #onV4(m: Message): void {
    // Raw IPv4 sockets deliver the IP header too.
    const ip = ipv4.decode(m.data);
    const icmp = ipv4.payload(m.data);
    const msg = icmpv4.decode(icmp);
    switch (msg.kind) {
      case 'echoReply':
        if (!msg.checksumValid) return this.ignore(m.from, 'echo reply', 'bad ICMP checksum');
        return this.#onReply(m, msg.id, msg.seq, msg.payload, ip.ttl);
      case 'destUnreachable':
        return this.#onError(m, msg.type, msg.code, msg.nextHopMtu, msg.quoted);
      case 'timeExceeded':
      case 'parameterProblem':
        return this.#onError(m, msg.type, msg.code, 0, msg.quoted);
      default:
        return; // echo requests (our own, on loopback), redirects, ...: not answers
    }
  }

  #onV6(m: Message): void {
    // Raw ICMPv6 sockets deliver from the ICMPv6 header on; the kernel has verified the checksum.
    const msg = icmpv6.decode(m.data);
    switch (msg.kind) {
      case 'echoReply':
        return this.#onReply(m, msg.id, msg.seq, msg.payload, m.ttl);
      case 'packetTooBig':
        return this.#onError(m, msg.type, msg.code, msg.mtu, msg.quoted);
      case 'destUnreachable':
      case 'timeExceeded':
      case 'parameterProblem':
        return this.#onError(m, msg.type, msg.code, 0, msg.quoted);
      default:
        return; // neighbour discovery, our own requests on loopback, ...
    }
  }

  #onReply(m: Message, id: number, seq: number, payload: Buffer, replyTtl: number | undefined): void {
    if (id !== this.id) return this.ignore(m.from, 'echo reply', 'echo id is not ours (another ping)');
    if (payload.length < NONCE) return this.ignore(m.from, 'echo reply', 'payload too short to carry the nonce');
    const p = this.match(m.from, seq, payload.subarray(0, NONCE));
    if (p === undefined) return this.ignore(m.from, 'echo reply', 'matches no probe in flight (sequence or nonce)');
    const outcome: Outcome = { kind: 'delivered', size: p.size, ttl: p.ttl, from: m.from, rttMs: this.rttMs(p, m.receivedAt) };
    if (replyTtl !== undefined) outcome.replyTtl = replyTtl;
    this.resolve(p, outcome);
  }

  #onError(m: Message, type: number, code: number, mtu: number, quoted: Buffer): void {
    const what = `ICMP${this.family === 6 ? 'v6' : ''} error ${type}/${code}`;
    let q: QuotedDatagram;
    try {
      q = decodeQuote(quoted, this.family);
    } catch (err) {
      if (err instanceof DecodeError) return this.ignore(m.from, what, `undecodable quote: ${err.message}`);
      throw err;
    }
    const t = q.transport;
    // A raw ICMP socket sees the host's every ICMP error: one about UDP or TCP (our own udp or tcp
    // method's probes among them) is no answer to an echo, not even a suspicious one.
    if (t !== null && t.kind !== 'icmpEcho') return;
    if (t === null) return this.ignore(m.from, what, 'quotes no ICMP echo (another protocol)');
    if (t.type !== (this.family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) return this.ignore(m.from, what, 'quotes no echo request');
    if (t.id !== this.id) return this.ignore(m.from, what, 'quotes another echo id');
    const p = this.match(q.dst, t.seq, t.payload.length > 0 ? t.payload.subarray(0, NONCE) : null);
    if (p === undefined) return this.ignore(m.from, what, 'matches no probe in flight (destination, sequence or nonce)');
    if (q.totalLength !== null && q.totalLength !== p.size) {
      return this.ignore(m.from, what, `quoted length ${q.totalLength} is not the probe's ${p.size}`);
    }
    const outcome = classifyIcmpError({ family: this.family, type, code, mtu, from: m.from }, { size: p.size, ttl: p.ttl }, this.rttMs(p, m.receivedAt));
    if (outcome === null) return this.ignore(m.from, what, 'not an error a probe can meet');
    const unproven = unprovenQuote(Math.min(t.payload.length, NONCE));
    if (unproven !== undefined) outcome.unproven = unproven;
    this.resolve(p, outcome);
  }

}
