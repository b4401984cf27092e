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
import { PermissionError } from '../errors.js';
import { c } from '../sock/binding.js';
import { PacketSocket, type Frame } from '../sock/packet.js';
import { parseFrame, type CapturedPacket } from './segment.js';

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

export class PacketCapture extends EventEmitter<CaptureEvents> {
  readonly #sock: PacketSocket;
  #flow: Flow | null = null;
  #held: Array<[CapturedPacket, bigint]> = [];

  private constructor(sock: PacketSocket) {
    super();
    this.#sock = sock;
    sock.on('frame', (f) => this.#onFrame(f));
    sock.on('error', (err) => this.emit('error', err));
  }

  /** False when the kernel refused PACKET_VNET_HDR: GSO super-packets are then counted whole. */
  get vnetHdr(): boolean {
    return this.#sock.vnetHdr;
  }

  /** Open the capture socket (CAP_NET_RAW). Opened before any traffic so nothing is missed. */
  static open(): PacketCapture {
    try {
      return new PacketCapture(PacketSocket.open({ type: 'raw', vnetHdr: true, snaplen: SNAPLEN, rcvbuf: RCVBUF }));
    } catch (err) {
      if (!(err instanceof PermissionError)) throw err;
      throw new PermissionError(
        'watching the server\'s segments (an AF_PACKET socket) and sending it a crafted ICMP error (a raw socket)',
        'CAP_NET_RAW (root)',
        'Run as root, or grant the capability once: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")".',
      );
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
    return this.#sock.drops();
  }

  start(): this {
    this.#sock.start();
    return this;
  }

  /** Read every queued frame now, emitting 'packet' for the followed flow. */
  drain(): void {
    this.#sock.drain();
  }

  #onFrame(f: Frame): void {
    const flow = this.#flow;
    if (flow === null) return;
    const { link } = f;
    const p = parseFrame(f.data, { protocol: link.protocol, hatype: link.hatype, vnetHdr: this.vnetHdr, length: f.length });
    if (p === null) return;
    const at = f.receivedAt;
    if (link.pktType === c('PACKET_OUTGOING')) {
      if (this.#ours(p)) this.emit('sent', p, at);
      return;
    }
    if (p.src !== flow.remote || p.srcPort !== flow.remotePort) return;
    if (flow.local === undefined) {
      if (this.#held.length < MAX_HELD) this.#held.push([p, at]);
      return;
    }
    if (this.#matches(p)) this.emit('packet', p, at);
  }

  close(): void {
    this.#sock.close();
  }
}
