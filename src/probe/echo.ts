// What the two echo methods (icmp over a raw socket, icmp-dgram over a ping socket) share: requests
// built alike — echo id, a 16-bit sequence as the matching key, the 8-byte nonce leading the payload —
// and a round trip measured (the reply is as large as the request).
import { randomInt } from './random.js';
import type { ProbeSocket } from '../sock/socket.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { IP_HEADER } from '../wire/facts.js';
import { Prober, type SendOptions } from './prober.js';
import { canonicalDestination, sendAddress } from './icmp-socket.js';

export const ICMP_HEADER = 8;
export const NONCE = 8;

export abstract class EchoProber extends Prober {
  readonly direction = 'round-trip' as const;
  /** Set by the subclass constructor. */
  protected sock!: ProbeSocket;
  /** Echo identifier every request carries (raw: ours to choose; ping socket: the kernel's). */
  protected id = 0;
  #seq = randomInt(0, 0x10000);

  /** The echo identifier this prober's requests carry. */
  get echoId(): number {
    return this.id;
  }

  get minSize(): number {
    return IP_HEADER[this.family] + ICMP_HEADER + NONCE;
  }

  get socket(): ProbeSocket {
    return this.sock;
  }

  send(destination: string, size: number, opts: SendOptions = {}): number {
    this.checkSize(size);
    const dst = canonicalDestination(destination, this.family);
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    const p = this.register(dst, size, opts.ttl, seq);
    const payload = this.payload(p, size - IP_HEADER[this.family] - ICMP_HEADER);
    const echo = { kind: 'echoRequest', code: 0, id: this.id, seq, payload } as const;
    // ICMPv6: the kernel computes the checksum on raw and ping ICMPv6 sockets (RFC 3542 §3.1).
    const data = this.family === 4 ? icmpv4.encode(echo) : icmpv6.encode(echo);
    this.transmit(this.sock, p, data, { address: sendAddress(dst, destination) });
    return p.token;
  }

  close(): void {
    this.sock.close();
  }
}
