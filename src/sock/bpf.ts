// Classic BPF (the socket filter of SO_ATTACH_FILTER): a small assembler, the programs pathmtu
// attaches, and attach/detach on a socket.
//
// Why: a raw ICMP socket gets a copy of every ICMP packet the host receives, a packet socket every
// frame. ICMP_FILTER narrows raw ICMP by type only; a socket filter runs in the kernel on each
// packet before it is queued, so replies to other programs' pings and errors about other flows
// never cost a copy, a wake-up or JavaScript — and never fill the receive buffer under a flood.
//
// The machine (bpf(4), Documentation/networking/filter.rst): registers A and X (u32), 16 scratch
// words M[], a program of at most BPF_MAXINSNS instructions {u16 code, u8 jt, u8 jf, u32 k}.
// Loads are big-endian; a load past the packet's end drops it. Conditional jumps go forward only,
// by at most 255 instructions (jt/jf are u8); `ja` takes a 32-bit offset. `ret k` keeps the first k
// bytes, `ret 0` drops. Where the packet starts depends on the socket:
//   raw IPv4 socket: at the IP header (options possible: the ICMP header is at 4 * IHL);
//   raw IPv6 socket: at the ICMPv6 header (the kernel has stripped the IPv6 header);
//   packet socket:   at the link header (SOCK_RAW); k from SKF_NET_OFF counts from the network
//                    header whatever the link type, and SKF_AD_OFF + SKF_AD_PROTOCOL reads the
//                    ethertype (skb->protocol), so one program serves Ethernet, loopback and tun.
// Instruction numbers come from the binding (linux/filter.h), like every other ABI constant.
// test/sock/bpf-vm.ts runs these programs in a TypeScript interpreter of the same machine.
import { endianness } from 'node:os';
import { UsageError } from '../errors.js';
import { ipFamily, ipToBytes } from '../wire/addr.js';
import {
  ICMP6_DST_UNREACH,
  ICMP6_ECHO_REPLY,
  ICMP6_ECHO_REQUEST,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROB,
  ICMP6_TIME_EXCEEDED,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED,
} from '../wire/icmp-types.js';
import { IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ROUTING, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocols.js';
import { c, check, native, type NativeBinding } from './binding.js';

/** One instruction: struct sock_filter. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** What `ret` returns to keep a whole packet (tcpdump's default snap length; more than any IP packet). */
export const ACCEPT = 0x40000;

/** Opcode from the names of its parts, e.g. op('LD', 'H', 'ABS') = BPF_LD|BPF_H|BPF_ABS. */
export function op(...parts: string[]): number {
  let code = 0;
  for (const p of parts) code |= c(`BPF_${p}`);
  return code;
}

/** BPF_CLASS(code): the low three bits. */
export const insnClass = (code: number): number => code & 0x07;

type Target = string | number;
type Pending = { code: number; jt: Target; jf: Target; k: number; line: number };

/**
 * An assembler with labels. Instructions are appended in order; a jump names a label (resolved
 * when assemble() runs) or a relative count (0 = the next instruction). Conditional jumps reach at
 * most 255 ahead: for farther targets use ifGoto()/unlessGoto(), which pair a short test with `ja`.
 */
export class Assembler {
  readonly #insns: Pending[] = [];
  readonly #labels = new Map<string, number>();
  #auto = 0;

  /** A label unique to this program (for blocks that emit their own). */
  fresh(prefix: string): string {
    return `${prefix}#${this.#auto++}`;
  }

  label(name: string): this {
    if (this.#labels.has(name)) throw new UsageError(`BPF label ${name} defined twice`);
    this.#labels.set(name, this.#insns.length);
    return this;
  }

  #emit(code: number, k = 0, jt: Target = 0, jf: Target = 0): this {
    if (!Number.isInteger(k) || k < -0x80000000 || k > 0xffffffff) throw new UsageError(`BPF constant must be a 32-bit integer, got ${k}`);
    this.#insns.push({ code, jt, jf, k: k >>> 0, line: this.#insns.length });
    return this;
  }

  /** A = u32/u16/u8 at packet[k] (size 'W' | 'H' | 'B'); k may be an SKF_* negative offset. */
  ld(size: 'W' | 'H' | 'B', k: number): this {
    return this.#emit(op('LD', size, 'ABS'), k);
  }

  /** A = u32/u16/u8 at packet[X + k]. */
  ldInd(size: 'W' | 'H' | 'B', k: number): this {
    return this.#emit(op('LD', size, 'IND'), k);
  }

  /** A = k. */
  ldImm(k: number): this {
    return this.#emit(op('LD', 'W', 'IMM'), k);
  }

  /** A = M[i]. */
  ldMem(i: number): this {
    return this.#emit(op('LD', 'W', 'MEM'), i);
  }

  /** X = 4 * (packet[k] & 0xf): the length of an IPv4 header at k. */
  ldxIpHeaderLength(k: number): this {
    return this.#emit(op('LDX', 'B', 'MSH'), k);
  }

  /** M[i] = A. */
  st(i: number): this {
    return this.#emit(op('ST'), i);
  }

  /** A = A <op> k, op one of ADD SUB MUL DIV OR AND LSH RSH MOD XOR. */
  alu(name: 'ADD' | 'SUB' | 'MUL' | 'DIV' | 'OR' | 'AND' | 'LSH' | 'RSH' | 'MOD' | 'XOR', k: number): this {
    return this.#emit(op('ALU', name, 'K'), k);
  }

  /** A = A + X. */
  addX(): this {
    return this.#emit(op('ALU', 'ADD', 'X'));
  }

  /** X = A. */
  tax(): this {
    return this.#emit(op('MISC', 'TAX'));
  }

  /** if (A <cmp> k) goto jt else goto jf; cmp one of JEQ (==), JGT (>), JGE (>=), JSET (A & k). */
  jmp(cmp: 'JEQ' | 'JGT' | 'JGE' | 'JSET', k: number, jt: Target, jf: Target): this {
    return this.#emit(op('JMP', cmp, 'K'), k, jt, jf);
  }

  /** goto target (any distance forward). */
  ja(target: Target): this {
    return this.#emit(op('JMP', 'JA'), 0, target, 0);
  }

  /** if (A <cmp> k) goto label, however far; else fall through. */
  ifGoto(cmp: 'JEQ' | 'JGT' | 'JGE' | 'JSET', k: number, label: string): this {
    return this.jmp(cmp, k, 0, 1).ja(label);
  }

  /** if !(A <cmp> k) goto label, however far; else fall through. */
  unlessGoto(cmp: 'JEQ' | 'JGT' | 'JGE' | 'JSET', k: number, label: string): this {
    return this.jmp(cmp, k, 1, 0).ja(label);
  }

  /** Return k: keep the first k bytes (0 drops the packet). */
  ret(k: number): this {
    return this.#emit(op('RET', 'K'), k);
  }

  /**
   * Accept when A is one of `values`; fall through otherwise. Values are sorted and runs of
   * consecutive numbers become one range test, each test followed by its own `ret`, so every jump is
   * short however many values there are (2 instructions per lone value, 3 per range).
   */
  acceptIfIn(values: ValueSet): this {
    for (const [lo, hi] of ranges(values)) {
      if (lo === hi) this.jmp('JEQ', lo, 0, 1).ret(ACCEPT);
      else this.jmp('JGE', lo, 0, 2).jmp('JGT', hi, 1, 0).ret(ACCEPT);
    }
    return this;
  }

  /** The program, jumps resolved. Throws UsageError for an unknown label, a backward or too long jump. */
  assemble(): Insn[] {
    const max = c('BPF_MAXINSNS');
    if (this.#insns.length === 0 || this.#insns.length > max) throw new UsageError(`a BPF program has 1 to ${max} instructions, this one ${this.#insns.length}`);
    const last = this.#insns[this.#insns.length - 1]!;
    if (insnClass(last.code) !== c('BPF_RET')) throw new UsageError('a BPF program must end with ret');
    const ja = op('JMP', 'JA');
    return this.#insns.map((p) => {
      const rel = (t: Target, limit: number): number => {
        let d: number;
        if (typeof t === 'number') d = t;
        else {
          const at = this.#labels.get(t);
          if (at === undefined) throw new UsageError(`BPF label ${t} is not defined`);
          d = at - p.line - 1;
        }
        if (d < 0 || d > limit || p.line + 1 + d >= this.#insns.length) throw new UsageError(`BPF jump from instruction ${p.line} to ${String(t)} is out of reach`);
        return d;
      };
      if (p.code === ja) return { code: p.code, jt: 0, jf: 0, k: rel(p.jt, 0xffffffff) };
      if (insnClass(p.code) === c('BPF_JMP')) return { code: p.code, jt: rel(p.jt, 255), jf: rel(p.jf, 255), k: p.k };
      return { code: p.code, jt: 0, jf: 0, k: p.k };
    });
  }
}

/** A set of 16-bit numbers (echo ids, ports): a list, or an inclusive range. */
export type ValueSet = Iterable<number> | { from: number; to: number };

/** Sorted, merged inclusive ranges of a ValueSet; each value must be 0..65535. */
export function ranges(values: ValueSet): Array<[number, number]> {
  const check16 = (v: number): number => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new UsageError(`echo ids and ports are 0..65535, got ${v}`);
    return v;
  };
  if ('from' in values) {
    const lo = check16(values.from);
    const hi = check16(values.to);
    if (lo > hi) throw new UsageError(`empty range ${lo}..${hi}`);
    return [[lo, hi]];
  }
  const sorted = [...new Set([...values].map(check16))].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const lastRange = out[out.length - 1];
    if (lastRange !== undefined && lastRange[1] + 1 === v) lastRange[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/** What an ICMP socket's program lets through. */
export interface IcmpFilterSpec {
  /** Echo ids of our requests: their replies, and errors quoting them. */
  echoIds: ValueSet;
  /** Source ports of our UDP datagrams whose ICMP errors we want (none when omitted). */
  udpPorts?: ValueSet;
  /** Source ports of our TCP segments whose ICMP errors we want (none when omitted). */
  tcpPorts?: ValueSet;
}

const ICMP_QUOTE = 8; // an ICMP error's own header; the quoted datagram follows (RFC 792, RFC 4443)
const SCRATCH_PROTO = 0;

/**
 * For a raw IPv4 ICMP socket (the packet starts at the IP header): accept echo replies whose id is
 * ours, and destination unreachable / time exceeded / parameter problem whose quoted datagram is an
 * echo request with our id, or a UDP / TCP datagram from one of our ports. Drop everything else.
 */
export function icmpv4Program(spec: IcmpFilterSpec): Insn[] {
  const a = new Assembler();
  a.ldxIpHeaderLength(0) // X = where the ICMP header starts
    .ldInd('B', 0)
    .ifGoto('JEQ', ICMP_ECHO_REPLY, 'echo')
    .ifGoto('JEQ', ICMP_DEST_UNREACH, 'error')
    .ifGoto('JEQ', ICMP_TIME_EXCEEDED, 'error')
    .ifGoto('JEQ', ICMP_PARAMETER_PROBLEM, 'error')
    .ret(0);
  a.label('echo').ldInd('H', 4).ja('ids');
  // The quoted IPv4 header starts at X + 8; its protocol is at +9, its length in its first byte.
  a.label('error')
    .ldInd('B', ICMP_QUOTE + 9)
    .st(SCRATCH_PROTO)
    .ldInd('B', ICMP_QUOTE)
    .alu('AND', 0x0f)
    .alu('LSH', 2)
    .alu('ADD', ICMP_QUOTE)
    .addX()
    .tax() // X = where the quoted transport header starts
    .ldMem(SCRATCH_PROTO);
  quotedTransport(a, spec, IPPROTO_ICMP, ICMP_ECHO_REQUEST);
  return a.assemble();
}

/**
 * For a raw ICMPv6 socket (the packet starts at the ICMPv6 header): the same as icmpv4Program, with
 * packet too big among the errors. The quote starts with the 40-byte IPv6 header; a quote whose
 * next header is not the transport itself (extension headers) is dropped — our probes carry none.
 */
export function icmpv6Program(spec: IcmpFilterSpec): Insn[] {
  const a = new Assembler();
  a.ld('B', 0)
    .ifGoto('JEQ', ICMP6_ECHO_REPLY, 'echo')
    .ifGoto('JEQ', ICMP6_DST_UNREACH, 'error')
    .ifGoto('JEQ', ICMP6_PACKET_TOO_BIG, 'error')
    .ifGoto('JEQ', ICMP6_TIME_EXCEEDED, 'error')
    .ifGoto('JEQ', ICMP6_PARAM_PROB, 'error')
    .ret(0);
  a.label('echo').ld('H', 4).ja('ids');
  a.label('error')
    .ldImm(ICMP_QUOTE + 40)
    .tax() // X = where the quoted transport header starts
    .ld('B', ICMP_QUOTE + 6); // the quoted next header
  quotedTransport(a, spec, IPPROTO_ICMPV6, ICMP6_ECHO_REQUEST);
  return a.assemble();
}

/** The program for a raw ICMP socket of a family (icmpv4Program or icmpv6Program). */
export function icmpProgram(family: 4 | 6, spec: IcmpFilterSpec): Insn[] {
  return family === 4 ? icmpv4Program(spec) : icmpv6Program(spec);
}

/** A = the quoted protocol, X = the quoted transport header: accept if it is one of ours. Ends the program. */
function quotedTransport(a: Assembler, spec: IcmpFilterSpec, icmpProto: number, echoRequest: number): void {
  a.ifGoto('JEQ', icmpProto, 'q-echo');
  if (spec.udpPorts !== undefined) a.ifGoto('JEQ', IPPROTO_UDP, 'q-udp');
  if (spec.tcpPorts !== undefined) a.ifGoto('JEQ', IPPROTO_TCP, 'q-tcp');
  a.ret(0);
  a.label('q-echo').ldInd('B', 0).unlessGoto('JEQ', echoRequest, 'drop').ldInd('H', 4).ja('ids');
  // The source port leads both UDP and TCP headers.
  if (spec.udpPorts !== undefined) a.label('q-udp').ldInd('H', 0).acceptIfIn(spec.udpPorts).ret(0);
  if (spec.tcpPorts !== undefined) a.label('q-tcp').ldInd('H', 0).acceptIfIn(spec.tcpPorts).ret(0);
  a.label('drop').ret(0);
  // Replies and quoted requests share one test of the id (A holds it): one copy of a long list.
  a.label('ids').acceptIfIn(spec.echoIds).ret(0);
}

/** What a raw TCP probe socket may receive: answers from the probed port to our span of source ports. */
export interface TcpProbeFilterSpec {
  /** The probed (remote) port: answers come from it. */
  remotePort: number;
  /** Our source ports: answers go to one of them. */
  localPorts: ValueSet;
}

/**
 * For a raw TCP socket (IPv4: the packet starts at the IP header; IPv6: at the TCP header), which
 * gets a copy of every TCP segment the host receives: accept only segments from `remotePort` to one
 * of `localPorts` (SYN-ACKs and RSTs answering our probes). IPv4 fragments after the first carry no
 * ports and are dropped: no answer to a SYN is fragmented. (ICMP errors about our probes reach the
 * error queue, which no socket filter sees.)
 */
export function tcpProbeProgram(family: 4 | 6, spec: TcpProbeFilterSpec): Insn[] {
  if (!Number.isInteger(spec.remotePort) || spec.remotePort < 0 || spec.remotePort > 0xffff) throw new UsageError(`a port is 0..65535, got ${spec.remotePort}`);
  const a = new Assembler();
  if (family === 4) {
    a.ld('H', 6).ifGoto('JSET', 0x1fff, 'drop').ldxIpHeaderLength(0);
  } else {
    a.ldImm(0).tax();
  }
  a.ldInd('H', 0).unlessGoto('JEQ', spec.remotePort, 'drop').ldInd('H', 2).acceptIfIn(spec.localPorts);
  a.label('drop').ret(0);
  return a.assemble();
}

/** One TCP flow as check-server watches it. */
export interface TcpFlowSpec {
  remote: string;
  remotePort: number;
  /** Our end; when unknown (before connect() completes) any local end matches. */
  local?: string;
  localPort?: number;
}

/**
 * For a packet socket (AF_PACKET, SOCK_RAW or SOCK_DGRAM, any link type): accept TCP segments of
 * one flow in both directions (the server's and our own ACKs). What the filter cannot judge
 * cheaply is passed for the process to judge: IPv4 fragments after the first (no ports in them) and
 * IPv6 packets with extension headers. Everything else — other flows, other protocols — is dropped.
 */
export function tcpFlowProgram(flow: TcpFlowSpec): Insn[] {
  const family = ipFamily(flow.remote);
  if (family === 0) throw new UsageError(`${flow.remote} is not an IP address`);
  if ((flow.local === undefined) !== (flow.localPort === undefined)) throw new UsageError('a flow names both its local address and port, or neither');
  if (flow.local !== undefined && ipFamily(flow.local) !== family) throw new UsageError(`${flow.local} is not an IPv${family} address`);
  for (const p of [flow.remotePort, flow.localPort]) {
    if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 0xffff)) throw new UsageError(`a port is 0..65535, got ${p}`);
  }
  const net = c('SKF_NET_OFF');
  const a = new Assembler();
  a.ld('H', c('SKF_AD_OFF') + c('SKF_AD_PROTOCOL')) // the ethertype, in host order
    .unlessGoto('JEQ', family === 4 ? 0x0800 : 0x86dd, 'drop');
  // Where the addresses sit and where the TCP header starts.
  const [srcAt, dstAt, words] = family === 4 ? [12, 16, 1] : [8, 24, 4];
  if (family === 4) {
    a.ld('B', net + 9)
      .unlessGoto('JEQ', IPPROTO_TCP, 'drop')
      .ld('H', net + 6)
      .ifGoto('JSET', 0x1fff, 'accept') // a later fragment: no TCP header to look at
      .ldxIpHeaderLength(net);
  } else {
    a.ld('B', net + 6);
    for (const ext of [IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS]) a.ifGoto('JEQ', ext, 'accept');
    a.unlessGoto('JEQ', IPPROTO_TCP, 'drop').ldImm(40).tax();
  }
  const remote = ipToBytes(flow.remote, family);
  const local = flow.local !== undefined ? ipToBytes(flow.local, family) : undefined;
  const SRC = { addrAt: srcAt, portAt: 0 };
  const DST = { addrAt: dstAt, portAt: 2 };
  // Unless this end of the segment is `addr`:`port`, goto `otherwise` (the program is short: plain jumps reach).
  const endIs = (end: typeof SRC, addr: Buffer, port: number, otherwise: string): void => {
    for (let i = 0; i < words; i++) a.ld('W', net + end.addrAt + 4 * i).jmp('JEQ', addr.readUInt32BE(4 * i), 0, otherwise);
    a.ldInd('H', net + end.portAt).jmp('JEQ', port, 0, otherwise);
  };
  // From the server (to us, once our end is known) ...
  endIs(SRC, remote, flow.remotePort, 'outgoing');
  if (local !== undefined) endIs(DST, local, flow.localPort!, 'outgoing');
  a.ja('accept');
  // ... or from us to the server.
  a.label('outgoing');
  endIs(DST, remote, flow.remotePort, 'drop');
  if (local !== undefined) endIs(SRC, local, flow.localPort!, 'drop');
  a.ja('accept');
  a.label('drop').ret(0);
  a.label('accept').ret(ACCEPT);
  return a.assemble();
}

