// Sizes: the whole IP packet is the unit everywhere inside pathmtu; a ping payload is what iputils
// `ping -s` counts. Seed 000's trap is mixing the two (1472 vs 1500), so both are always stated.
// The minimum is the headers plus the 8-byte nonce every probe carries (it is what proves an answer
// is ours), which also keeps frames from being runts (seed 003's readers lost too-short pings).
import { UsageError } from '../errors.js';
import { IP_HEADER, type Family } from '../wire/facts.js';
import type { SweepRange } from './types.js';

export const ICMP_ECHO_HEADER = 8;
export const NONCE = 8;
/** ping's default: 56 payload bytes (84-byte IPv4 packets, 104-byte IPv6). */
export const DEFAULT_PAYLOAD = 56;
export const MAX_SIZE = 65535;
/** A sweep longer than this is a typo, not a measurement. */
export const MAX_SWEEP_SIZES = 10_000;

/** IP header + ICMP echo header: what a payload size lacks to be a packet size. */
export function overhead(family: Family): number {
  return IP_HEADER[family] + ICMP_ECHO_HEADER;
}

export function minSize(family: Family): number {
  return overhead(family) + NONCE;
}

function checkPacketSize(what: string, size: number, family: Family): void {
  if (!Number.isInteger(size)) throw new UsageError(`${what} must be a whole number of bytes, got ${size}`);
  const min = minSize(family);
  if (size < min) {
    throw new UsageError(
      `${what} ${size} is below the minimum of ${min} bytes for IPv${family} ` +
        `(${IP_HEADER[family]} IP + ${ICMP_ECHO_HEADER} ICMP + ${NONCE} bytes of probe nonce; as a payload: at least ${NONCE})`,
    );
  }
  if (size > MAX_SIZE) throw new UsageError(`${what} ${size} is above the largest IP packet, ${MAX_SIZE} bytes`);
}

/** The whole-packet size of every request, from `size` or `payload` (or ping's default payload). */
export function packetSize(opts: { size?: number; payload?: number }, family: Family): { size: number; unit: 'packet' | 'payload' } {
  if (opts.size !== undefined && opts.payload !== undefined) throw new UsageError('give the size as a whole packet or as a payload, not both');
  if (opts.payload !== undefined) {
    if (!Number.isInteger(opts.payload) || opts.payload < 0) throw new UsageError(`payload must be a whole number of bytes, got ${opts.payload}`);
    if (opts.payload < NONCE) throw new UsageError(`payload ${opts.payload} is below the minimum of ${NONCE} bytes (the probe's nonce) — ${minSize(family)} bytes as a whole IPv${family} packet`);
    const size = opts.payload + overhead(family);
    checkPacketSize(`payload ${opts.payload} makes a packet of`, size, family);
    return { size, unit: 'payload' };
  }
  if (opts.size !== undefined) {
    checkPacketSize('size', opts.size, family);
    return { size: opts.size, unit: 'packet' };
  }
  return { size: DEFAULT_PAYLOAD + overhead(family), unit: 'packet' };
}

/** Every size a sweep sends, checked against the family's minimum. */
export function sweepSizes(sweep: SweepRange, family: Family): { range: Required<SweepRange>; sizes: number[] } {
  const step = sweep.step ?? 1;
  if (!Number.isInteger(step) || step < 1) throw new UsageError(`sweep step must be a whole number of at least 1, got ${step}`);
  checkPacketSize('sweep start', sweep.from, family);
  checkPacketSize('sweep end', sweep.to, family);
  if (sweep.to < sweep.from) throw new UsageError(`sweep ${sweep.from}:${sweep.to} runs backwards; give the smaller size first`);
  const n = Math.floor((sweep.to - sweep.from) / step) + 1;
  if (n > MAX_SWEEP_SIZES) throw new UsageError(`sweep ${sweep.from}:${sweep.to}:${step} is ${n} sizes; at most ${MAX_SWEEP_SIZES} (use a larger step)`);
  const sizes = Array.from({ length: n }, (_, i) => sweep.from + i * step);
  return { range: { from: sweep.from, to: sweep.to, step }, sizes };
}

/** `A:B` or `A:B:step` as typed on the command line (whole-packet sizes). */
export function parseSweep(text: string): SweepRange {
  const m = /^\s*(\d{1,5}):(\d{1,5})(?::(\d{1,5}))?\s*$/.exec(text);
  if (m === null) throw new UsageError((n) => `${n('sweep')} must look like A:B or A:B:step (whole-packet sizes), got '${text}'`);
  const r: SweepRange = { from: Number(m[1]), to: Number(m[2]) };
  if (m[3] !== undefined) r.step = Number(m[3]);
  return r;
}
