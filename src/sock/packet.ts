// PacketSocket: an AF_PACKET socket (link-layer capture) with the same life cycle as ProbeSocket:
// one fd, one uv_poll_t, typed events, close safe at any time. Used where IP sockets cannot see
// enough: check-server reads a flow's segments with their GSO size, the lab's lying router reads
// the packets it forwards.
// After POLLERR (the interface went down, say) it reports the error and goes on capturing.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { PermissionError, SystemCallError } from '../errors.js';
import { decodePacket, encodePacket, type PacketSockaddr } from './sockaddr.js';
import { c, check, native, type NativePoller } from './binding.js';

export interface Frame {
  /** The frame's first `snaplen` bytes: from the link header (raw) or the network header (dgram). */
  data: Buffer;
  /** Its whole length on the wire. */
  length: number;
  /** Interface, protocol (ethertype), link type and direction (pktType). */
  link: PacketSockaddr;
  /** process.hrtime.bigint() when it was read. */
  receivedAt: bigint;
}

export interface PacketSocketOptions {
  /** 'raw': frames start with the link header; 'dgram': with the network header. */
  type: 'raw' | 'dgram';
  /** Interface index to bind to; 0 (default) = every interface. */
  ifindex?: number;
  /** Bytes of each frame to copy (default 2048). */
  snaplen?: number;
  /** Ask for the virtio_net_hdr before each frame (raw only): GSO super-packets become explainable. */
  vnetHdr?: boolean;
  /** Receive buffer to ask for (capped by net.core.rmem_max). */
  rcvbuf?: number;
}

const htons = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);

export class PacketSocket extends EventEmitter<{ frame: [Frame]; error: [Error] }> {
  /** True when the kernel accepted PACKET_VNET_HDR. */
  readonly vnetHdr: boolean;
  readonly #snaplen: number;
  #fd: number;
  #poller: NativePoller | null = null;
  #closed = false;

  private constructor(fd: number, vnetHdr: boolean, snaplen: number) {
    super();
    this.#fd = fd;
    this.vnetHdr = vnetHdr;
    this.#snaplen = snaplen;
  }

  /** Open and bind (every protocol); a missing CAP_NET_RAW becomes a PermissionError. */
  static open(opts: PacketSocketOptions): PacketSocket {
    const b = native();
    const all = c('ETH_P_ALL');
    const fd = b.socket(c('AF_PACKET'), c(opts.type === 'raw' ? 'SOCK_RAW' : 'SOCK_DGRAM'), htons(all));
    if (fd === -osConstants.errno.EPERM || fd === -osConstants.errno.EACCES) {
      throw new PermissionError(
        'a packet capture (AF_PACKET socket)',
        'CAP_NET_RAW (root)',
        'Run as root, or grant the capability once: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")".',
      );
    }
    if (fd < 0) throw new SystemCallError('socket(AF_PACKET)', -fd);
    try {
      const vnet = opts.vnetHdr === true && b.setsockopt(fd, c('SOL_PACKET'), c('PACKET_VNET_HDR'), 1) === 0;
      if (opts.rcvbuf !== undefined) b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), opts.rcvbuf); // best effort
      check('bind(AF_PACKET)', b.bind(fd, encodePacket(opts.ifindex ?? 0, all)));
      return new PacketSocket(fd, vnet, opts.snaplen ?? 2048);
    } catch (err) {
      b.close(fd);
      throw err;
    }
  }

  /** Start delivering 'frame' events. Idempotent. */
  start(): this {
    if (this.#closed) return this;
    this.#poller ??= new (native().Poller)(this.#fd, (status) => this.#onPoll(status));
    const r = this.#poller.start(c('UV_READABLE'));
    if (r < 0) throw new SystemCallError('uv_poll_start', -r);
    return this;
  }

  #onPoll(status: number): void {
    if (this.#closed) return;
    try {
      if (status < 0) {
        // POLLERR: libuv stopped the handle. Say what the socket reports (its interface went down:
        // ENETDOWN), clear it and its error queue, read what frames wait, and capture on.
        this.#reportPendingError();
        this.drain();
        if (!this.#closed) {
          const r = this.#poller?.start(c('UV_READABLE')) ?? 0;
          if (r < 0) this.emit('error', new SystemCallError('uv_poll_start', -r, 'the capture has stopped'));
        }
        return;
      }
      this.drain();
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** Read (and so clear) the socket's pending error and empty its error queue; report what was there. */
  #reportPendingError(): void {
    const b = native();
    const so = b.getsockopt(this.#fd, c('SOL_SOCKET'), c('SO_ERROR'), 4);
    const err = typeof so === 'number' ? -so : so.length >= 4 ? so.readInt32LE(0) : 0;
    for (let i = 0; i < 1024; i++) {
      const r = b.recvmsg(this.#fd, this.#snaplen, 256, c('MSG_ERRQUEUE'));
      if (typeof r === 'number') {
        if (r === -osConstants.errno.EINTR) continue;
        break;
      }
    }
    if (err !== 0) this.emit('error', new SystemCallError('packet capture', err, 'capturing goes on'));
  }

  /** Read every queued frame now (at most 4096); a failure other than an empty queue is an 'error' event. */
  drain(): void {
    const b = native();
    for (let i = 0; i < 4096 && !this.#closed; i++) {
      const r = b.recvmsg(this.#fd, this.#snaplen, 0, 0);
      if (typeof r === 'number') {
        if (r === -osConstants.errno.EINTR) continue;
        if (r === -osConstants.errno.EAGAIN) return;
        // A frame the kernel could not describe (EINVAL for odd GSO types) is consumed: read on.
        if (r === -osConstants.errno.EINVAL) continue;
        this.emit('error', new SystemCallError('recvmsg(AF_PACKET)', -r));
        return;
      }
      const receivedAt = process.hrtime.bigint();
      let link: PacketSockaddr;
      try {
        link = decodePacket(r.name);
      } catch {
        continue;
      }
      this.emit('frame', { data: r.data, length: r.length, link, receivedAt });
    }
  }

  /** Frames the kernel dropped because the receive buffer was full, since the last call. */
  drops(): number {
    if (this.#closed) return 0;
    const r = native().getsockopt(this.#fd, c('SOL_PACKET'), c('PACKET_STATISTICS'), 8);
    return typeof r === 'number' || r.length < 8 ? 0 : r.readUInt32LE(4); // struct tpacket_stats: packets, drops
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller?.stop();
    this.#poller?.close();
    this.#poller = null;
    native().close(this.#fd);
    this.#fd = -1;
  }
}
