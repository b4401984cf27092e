// A classic BPF interpreter in TypeScript: the machine the kernel runs a socket filter on, written
// out so the programs of src/sock/bpf.ts can be run over real packets in unit tests (and read as
// documentation of what each instruction does). Opcodes come from the binding, as in the assembler.
//
// Semantics (Documentation/networking/filter.rst, net/core/filter.c): A, X and M[0..15] are u32 and
// start at 0; loads are big-endian; a load outside the packet ends the program with 0 (drop);
// division or modulo by zero ends it with 0; jumps go forward; `ret` ends it with its value.
// Negative load offsets: SKF_AD_OFF + n reads ancillary data (here SKF_AD_PROTOCOL, the ethertype),
// SKF_NET_OFF + n reads from the network header, SKF_LL_OFF + n from the link header.
import { c } from '../../src/sock/binding.js';
import type { Insn } from '../../src/sock/bpf.js';

export interface VmPacket {
  /** What the socket's filter sees from offset 0 (link header, IP header or ICMPv6 header). */
  data: Buffer;
  /** Where the network header starts in data (for SKF_NET_OFF loads); default 0. */
  network?: number;
  /** skb->protocol, the ethertype (for SKF_AD_PROTOCOL); default 0. */
  protocol?: number;
}

class Drop extends Error {}

export function runBpf(prog: readonly Insn[], pkt: VmPacket): number {
  const K = (name: string): number => c(name);
  const cls = (code: number): number => code & 0x07;
  const size = (code: number): number => code & 0x18;
  const mode = (code: number): number => code & 0xe0;
  const aluOp = (code: number): number => code & 0xf0;
  const src = (code: number): number => code & 0x08;
  const data = pkt.data;
  const network = pkt.network ?? 0;
  const mem = new Uint32Array(K('BPF_MEMWORDS'));
  let A = 0;
  let X = 0;

  const load = (offset: number, bytes: number): number => {
    let at = offset | 0; // as the kernel does: the offset is a signed int
    if (at < 0) {
      if (at >= K('SKF_AD_OFF')) {
        if (at - K('SKF_AD_OFF') === K('SKF_AD_PROTOCOL')) return pkt.protocol ?? 0;
        throw new Error(`ancillary load ${at - K('SKF_AD_OFF')} is not modelled`);
      }
      if (at >= K('SKF_NET_OFF')) at = network + (at - K('SKF_NET_OFF'));
      else if (at >= K('SKF_LL_OFF')) at = at - K('SKF_LL_OFF');
      else throw new Drop();
    }
    if (at < 0 || at + bytes > data.length) throw new Drop();
    return bytes === 4 ? data.readUInt32BE(at) : bytes === 2 ? data.readUInt16BE(at) : data[at]!;
  };
  const width = (code: number): number => (size(code) === K('BPF_W') ? 4 : size(code) === K('BPF_H') ? 2 : 1);

  try {
    for (let pc = 0; pc < prog.length; pc++) {
      const { code, jt, jf, k } = prog[pc]!;
      switch (cls(code)) {
        case K('BPF_LD'):
          if (mode(code) === K('BPF_IMM')) A = k;
          else if (mode(code) === K('BPF_ABS')) A = load(k, width(code));
          else if (mode(code) === K('BPF_IND')) A = load((X + k) >>> 0, width(code));
          else if (mode(code) === K('BPF_MEM')) A = mem[k]!;
          else if (mode(code) === K('BPF_LEN')) A = data.length;
          else throw new Error(`bad ld mode in ${code}`);
          break;
        case K('BPF_LDX'):
          if (mode(code) === K('BPF_IMM')) X = k;
          else if (mode(code) === K('BPF_MEM')) X = mem[k]!;
          else if (mode(code) === K('BPF_LEN')) X = data.length;
          else if (mode(code) === K('BPF_MSH')) X = (load(k, 1) & 0x0f) * 4;
          else throw new Error(`bad ldx mode in ${code}`);
          break;
        case K('BPF_ST'):
          mem[k] = A;
          break;
        case K('BPF_STX'):
          mem[k] = X;
          break;
        case K('BPF_ALU'): {
          const v = src(code) === K('BPF_X') ? X : k;
          const o = aluOp(code);
          if (o === K('BPF_ADD')) A = (A + v) >>> 0;
          else if (o === K('BPF_SUB')) A = (A - v) >>> 0;
          else if (o === K('BPF_MUL')) A = Math.imul(A, v) >>> 0;
          else if (o === K('BPF_DIV') || o === K('BPF_MOD')) {
            if (v === 0) return 0;
            A = o === K('BPF_DIV') ? Math.floor(A / v) >>> 0 : A % v;
          } else if (o === K('BPF_OR')) A = (A | v) >>> 0;
          else if (o === K('BPF_AND')) A = (A & v) >>> 0;
          else if (o === K('BPF_XOR')) A = (A ^ v) >>> 0;
          else if (o === K('BPF_LSH')) A = v >= 32 ? 0 : (A << v) >>> 0;
          else if (o === K('BPF_RSH')) A = v >= 32 ? 0 : A >>> v;
          else if (o === K('BPF_NEG')) A = -A >>> 0;
          else throw new Error(`bad alu op in ${code}`);
          break;
        }
        case K('BPF_JMP'): {
          const o = aluOp(code);
          if (o === K('BPF_JA')) {
            pc += k;
            break;
          }
          const v = src(code) === K('BPF_X') ? X : k;
          let taken: boolean;
          if (o === K('BPF_JEQ')) taken = A === v;
          else if (o === K('BPF_JGT')) taken = A > v;
          else if (o === K('BPF_JGE')) taken = A >= v;
          else if (o === K('BPF_JSET')) taken = (A & v) !== 0;
          else throw new Error(`bad jump in ${code}`);
          pc += taken ? jt : jf;
          break;
        }
        case K('BPF_RET'):
          return (code & 0x18) === K('BPF_A') ? A : k;
        case K('BPF_MISC'):
          if ((code & 0xf8) === K('BPF_TAX')) X = A;
          else A = X;
          break;
        default:
          throw new Error(`bad instruction class in ${code}`);
      }
    }
  } catch (err) {
    if (err instanceof Drop) return 0;
    throw err;
  }
  throw new Error('the program ran past its end without ret');
}