/** struct sock_filter[] in host byte order, as SO_ATTACH_FILTER reads it. */
export function encodeProgram(insns: readonly Insn[]): Buffer {
  const size = c('SIZEOF_SOCK_FILTER');
  const le = endianness() === 'LE';
  const b = Buffer.alloc(insns.length * size);
  insns.forEach((i, n) => {
    const at = n * size;
    if (le) b.writeUInt16LE(i.code, at);
    else b.writeUInt16BE(i.code, at);
    b.writeUInt8(i.jt, at + 2);
    b.writeUInt8(i.jf, at + 3);
    if (le) b.writeUInt32LE(i.k >>> 0, at + 4);
    else b.writeUInt32BE(i.k >>> 0, at + 4);
  });
  return b;
}

/** One instruction per line, as `tcpdump -dd` prints them: for reading a program and for tests. */
export function formatProgram(insns: readonly Insn[]): string {
  const hex = (v: number, w: number): string => `0x${v.toString(16).padStart(w, '0')}`;
  return insns.map((i) => `{ ${hex(i.code, 2)}, ${i.jt}, ${i.jf}, ${hex(i.k >>> 0, 8)} },`).join('\n');
}

interface FilterBinding {
  attachFilter(fd: number, program: Buffer): number;
  detachFilter(fd: number): number;
}

/** Anything with an open fd: ProbeSocket, or a raw fd holder. */
export interface HasFd {
  readonly fd: number;
  readonly closed?: boolean;
}

function filterBinding(): FilterBinding {
  return native() as NativeBinding & FilterBinding;
}

/**
 * Attach (or atomically replace) the socket's filter. Packets already queued stay queued: call it
 * right after opening the socket, before traffic is expected.
 */
export function attachFilter(sock: HasFd, insns: readonly Insn[]): void {
  if (sock.closed === true || sock.fd < 0) throw new UsageError('cannot attach a BPF filter to a closed socket');
  check('setsockopt(SO_ATTACH_FILTER)', filterBinding().attachFilter(sock.fd, encodeProgram(insns)));
}

/** Remove the socket's filter (a SystemCallError ENOENT when none is attached). */
export function detachFilter(sock: HasFd): void {
  if (sock.closed === true || sock.fd < 0) throw new UsageError('cannot detach a BPF filter from a closed socket');
  check('setsockopt(SO_DETACH_FILTER)', filterBinding().detachFilter(sock.fd));
}
