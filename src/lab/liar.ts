// A lying router, for tests and demos: it watches the packets it forwards and, for every one above
// a size, sends the sender a "fragmentation needed" / "packet too big" claiming a next-hop MTU that
// is WRONG — while the kernel forwards the packet all the same. A probe larger than the claim is
// then delivered, which contradicts it: exactly what trace must flag as a bogus PTB.
//
// How: an AF_PACKET socket (SOCK_DGRAM: packets start at the IP header) bound to the router's
// client-side interface sees each incoming packet before the kernel routes it; it only copies, so
// forwarding goes on untouched. The PTB quotes the packet as it arrived (RFC 792/4443: IP header
// and as much as fits) and leaves by an ordinary raw ICMP socket: the kernel picks the source
// address facing the sender (the router's 'in' address, as for its genuine errors) and, for
// ICMPv6, the checksum.
//
// It can also forge destination-unreachables (`forge`): for every forwarded packet of a protocol
// above a size, an ICMP error spoofed "from" the packet's destination (a raw IPPROTO_RAW socket
// writes the whole IP header) that quotes the IP header and only the first `quoteBytes` bytes of
// the transport — the UDP or echo header, perhaps part of a nonce: just what an off-path attacker
// who sees headers could send (RFC 5927). Such a quote must never prove anything.
//
// Two ways to run it: Liar.open() in this process (inside a namespace entered with lab.enter()),
// or startLiar(), which starts it as its own process in the router's namespace — a router that
// lies no matter what the tracing process does. A RouterSpec with liePtb gets one at Lab.create().
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DecodeError, LabError, SystemCallError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { PacketSocket, type Frame } from '../sock/packet.js';
import { c, native } from '../sock/binding.js';
import { ProbeSocket } from '../sock/socket.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { ICMP6_DST_UNREACH_NOPORT, ICMP6_ECHO_REQUEST, ICMP_ECHO_REQUEST, ICMP_PORT_UNREACH } from '../wire/icmp-types.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../wire/protocols.js';
import { encodePtb } from '../wire/ptb.js';
import { encodeInet } from '../sock/sockaddr.js';
import { ifindex } from './config.js';
import type { PtbLie, Side } from './spec.js';

/** The next-hop MTU to claim, and above which size (RouterSpec.liePtb). */
export type LieSpec = PtbLie;

/** Forged destination-unreachables, spoofed from each forwarded packet's destination. */
export interface UnreachableForgery {
  /** Which packets: UDP datagrams or ICMP/ICMPv6 echo requests. */
  protocol: 'udp' | 'echo';
  /** ICMP code (default: port unreachable, 3 for IPv4, 4 for IPv6). */
  code?: number;
  /** Bytes of the packet's transport (header first) to quote, at least 8 (default 8). */
  quoteBytes?: number;
  /** Only about packets larger than this many bytes (default 0: all). */
  above?: number;
}

/** What a liar process does: PTB lies (mtu/above), forged unreachables, or both. */
export interface LiarSpec extends Partial<PtbLie> {
  forge?: UnreachableForgery;
}

export interface LiarOptions extends LiarSpec {
  /** Interface index to watch (the router's client-side interface). */
  ifindex: number;
  /** The router's own addresses: packets for them are not forwarded, so never lied about. */
  own: string[];
}

export interface Lie {
  /** 'ptb' (a PTB lie, the default) or 'unreachable' (a forged unreachable). */
  kind?: 'ptb' | 'unreachable';
  family: Family;
  /** Who gets the lie (the packet's source). */
  to: string;
  /** Where the packet was going. */
  dst: string;
  size: number;
  /** The claimed MTU (PTB lies; 0 for forged unreachables). */
  mtu: number;
}

/** Enough to quote what an ICMP error may carry: 576 bytes in all (IPv4), 1280 (IPv6). */
const SNAPLEN = 1280;
const QUOTE = { 4: 576 - 20 - 8, 6: 1280 - 40 - 8 } as const;

export class Liar extends EventEmitter<{ lie: [Lie]; error: [Error] }> {
  /** Lies told so far. */
  lies = 0;
  readonly #opts: LiarOptions & { above: number };
  readonly #capture: PacketSocket;
  readonly #raw: Record<Family, ProbeSocket>;
  /** IPPROTO_RAW sockets (the whole IP header is ours: a spoofed source), when forging. */
  readonly #spoof: Record<Family, number> | null;

