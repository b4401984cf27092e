// Watching one TCP flow's incoming segments: an AF_PACKET socket on every interface.
//
// Why AF_PACKET and not a raw IPPROTO_TCP socket: both see the packet after GRO and, on veth or
// loopback, still as the sender's GSO super-packet (measured in the lab: 1652-byte "segments" on
// a 1500-byte path), so both misread segment sizes on their own. Only a packet socket can ask for
// the virtio_net_hdr (PACKET_VNET_HDR, SOCK_RAW only) whose gso_size gives the real segment size.
// A packet socket also sees IPv6 headers (a raw IPv6 socket strips them) and fragments before
// reassembly. Bound to ifindex 0 it sees every interface, so we need not know which one the route
// uses (and /sys/class/net would show the wrong namespace inside the lab anyway).
// We read only the first bytes of each frame (headers) to keep the copy small. Our own outgoing
// segments are read too: the last ACK we sent is the exact rcv_nxt of our kernel, even when the
// capture missed some of the server's segments.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { PermissionError, SystemCallError } from '../errors.js';
import { c, check, native, type NativePoller } from '../sock/binding.js';
import { decodePacket, encodePacket } from '../wire/sockaddr.js';
import { parseFrame, type CapturedPacket } from './segment.js';

// Stable uapi numbers (include/linux/socket.h, include/uapi/linux/if_packet.h); the binding does
// not export them yet.
const PACKET_OUTGOING = 4;
/** Enough for vnet header + Ethernet with two tags + IPv6 with some extensions + TCP with options. */
const SNAPLEN = 384;
const RCVBUF = 4 << 20;

export interface Flow {
  /** The server's address and port (segments from it are the ones we watch). */
  remote: string;
  remotePort: number;
  /** Our end; unknown until connect() completes, when segments may already be arriving. */
  local?: string;
  localPort?: number;
}

/** Packets from the server held while our port is not known yet (a server that talks first). */
const MAX_HELD = 4096;

export interface CaptureEvents {
  /** A segment from the server to us. */
  packet: [CapturedPacket, bigint];
  /** A segment we sent to the server (our ACKs: the kernel's rcv_nxt, exactly). */
  sent: [CapturedPacket, bigint];
  error: [Error];
}

function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

export class PacketCapture extends EventEmitter<CaptureEvents> {
  /** False when the kernel refused PACKET_VNET_HDR: GSO super-packets are then counted whole. */
  readonly vnetHdr: boolean;
  #fd: number;
  #poller: NativePoller | null = null;
  #flow: Flow | null = null;
  #held: Array<[CapturedPacket, bigint]> = [];
  #closed = false;

  private constructor(fd: number, vnetHdr: boolean) {
    super();
    this.#fd = fd;
    this.vnetHdr = vnetHdr;
  }

  /** Open the capture socket (CAP_NET_RAW). Opened before any traffic so nothing is missed. */
  static open(): PacketCapture {
    const b = native();
    const ethPAll = c('ETH_P_ALL');
    const fd = b.socket(c('AF_PACKET'), c('SOCK_RAW'), htons(ethPAll));
    if (fd < 0) {
      if (fd === -osConstants.errno.EPERM || fd === -osConstants.errno.EACCES) {
        throw new PermissionError(
          'watching the server\'s segments (an AF_PACKET socket) and sending it a crafted ICMP error (a raw socket)',
          'CAP_NET_RAW (root)',
          'Run as root, or grant the capability once: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")".',
        );
      }
      throw new SystemCallError('socket(AF_PACKET)', -fd);
    }
    try {
      const vnet = b.setsockopt(fd, c('SOL_PACKET'), c('PACKET_VNET_HDR'), 1) === 0;
      b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), RCVBUF); // capped by net.core.rmem_max; best effort
      check('bind(AF_PACKET)', b.bind(fd, encodePacket(0, ethPAll)));
      return new PacketCapture(fd, vnet);
    } catch (err) {
      b.close(fd);
      throw err;
    }
  }

  /**
   * Deliver only incoming segments of this flow (from remote:remotePort to local:localPort). Set
   * the remote end before connecting and call again with the local end once it is known: what
   * arrived in between is held and then delivered.
   */
  follow(flow: Flow): void {
    this.#flow = flow;
    if (flow.local === undefined) return;
    const held = this.#held;
    this.#held = [];
    for (const [p, at] of held) if (this.#matches(p)) this.emit('packet', p, at);
  }

  #matches(p: CapturedPacket): boolean {
    const f = this.#flow;
    return f !== null && p.src === f.remote && p.srcPort === f.remotePort && p.dst === f.local && p.dstPort === f.localPort;
  }

  #ours(p: CapturedPacket): boolean {
    const f = this.#flow;
    return f !== null && f.local !== undefined && p.src === f.local && p.srcPort === f.localPort && p.dst === f.remote && p.dstPort === f.remotePort;
  }

  /** Frames the kernel dropped because our socket buffer was full, since the last call. */
  drops(): number {
    const r = native().getsockopt(this.#fd, c('SOL_PACKET'), c('PACKET_STATISTICS'), 8);
    return typeof r === 'number' || r.length < 8 ? 0 : r.readUInt32LE(4); // struct tpacket_stats: packets, drops (host order)
  }

  start(): this {
    if (this.#closed) return this;
    this.#poller ??= new (native().Poller)(this.#fd, (status) => {
      if (status < 0) this.emit('error', new SystemCallError('uv_poll', -status));
      else this.drain();
    });
    const r = this.#poller.start(c('UV_READABLE'));
    if (r < 0) throw new SystemCallError('uv_poll_start', -r);
    return this;
  }

  /** Read every queued frame now, emitting 'packet' for the followed flow. */
  drain(): void {
    const b = native();
    for (let i = 0; i < 4096 && !this.#closed; i++) {
      const r = b.recvmsg(this.#fd, SNAPLEN, 0, c('MSG_DONTWAIT'));
      if (typeof r === 'number') {
        if (r === -osConstants.errno.EINTR) continue;
        return; // EAGAIN, or a frame the kernel could not describe (EINVAL for odd GSO types)
      }
      const at = process.hrtime.bigint();
      const flow = this.#flow;
      if (flow === null) continue;
      let sa;
      try {
        sa = decodePacket(r.name);
      } catch {
        continue;
      }
      const p = parseFrame(r.data, { protocol: sa.protocol, hatype: sa.hatype, vnetHdr: this.vnetHdr, length: r.length });
      if (p === null) continue;
      if (sa.pktType === PACKET_OUTGOING) {
        if (this.#ours(p)) this.emit('sent', p, at);
        continue;
      }
      if (p.src !== flow.remote || p.srcPort !== flow.remotePort) continue;
      if (flow.local === undefined) {
        if (this.#held.length < MAX_HELD) this.#held.push([p, at]);
        continue;
      }
      if (this.#matches(p)) this.emit('packet', p, at);
    }
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
