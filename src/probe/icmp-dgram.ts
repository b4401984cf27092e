// The icmp-dgram method: echo requests through unprivileged ICMP sockets (SOCK_DGRAM with
// IPPROTO_ICMP / IPPROTO_ICMPV6, Linux "ping sockets"), allowed when net.ipv4.ping_group_range
// includes the user's group (the same sysctl governs IPv6). Round trip, like icmp.
//
// What the kernel does for us, and to us (checked in the lab, IPv4 and IPv6):
// - it rewrites the echo id to the socket's "port" (chosen at bind) and fills the checksum;
// - it delivers only replies carrying that id, as ICMP header + payload (no IP header);
// - ICMP errors come only through IP_RECVERR / IPV6_RECVERR, already matched to this socket by the
//   quoted echo id: the entry names the original destination and the offender, carries the type,
//   code and next-hop MTU (ee_info), and its payload is the quoted datagram from the echo header on.
// So a forged error with a wrong id never reaches us; one with our id is still checked against the
// sequence number and nonce of a probe in flight, and ignored otherwise.
import { DecodeError } from '../errors.js';
import type { ErrQueueEntry, Message } from '../sock/socket.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from '../wire/icmp-types.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import type { Outcome } from './outcome.js';
import type { Family } from '../wire/facts.js';
import { classifyIcmpError } from './classify.js';
import { EchoProber, NONCE } from './echo.js';
import { unprovenQuote } from './prober.js';
import { prepareProbeSocket, SHARED_RECEIVE_BUFFER } from './icmp-socket.js';

export interface IcmpDgramProberOptions {
  /** Local address to send from. */
  source?: string;
}

export class IcmpDgramProber extends EchoProber {
  readonly method = 'icmp-dgram' as const;

  constructor(family: Family, opts: IcmpDgramProberOptions = {}) {
    super(family);
    this.sock = this.openSocket(
      'icmp-dgram',
      (sock) => {
        prepareProbeSocket(sock, family, opts.source);
        sock.receiveBuffer(SHARED_RECEIVE_BUFFER);
        // Binding picks the echo id now (port 0: the kernel chooses a free one), so it is known
        // before the first send.
        if (opts.source === undefined) sock.bind(family === 4 ? '0.0.0.0' : '::', 0);
      },
      { message: (m) => this.#onMessage(m), errqueue: (e) => this.#onError(e) },
    );
    this.id = this.sock.localAddress().port;
  }

  #decodeEcho(b: Buffer): { type: number; id: number; seq: number; payload: Buffer } | null {
    const msg = this.family === 4 ? icmpv4.decode(b) : icmpv6.decode(b);
    if (msg.kind !== 'echoReply' && msg.kind !== 'echoRequest') return null;
    return { type: msg.type, id: msg.id, seq: msg.seq, payload: msg.payload };
  }

  #onMessage(m: Message): void {
    let echo;
    try {
      echo = this.#decodeEcho(m.data);
    } catch (err) {
      if (err instanceof DecodeError) return this.ignore(m.from, 'ICMP message', `undecodable: ${err.message}`);
      throw err;
    }
    if (echo === null || echo.type !== (this.family === 4 ? ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY)) return this.ignore(m.from, 'ICMP message', 'not an echo reply');
    if (echo.id !== this.id) return this.ignore(m.from, 'echo reply', 'echo id is not ours');
    if (echo.payload.length < NONCE) return this.ignore(m.from, 'echo reply', 'payload too short to carry the nonce');
    const p = this.match(m.from, echo.seq, echo.payload.subarray(0, NONCE));
    if (p === undefined) return this.ignore(m.from, 'echo reply', 'matches no probe in flight (sequence or nonce)');
    const outcome: Outcome = { kind: 'delivered', size: p.size, ttl: p.ttl, from: m.from, rttMs: this.rttMs(p, m.receivedAt) };
    if (m.ttl !== undefined) outcome.replyTtl = m.ttl;
    this.resolve(p, outcome);
  }

  #onError(e: ErrQueueEntry): void {
    // sendProbe() reports local EMSGSIZE itself; other local errors leave the probe to time out.
    if (e.origin === 'local') return;
    const from = e.offender ?? e.destination ?? '';
    const what = `${e.origin} error ${e.type}/${e.code}`;
    if (e.origin !== (this.family === 4 ? 'icmp' : 'icmp6')) return this.ignore(from, what, 'unknown error origin');
    let echo;
    try {
      echo = this.#decodeEcho(e.payload);
    } catch (err) {
      if (err instanceof DecodeError) return this.ignore(from, what, `undecodable quote: ${err.message}`);
      throw err;
    }
    if (echo === null || echo.type !== (this.family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) return this.ignore(from, what, 'quotes no echo request');
    if (echo.id !== this.id) return this.ignore(from, what, 'quotes another echo id');
    const nonce = echo.payload.length > 0 ? echo.payload.subarray(0, NONCE) : null;
    const p = this.match(e.destination, echo.seq, nonce);
    if (p === undefined) return this.ignore(from, what, 'matches no probe in flight (destination, sequence or nonce)');
    const outcome = classifyIcmpError(
      { family: this.family, type: e.type, code: e.code, mtu: e.info, from },
      { size: p.size, ttl: p.ttl },
      this.rttMs(p, e.receivedAt),
    );
    if (outcome === null) return this.ignore(from, what, 'not an error a probe can meet');
    const unproven = unprovenQuote(Math.min(echo.payload.length, NONCE));
    if (unproven !== undefined) outcome.unproven = unproven;
    this.resolve(p, outcome);
  }

}