  private constructor(capture: PacketSocket, raw: Record<Family, ProbeSocket>, spoof: Record<Family, number> | null, opts: LiarOptions) {
    super();
    this.#capture = capture;
    this.#raw = raw;
    this.#spoof = spoof;
    this.#opts = { ...opts, above: opts.above ?? opts.mtu ?? 0 };
    capture.on('frame', (f) => this.#onFrame(f));
    capture.on('error', (err) => this.emit('error', err));
    capture.start();
  }

  /** Start lying in the current network namespace (needs CAP_NET_RAW). */
  static open(opts: LiarOptions): Liar {
    // 0 is allowed: what an RFC 792 router (from before RFC 1191) puts there.
    if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || (opts.mtu !== 0 && opts.mtu < 68) || opts.mtu > 65535)) {
      throw new LabError(`liar: mtu ${opts.mtu} outside 68..65535 (or 0)`);
    }
    if (opts.mtu === undefined && opts.forge === undefined) throw new LabError('liar: nothing to lie about (give mtu, forge or both)');
    const f = opts.forge;
    if (f !== undefined) {
      if (f.protocol !== 'udp' && f.protocol !== 'echo') throw new LabError(`liar: forge.protocol must be udp or echo, got ${String(f.protocol)}`);
      const q = f.quoteBytes ?? 8;
      if (!Number.isInteger(q) || q < 8 || q > 1232) throw new LabError(`liar: forge.quoteBytes ${q} outside 8..1232`);
    }
    const capture = PacketSocket.open({ type: 'dgram', ifindex: opts.ifindex, snaplen: SNAPLEN });
    const raw: Partial<Record<Family, ProbeSocket>> = {};
    const spoof: Partial<Record<Family, number>> = {};
    try {
      raw[4] = ProbeSocket.open('icmp-raw', 4);
      raw[6] = ProbeSocket.open('icmp-raw', 6);
      if (f !== undefined) {
        for (const fam of [4, 6] as Family[]) {
          const fd = native().socket(c(fam === 4 ? 'AF_INET' : 'AF_INET6'), c('SOCK_RAW'), c('IPPROTO_RAW'));
          if (fd < 0) throw new SystemCallError('socket(IPPROTO_RAW)', -fd);
          spoof[fam] = fd;
        }
      }
      return new Liar(capture, raw as Record<Family, ProbeSocket>, f !== undefined ? (spoof as Record<Family, number>) : null, opts);
    } catch (err) {
      capture.close();
      raw[4]?.close();
      raw[6]?.close();
      for (const fd of Object.values(spoof)) native().close(fd);
      throw err;
    }
  }

  #onFrame(f: Frame): void {
    if (f.link.pktType !== c('PACKET_HOST')) return; // only what arrives for this router to route
    try {
      if (f.link.protocol === c('ETH_P_IP')) {
        if (this.#opts.mtu !== undefined) this.#maybeLie4(f.data);
        if (this.#spoof !== null) this.#maybeForge(4, f.data);
      } else if (f.link.protocol === c('ETH_P_IPV6')) {
        if (this.#opts.mtu !== undefined) this.#maybeLie6(f.data);
        if (this.#spoof !== null) this.#maybeForge(6, f.data);
      }
    } catch (err) {
      // A malformed packet is not ours to lie about; anything else (a failing send, a bug) is
      // worth knowing.
      if (!(err instanceof DecodeError)) this.emit('error', err as Error);
    }
  }

  #maybeLie4(packet: Buffer): void {
    const h = ipv4.decode(packet);
    // TTL 1 is answered with time-exceeded, not forwarded; without DF a router fragments instead.
    if (h.ttl <= 1 || !h.df || h.fragmentOffset !== 0 || h.totalLength <= this.#opts.above) return;
    if (this.#opts.own.includes(h.dst)) return;
    const quoted = packet.subarray(0, Math.min(packet.length, QUOTE[4]));
    const mtu = this.#opts.mtu!;
    this.#raw[4].send(encodePtb({ family: 4, mtu, quoted }), { address: h.src });
    this.#told({ family: 4, to: h.src, dst: h.dst, size: h.totalLength, mtu });
  }

  #maybeLie6(packet: Buffer): void {
    const h = ipv6.decode(packet);
    const size = h.payloadLength + ipv6.HEADER_LENGTH;
    if (h.hopLimit <= 1 || size <= this.#opts.above) return;
    if (this.#opts.own.includes(h.dst) || h.src.toLowerCase().startsWith('fe80:')) return;
    const quoted = packet.subarray(0, Math.min(packet.length, QUOTE[6]));
    // The kernel fills in the ICMPv6 checksum on a raw ICMPv6 socket.
    const mtu = this.#opts.mtu!;
    this.#raw[6].send(encodePtb({ family: 6, mtu, quoted }), { address: h.src });
    this.#told({ family: 6, to: h.src, dst: h.dst, size, mtu });
  }

  /** A destination-unreachable spoofed from the packet's destination, quoting little of it. */
  #maybeForge(family: Family, packet: Buffer): void {
    const f = this.#opts.forge!;
    const h = family === 4 ? ipv4.decode(packet) : ipv6.decode(packet);
    const headerLength = family === 4 ? (h as ipv4.DecodedIpv4Header).headerLength : (h as ipv6.DecodedIpv6Header).headerLength;
    const size = family === 4 ? (h as ipv4.DecodedIpv4Header).totalLength : (h as ipv6.DecodedIpv6Header).payloadLength + ipv6.HEADER_LENGTH;
    const ttl = family === 4 ? (h as ipv4.DecodedIpv4Header).ttl : (h as ipv6.DecodedIpv6Header).hopLimit;
    if (ttl <= 1 || size <= (f.above ?? 0) || this.#opts.own.includes(h.dst)) return;
    const wanted = f.protocol === 'udp' ? IPPROTO_UDP : family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    if (h.protocol !== wanted) return;
    const transport = packet.subarray(headerLength);
    if (f.protocol === 'echo' && transport[0] !== (family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) return; // echo requests only
    const quoted = packet.subarray(0, Math.min(packet.length, headerLength + (f.quoteBytes ?? 8)));
    const code = f.code ?? (family === 4 ? ICMP_PORT_UNREACH : ICMP6_DST_UNREACH_NOPORT);
    let out: Buffer;
    if (family === 4) {
      const icmp = icmpv4.encode({ kind: 'destUnreachable', code, nextHopMtu: 0, quoted });
      const ip = ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + icmp.length, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_ICMP, src: h.dst, dst: h.src, options: Buffer.alloc(0) });
      out = Buffer.concat([ip, icmp]);
    } else {
      const icmp = icmpv6.encode({ kind: 'destUnreachable', code, quoted }, undefined, 0, { src: h.dst, dst: h.src });
      const ip = ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: icmp.length, hopLimit: 64, src: h.dst, dst: h.src, extensions: [], protocol: IPPROTO_ICMPV6 });
      out = Buffer.concat([ip, icmp]);
    }
    const r = native().sendmsg(this.#spoof![family], out, encodeInet({ family, address: h.src, port: 0 }), null, 0);
    if (r < 0) throw new SystemCallError('sendmsg(IPPROTO_RAW)', -r);
    this.#told({ kind: 'unreachable', family, to: h.src, dst: h.dst, size, mtu: 0 });
  }

  #told(lie: Lie): void {
    this.lies++;
    this.emit('lie', lie);
  }

  close(): void {
    this.#capture.close();
    this.#raw[4].close();
    this.#raw[6].close();
    if (this.#spoof !== null) for (const fd of Object.values(this.#spoof)) native().close(fd);
  }
}

/** A liar running as its own process in a router's namespace. */
export interface LiarProcess {
  /** Lies reported so far (the child prints one line per lie). */
  readonly lies: Lie[];
  stop(): Promise<void>;
}

const READY_MS = 15_000;

/**
 * What startLiar needs of a lab: its routers' addresses and a way to run a process in one of its
 * nodes. A Lab is one; declared here so liar.ts need not import lab.ts, which imports liar.ts.
 */
export interface LiarHost {
  routerAddress(index: number, family: Family, side: Side): string;
  spawn(node: string, argv: string[], opts?: SpawnOptions): ChildProcess;
}

/**
 * Start a lying router process in router `index` (1-based) of a lab. Resolves once it is watching.
 * The process is the lab's child: lab.destroy() kills it if stop() was never called.
 */
export async function startLiar(lab: LiarHost, index: number, spec: LiarSpec): Promise<LiarProcess> {
  const node = `r${index}`;
  const own = [4, 6].flatMap((f) => [lab.routerAddress(index, f as Family, 'in'), lab.routerAddress(index, f as Family, 'out')]);
  const opts: LiarOptions = { ...spec, ifindex: ifindex(index - 1, 'right'), own };
  const self = fileURLToPath(import.meta.url);
  // Run this very file: through tsx from the sources, directly once compiled.
  const argv = self.endsWith('.ts') ? [process.execPath, '--import', 'tsx', self] : [process.execPath, self];
  const child = lab.spawn(node, [...argv, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lies: Lie[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new LabError(`liar in ${node} did not start: ${stderr.trim()}`)), READY_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError(`liar in ${node} exited (${code}): ${stderr.trim()}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith('{')) lies.push(JSON.parse(line) as Lie);
      }
    });
  });
  return {
    lies,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// Run as a process: `node liar.js '<LiarOptions as JSON>'` inside the router's namespace.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const liar = Liar.open(JSON.parse(process.argv[2] ?? '{}') as LiarOptions);
  liar.on('lie', (l) => process.stdout.write(`${JSON.stringify(l)}\n`));
  liar.on('error', (e) => process.stderr.write(`liar: ${e.message}\n`));
  const stop = (): void => {
    liar.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('ready\n');
}
