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
// Two ways to run it: Liar.open() in this process (inside a namespace entered with lab.enter()),
// or startLiar(), which starts it as its own process in the router's namespace — a router that
// lies no matter what the tracing process does. A RouterSpec with liePtb gets one at Lab.create().
import { EventEmitter } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LabError, SystemCallError } from '../errors.js';
import type { Family } from '../probe/outcome.js';
import { PACKET_HOST, PacketSocket, type Frame } from '../sock/packet.js';
import { ProbeSocket } from '../sock/socket.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import { ifindex } from './config.js';
import type { Lab } from './lab.js';
import type { PtbLie } from './spec.js';

/** The next-hop MTU to claim, and above which size (RouterSpec.liePtb). */
export type LieSpec = PtbLie;

export interface LiarOptions extends LieSpec {
  /** Interface index to watch (the router's client-side interface). */
  ifindex: number;
  /** The router's own addresses: packets for them are not forwarded, so never lied about. */
  own: string[];
}

export interface Lie {
  family: Family;
  /** Who gets the lie (the packet's source). */
  to: string;
  /** Where the packet was going. */
  dst: string;
  size: number;
  mtu: number;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
/** Enough to quote what an ICMP error may carry: 576 bytes in all (IPv4), 1280 (IPv6). */
const SNAPLEN = 1280;
const QUOTE = { 4: 576 - 20 - 8, 6: 1280 - 40 - 8 } as const;

export class Liar extends EventEmitter<{ lie: [Lie]; error: [Error] }> {
  /** Lies told so far. */
  lies = 0;
  readonly #opts: Required<LieSpec> & LiarOptions;
  readonly #capture: PacketSocket;
  readonly #raw: Record<Family, ProbeSocket>;

  private constructor(capture: PacketSocket, raw: Record<Family, ProbeSocket>, opts: LiarOptions) {
    super();
    this.#capture = capture;
    this.#raw = raw;
    this.#opts = { ...opts, above: opts.above ?? opts.mtu };
    capture.on('frame', (f) => this.#onFrame(f));
    capture.on('error', (err) => this.emit('error', err));
    capture.start();
  }

  /** Start lying in the current network namespace (needs CAP_NET_RAW). */
  static open(opts: LiarOptions): Liar {
    // 0 is allowed: what an RFC 792 router (from before RFC 1191) puts there.
    if (!Number.isInteger(opts.mtu) || (opts.mtu !== 0 && opts.mtu < 68) || opts.mtu > 65535) throw new LabError(`liar: mtu ${opts.mtu} outside 68..65535 (or 0)`);
    const capture = PacketSocket.open({ type: 'dgram', ifindex: opts.ifindex, snaplen: SNAPLEN });
    const raw: Partial<Record<Family, ProbeSocket>> = {};
    try {
      raw[4] = ProbeSocket.open('icmp-raw', 4);
      raw[6] = ProbeSocket.open('icmp-raw', 6);
      return new Liar(capture, raw as Record<Family, ProbeSocket>, opts);
    } catch (err) {
      capture.close();
      raw[4]?.close();
      raw[6]?.close();
      throw err;
    }
  }

  #onFrame(f: Frame): void {
    if (f.link.pktType !== PACKET_HOST) return; // only what arrives for this router to route
    try {
      if (f.link.protocol === ETH_P_IP) this.#maybeLie4(f.data);
      else if (f.link.protocol === ETH_P_IPV6) this.#maybeLie6(f.data);
    } catch (err) {
      // A malformed packet is not ours to lie about; a failing send is worth knowing.
      if (err instanceof SystemCallError) this.emit('error', err);
    }
  }

  #maybeLie4(packet: Buffer): void {
    const h = ipv4.decode(packet);
    // TTL 1 is answered with time-exceeded, not forwarded; without DF a router fragments instead.
    if (h.ttl <= 1 || !h.df || h.fragmentOffset !== 0 || h.totalLength <= this.#opts.above) return;
    if (this.#opts.own.includes(h.dst)) return;
    const quoted = packet.subarray(0, Math.min(packet.length, QUOTE[4]));
    this.#raw[4].send(icmpv4.encode({ kind: 'destUnreachable', code: 4, nextHopMtu: this.#opts.mtu, quoted }), { address: h.src });
    this.#told({ family: 4, to: h.src, dst: h.dst, size: h.totalLength, mtu: this.#opts.mtu });
  }

  #maybeLie6(packet: Buffer): void {
    const h = ipv6.decode(packet);
    const size = h.payloadLength + ipv6.HEADER_LENGTH;
    if (h.hopLimit <= 1 || size <= this.#opts.above) return;
    if (this.#opts.own.includes(h.dst) || h.src.toLowerCase().startsWith('fe80:')) return;
    const quoted = packet.subarray(0, Math.min(packet.length, QUOTE[6]));
    // The kernel fills in the ICMPv6 checksum on a raw ICMPv6 socket.
    this.#raw[6].send(icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: this.#opts.mtu, quoted }), { address: h.src });
    this.#told({ family: 6, to: h.src, dst: h.dst, size, mtu: this.#opts.mtu });
  }

  #told(lie: Lie): void {
    this.lies++;
    this.emit('lie', lie);
  }

  close(): void {
    this.#capture.close();
    this.#raw[4].close();
    this.#raw[6].close();
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
 * Start a lying router process in router `index` (1-based) of a lab. Resolves once it is watching.
 * The process is the lab's child: lab.destroy() kills it if stop() was never called.
 */
export async function startLiar(lab: Lab, index: number, spec: LieSpec): Promise<LiarProcess> {
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
