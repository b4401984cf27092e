// The targets of a many-target run, as typed: hosts on the command line, lists in files (or on
// stdin), CIDR prefixes. Pure: the command reads the files; this turns their text into targets,
// refusing a bad line with its file:line before anything is looked up or sent.
//
// A list has one target per line; `#` starts a comment (whole line or after the target); blank
// lines are skipped. A prefix (198.18.5.0/28, 2001:db8:5::/120) stands for its hosts: for IPv4
// shorter than /31 without the network and broadcast addresses, for IPv6 shorter than /127 without
// the subnet-router anycast address (RFC 4291 2.6.1); /31 and /127 (RFC 3021, RFC 6164), /32 and
// /128 are every address they hold. Host bits set in a prefix are ignored, as nmap does. A cap
// (--max-targets, 4096 by default) keeps a typo like /8 from becoming 16 million probes.
import { UsageError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { bytesToIp, ipFamily, ipToBytes, zoneOf } from '../wire/addr.js';
import { portOf } from '../sock/resolve.js';

export const DEFAULT_MAX_TARGETS = 4096;
/** Largest --max-targets accepted: past this, a list belongs in several runs. */
export const MAX_TARGETS_LIMIT = 1_048_576;

/** One entry as typed, and where: `list.txt:3`, `<stdin>:1`, or undefined for a command-line argument. */
export interface TargetText {
  text: string;
  where?: string;
}

/** One target to probe, after prefixes are expanded and --both applied. */
export interface Target {
  target: string;
  /** The family asked for (-4/-6, --both, or an address's own); undefined: what the name resolves to first. */
  family?: Family;
  where?: string;
  /** An IP address as typed (not from a prefix): checked further before the run (resolveTarget, no lookup). */
  literal: boolean;
}

export interface ExpandOptions {
  /** -4 / -6. */
  family?: Family;
  /** --both: a name is probed over IPv4 and over IPv6, one target each. */
  both?: boolean;
  /** Most targets in all (default DEFAULT_MAX_TARGETS). */
  maxTargets?: number;
}

const at = (where: string | undefined): string => (where === undefined ? '' : `${where}: `);

/** The entries of a list: one per line, `#` comments, blank lines skipped. `name` names the file in errors. */
export function parseTargetList(text: string, name: string): TargetText[] {
  const out: TargetText[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const where = `${name}:${i + 1}`;
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    if (words.length > 1) throw new UsageError(`${where}: one target per line, found ${words.length}: '${line}'`);
    if (/[\x00-\x1f\x7f]/.test(line)) throw new UsageError(`${where}: '${JSON.stringify(line).slice(1, -1)}' holds a control character`);
    out.push({ text: line, where });
  });
  return out;
}

