// explain(): from a path MTU (and optionally the local interface MTU), the payload sizes that fit,
// what probably takes the bytes, and the commands that fix it. Pure: no I/O, no probing.
import { UsageError } from '../errors.js';
import { MIN_MTU, type Family } from '../wire/facts.js';
import { rankCandidates, UNEXPLAINED } from './candidates.js';
import { fixes } from './fixes.js';
import { payloadSizes } from './payload.js';
import type { Candidate, ExplainInput, Explanation } from './types.js';

/** IPv4's floor (RFC 791) and the 16-bit total length bound every MTU we can reason about. */
export const MTU_RANGE = { min: MIN_MTU[4], max: 65535 } as const;

function checkMtu(name: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < MTU_RANGE.min || (value as number) > MTU_RANGE.max) {
    throw new UsageError((n) => `${n(name)} must be a whole number from ${MTU_RANGE.min} to ${MTU_RANGE.max}, got ${String(value)}`);
  }
}

/** Which way a method measures: ICMP echo needs the reply back at the same size, UDP only the way out. */
function directionOf(method: string | undefined): Explanation['direction'] {
  if (method === undefined) return undefined;
  if (method === 'icmp' || method === 'icmp-dgram') return 'round-trip';
  return 'forward';
}

function leadSentence(mtu: number, family: Family, top: Candidate): string {
  if (family === 6 && mtu < MIN_MTU[6]) {
    return `below the IPv6 minimum of ${MIN_MTU[6]}: a link that breaks RFC 8200 or a bogus Packet Too Big`;
  }
  if (top.cause.startsWith(UNEXPLAINED)) {
    return `no common encapsulation explains it (${top.overhead} bytes below ${top.underlay}); a stack of tunnels, a hand-set MTU or a wrong next-hop MTU`;
  }
  if (top.overhead === 0) return `probably ${top.cause} (${top.confidence} confidence)`;
  return `most likely ${top.cause}: ${top.overhead} bytes taken from a ${top.underlay}-byte link (${top.confidence} confidence)`;
}

function localSentence(mtu: number, localMtu: number | undefined): string {
  if (localMtu === undefined) return '';
  if (localMtu === mtu) return ` It equals this host's interface MTU: the first link is (at least one of) the bottlenecks.`;
  if (localMtu > mtu) return ` This host's interface allows ${localMtu}, so ${localMtu - mtu} bytes are lost beyond it.`;
  return ` This host's interface MTU is ${localMtu}, smaller than the path MTU: packets from here cannot use it all.`;
}

function directionSentence(direction: Explanation['direction']): string {
  if (direction === 'forward') return ' Measured on the forward path only.';
  if (direction === 'round-trip') return ' Measured both ways (echo request and same-sized reply).';
  return '';
}

export function explain(input: ExplainInput): Explanation {
  if (typeof input !== 'object' || input === null) {
    throw new UsageError(`explain() takes an object such as { mtu: 1400 }, got ${input === null ? 'null' : typeof input}`);
  }
  checkMtu('mtu', input.mtu);
  if (input.localMtu !== undefined) checkMtu('localMtu', input.localMtu);
  if (input.family !== undefined && input.family !== 4 && input.family !== 6) {
    throw new UsageError((n) => `${n('family')} must be 4 or 6, got ${String(input.family)}`);
  }
  // The name lands in shell commands (ip link set dev <iface> ...): only what Linux allows (dev_valid_name).
  if (input.iface !== undefined && (typeof input.iface !== 'string' || !/^[^\s/:]{1,15}$/.test(input.iface) || input.iface === '.' || input.iface === '..')) {
    throw new UsageError((n) => `${n('iface')} must be a Linux interface name (1 to 15 characters, no spaces, '/' or ':'), got ${JSON.stringify(input.iface)}`);
  }
  const family: Family = input.family ?? 4;
  const direction = input.direction ?? directionOf(input.method);
  const candidates = rankCandidates(input.mtu, { family: input.family, localMtu: input.localMtu });
  const top = candidates[0]!;
  const summary =
    `Path MTU ${input.mtu} (IPv${family}${input.family === undefined ? ' assumed' : ''}): ${leadSentence(input.mtu, family, top)}.` +
    localSentence(input.mtu, input.localMtu) +
    directionSentence(direction);
  const explanation: Explanation = {
    mtu: input.mtu,
    family,
    payload: payloadSizes(input.mtu, family),
    candidates,
    fixes: fixes({ pmtu: input.mtu, localMtu: input.localMtu, iface: input.iface, family }),
    summary,
  };
  if (input.localMtu !== undefined) explanation.localMtu = input.localMtu;
  if (direction !== undefined) explanation.direction = direction;
  return explanation;
}
