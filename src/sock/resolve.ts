// Turn what the user typed into one address of the wanted family — or refuse, before any lookup,
// what is no host: a port glued to it, a number the system resolver would read its own way
// (inet_aton: 010.0.0.1 is 8.0.0.1, 127.1 is 127.0.0.1), and addresses that have no path MTU
// (unspecified, multicast, broadcast, IPv4-mapped), also when a name resolves to one.
// Address literals are recognised by wire/addr and node:dns is loaded only for a name: node:net's
// isIP and node:dns (with the stream modules net pulls in) cost ~4 ms of every start otherwise.
import { networkInterfaces } from 'node:os';
import { ResolveError, UsageError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { ipFamily as isIP, ipToBytes, zoneOf } from '../wire/addr.js';
import { interfaceIndex } from './socket.js';

export interface Resolved {
  target: string;
  address: string;
  family: Family;
}

export async function resolveTarget(target: string, family?: Family): Promise<Resolved> {
  if (typeof target !== 'string' || target.trim() === '') throw new UsageError('a target host is required');
  const typed = target.trim();
  const port = portOf(typed);
  if (port !== undefined) throw new UsageError(`'${typed}' has a port (${port.port}): give the host alone, ${port.host}`);
  const host = typed.replace(/^\[(.*)\]$/, '$1');
  if (/[\s/\\]/.test(host) || host.length > 253) throw new UsageError(`'${target}' is not a host name or address`);
  if (family !== undefined && family !== 4 && family !== 6) throw new UsageError((n) => `${n('family')} must be 4 or 6, got ${String(family)}`);
  const zone = zoneOf(host);
  if (zone !== null) {
    if (isIP(host) !== 6) throw new UsageError(`'${target}': only IPv6 addresses take a zone (%interface)`);
    interfaceIndex(zone); // an interface that is not there is a usage error, named
  } else if (/^fe[89ab][0-9a-f]:/i.test(host)) {
    throw new UsageError(`${host} is link-local: name the interface it is on, e.g. ${host}%eth0`);
  }
  const literal = isIP(host);
  if (literal !== 0) {
    if (family !== undefined && literal !== family) {
      throw new UsageError((n) => `${host} is an IPv${literal} address, but ${n('family', family)} was asked for`);
    }
    refuseNoPathMtu(host, `${host} is`);
    return { target, address: host, family: literal as Family };
  }
  refuseNumeric(host);
  let r: { address: string; family: number };
  try {
    const { lookup } = await import('node:dns/promises');
    r = await lookup(host, { family: family ?? 0, verbatim: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOTFOUND' || code === 'ENODATA'
      ? family ? `has no IPv${family} address` : 'does not resolve'
      : `could not be resolved (${code ?? String(err)})`;
    throw new ResolveError(`unknown host '${host}': it ${why}`, { cause: err });
  }
  refuseNoPathMtu(r.address, `'${host}' resolves to ${r.address},`);
  return { target, address: r.address, family: r.family as Family };
}

/**
 * "host:port" or "[v6]:port" as typed: the host and the port, or undefined when there is no port.
 * A bare IPv6 address (several colons, no brackets) has none.
 */
export function portOf(text: string): { host: string; port: number } | undefined {
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const m = /^([^:]+):(\d+)$/.exec(text);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

// ---- numbers the resolver reads its own way ----

/** One part of an inet_aton address: 0x1f (hex), 017 (octal), 15 (decimal). */
const NUMERIC_PART = /^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$/;

/**
 * What glibc's inet_aton (which getaddrinfo uses before DNS) makes of a numeric host, or null when
 * it does not take it. 1 to 4 parts; the last one fills the remaining bytes (127.1 = 127.0.0.1,
 * 2130706433 = 127.0.0.1); a leading 0 means octal, 0x hex.
 */
export function inetAton(text: string): string | null {
  const parts = text.split('.');
  if (parts.length > 4 || !parts.every((p) => NUMERIC_PART.test(p))) return null;
  const values = parts.map((p) => (/^0[xX]/.test(p) ? parseInt(p.slice(2) || '0', 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : Number(p)));
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return null;
  const restBytes = 4 - values.length;
  if (last >= 2 ** (8 * restBytes)) return null;
  const bytes = [...values];
  for (let i = restBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/**
 * A host made only of numbers is meant as an IPv4 address; when it is not the plain dotted quad
 * it is refused, naming what the resolver would have made of it (010.0.0.1 would be 8.0.0.1).
 */
function refuseNumeric(host: string): void {
  const parts = host.split('.');
  if (!parts.every((p) => NUMERIC_PART.test(p) || /^\d+$/.test(p))) return;
  const became = inetAton(host);
  if (became === null) {
    const badOctal = parts.find((p) => /^0\d*[89]/.test(p));
    const why = parts.length > 4 ? `${parts.length} parts, an IPv4 address has 4` : badOctal !== undefined ? `${badOctal} would be octal, which has no 8 or 9` : 'a part is too large';
    throw new UsageError(`'${host}' is not an IPv4 address (${why}), nor a host name (a name's last label is never all digits)`);
  }
  const how = [
    parts.some((p) => /^0[xX]/.test(p)) ? '0x means hex' : '',
    parts.some((p) => /^0\d/.test(p)) ? 'a leading 0 means octal' : '',
    parts.length < 4 ? (parts.length === 1 ? 'one number is all 32 bits' : 'the last part fills the missing bytes') : '',
  ].filter(Boolean);
  throw new UsageError(
    `'${host}' is not a plain IPv4 address: the system resolver would read it as ${became} (${how.join(', ')}); ` +
      'write the four decimal numbers you mean, without leading zeros',
  );
}

// ---- addresses that have no path MTU ----

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** Why an address cannot be the far end of a path (and what to use instead), or null when it can. */
export function noPathMtuReason(address: string): { why: string; instead?: string } | null {
  if (isIP(address.replace(/%.*$/, '')) === 4) {
    const b = v4Bytes(address);
    if (address === '0.0.0.0') return { why: 'the unspecified address ("any"), not a host' };
    if (b[0] === 0) return { why: 'in 0.0.0.0/8 ("this network"), which no packet may be sent to' };
    if (b[0]! >= 224 && b[0]! <= 239) return { why: 'a multicast group (224.0.0.0/4): many receivers, no one path' };
    if (address === '255.255.255.255') return { why: 'the limited broadcast address: every host on the link, no one path' };
    if (isLocalBroadcast(address)) return { why: 'the broadcast address of a network this host is on: every host on it, no one path' };
    return null;
  }
  const b = ipToBytes(address, 6);
  if (b.every((x) => x === 0)) return { why: 'the unspecified address ("any"), not a host' };
  if (b[0] === 0xff) return { why: 'a multicast group (ff00::/8): many receivers, no one path' };
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    const v4 = [...b.subarray(12)].join('.');
    return { why: `an IPv4-mapped IPv6 address: it stands for the IPv4 host ${v4} inside the socket API, and no packet is ever sent to it`, instead: v4 };
  }
  return null;
}

/** The directed broadcast address of one of this host's IPv4 networks (not /31 or /32). */
function isLocalBroadcast(address: string): boolean {
  const ip = v4Bytes(address).reduce((a, b) => a * 256 + b, 0);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.cidr === null) continue;
      const prefix = Number(a.cidr.split('/')[1]);
      if (prefix >= 31) continue;
      const net = v4Bytes(a.address).reduce((x, y) => x * 256 + y, 0);
      const size = 2 ** (32 - prefix);
      if (ip === Math.floor(net / size) * size + size - 1) return true;
    }
  }
  return false;
}

/** `subject` is the address as typed, or "'name' resolves to <address>". */
function refuseNoPathMtu(address: string, subject: string): void {
  const r = noPathMtuReason(address);
  if (r === null) return;
  throw new UsageError(`${subject} ${r.why}; it cannot have a path MTU${r.instead ? ` (use ${r.instead})` : ''}`);
}