export interface Prefix {
  family: Family;
  length: number;
  /** The network address (host bits cleared). */
  network: bigint;
  /** How many targets it stands for (see the header comment). */
  count: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

function toBigInt(b: Buffer): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function fromBigInt(n: bigint, family: Family): string {
  const b = Buffer.alloc(family === 4 ? 4 : 16);
  for (let i = b.length - 1; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return bytesToIp(b, 0, family);
}

/** First host and count of a prefix: network and broadcast (v4), subnet-router anycast (v6) left out. */
function hostRange(family: Family, length: number, network: bigint): { first: bigint; count: bigint } {
  const size = 1n << BigInt(BITS[family] - length);
  if (family === 4 && length <= 30) return { first: network + 1n, count: size - 2n };
  if (family === 6 && length <= 126) return { first: network + 1n, count: size - 1n };
  return { first: network, count: size };
}

/** A prefix as typed (`198.18.5.0/28`), or a UsageError saying what is wrong with it. */
export function parsePrefix(text: string, where?: string): Prefix {
  const slash = text.indexOf('/');
  const addr = text.slice(0, slash).replace(/^\[(.*)\]$/, '$1');
  const len = text.slice(slash + 1);
  const family = ipFamily(addr);
  if (family === 0 || zoneOf(addr) !== null) {
    throw new UsageError(`${at(where)}'${text}' is not a prefix: '${addr}' is not an IPv4 or IPv6 address (a prefix is written 198.18.5.0/28 or 2001:db8:5::/120)`);
  }
  const bits = BITS[family];
  if (!/^\d{1,3}$/.test(len) || Number(len) > bits) {
    throw new UsageError(`${at(where)}'${text}': the prefix length of an IPv${family} prefix is a number from 0 to ${bits}`);
  }
  const length = Number(len);
  const hostBits = BigInt(bits - length);
  const network = (toBigInt(ipToBytes(addr, family)) >> hostBits) << hostBits;
  return { family, length, network, count: hostRange(family, length, network).count };
}

/** The addresses a prefix stands for, in order. */
export function* prefixHosts(p: Prefix): Generator<string> {
  const { first, count } = hostRange(p.family, p.length, p.network);
  for (let i = 0n; i < count; i++) yield fromBigInt(first + i, p.family);
}

/** Text of a prefix: its network address and length. */
export function prefixText(p: Prefix): string {
  return `${fromBigInt(p.network, p.family)}/${p.length}`;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/**
 * Refuse what cannot be one host before anything is looked up: a port glued on, characters no host
 * name has, an address of the other family than -4/-6 asked for. What only resolveTarget knows
 * (multicast, inet_aton's numbers, a zone's interface) is checked by the command before the run.
 */
function checkHost(text: string, where: string | undefined, family: Family | undefined): Family | 0 {
  const port = portOf(text);
  if (port !== undefined) {
    throw new UsageError(`${at(where)}'${text}' has a port, and discover takes a host alone: to probe through TCP port ${port.port}: --method tcp -p ${port.port} ${port.host}`);
  }
  const host = text.replace(/^\[(.*)\]$/, '$1');
  const literal = ipFamily(host);
  if (literal !== 0) {
    if (family !== undefined && literal !== family) throw new UsageError(`${at(where)}${host} is an IPv${literal} address, but -${family} was asked for`);
    return literal;
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
    throw new UsageError(`${at(where)}'${text}' is not a host name, an IP address or a prefix`);
  }
  return 0;
}

/**
 * The targets of a run, in the order given: prefixes expanded, --both applied (a name twice, IPv4
 * then IPv6; an address once, in its own family). More than maxTargets in all is a UsageError
 * naming --max-targets.
 */
export function expandTargets(entries: readonly TargetText[], options: ExpandOptions = {}): Target[] {
  const max = options.maxTargets ?? DEFAULT_MAX_TARGETS;
  const out: Target[] = [];
  const cap = `more than the ${max} targets --max-targets allows (raise it, up to ${MAX_TARGETS_LIMIT})`;
  for (const { text, where } of entries) {
    if (text.includes('/')) {
      const p = parsePrefix(text, where);
      if (options.family !== undefined && p.family !== options.family) {
        throw new UsageError(`${at(where)}${text} is an IPv${p.family} prefix, but -${options.family} was asked for`);
      }
      if (p.count === 0n) throw new UsageError(`${at(where)}${text} holds no host address`);
      if (BigInt(out.length) + p.count > BigInt(max)) {
        const before = out.length > 0 ? ` after ${out.length} other targets` : '';
        throw new UsageError(`${at(where)}${text} holds ${p.count} ${p.count === 1n ? 'host' : 'hosts'}${before}: ${cap}`);
      }
      for (const host of prefixHosts(p)) out.push({ target: host, family: p.family, ...(where ? { where } : {}), literal: false });
      continue;
    }
    const literal = checkHost(text, where, options.family);
    const families: Array<Family | undefined> = literal !== 0 ? [literal] : options.both ? [4, 6] : [options.family];
    for (const family of families) {
      if (out.length >= max) throw new UsageError(`${at(where)}'${text}' is one target ${cap}`);
      out.push({ target: text, ...(family !== undefined ? { family } : {}), ...(where ? { where } : {}), literal: literal !== 0 });
    }
  }
  return out;
}
