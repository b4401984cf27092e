// IP and MAC addresses between their text forms and their wire bytes.
// IPv6 text output follows libuv's inet_ntop (what node's net, dgram and os modules print):
// RFC 5952 compression (longest run of two or more zero groups, first on a tie, lowercase, no
// leading zeros) and a dotted tail for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible addresses.
import { DecodeError } from '../errors.js';

export type IpFamily = 4 | 6;

const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function bad(addr: string, why: string): DecodeError {
  return new DecodeError('IP address', `${JSON.stringify(addr)} ${why}`);
}

function parseV4Into(addr: string, text: string, out: Buffer, at: number): void {
  const parts = text.split('.');
  if (parts.length !== 4) throw bad(addr, 'is not a dotted-quad IPv4 address');
  for (let i = 0; i < 4; i++) {
    // Leading zeros are refused: inet_aton would read them as octal, a classic source of confusion.
    if (!V4_PART.test(parts[i])) throw bad(addr, `has a bad IPv4 part ${JSON.stringify(parts[i])}`);
    out[at + i] = Number(parts[i]);
  }
}

function parseV6(addr: string, text: string): Buffer {
  const out = Buffer.alloc(16);
  const halves = text.split('::');
  if (halves.length > 2) throw bad(addr, 'has more than one "::"');
  const groupsOf = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  // An embedded IPv4 address may end the last half and takes two groups.
  const last = halves.length === 2 ? tail : head;
  let v4: string | null = null;
  if (last.length > 0 && last[last.length - 1].includes('.')) v4 = last.pop() as string;
  const words = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 1 ? words !== 8 : words > 7) throw bad(addr, 'has the wrong number of groups');
  const put = (groups: string[], at: number): void => {
    groups.forEach((g, i) => {
      if (!HEX_GROUP.test(g)) throw bad(addr, `has a bad IPv6 group ${JSON.stringify(g)}`);
      out.writeUInt16BE(parseInt(g, 16), at + 2 * i);
    });
  };
  put(head, 0);
  const tailStart = 16 - 2 * tail.length - (v4 ? 4 : 0);
  put(tail, tailStart);
  if (v4) parseV4Into(addr, v4, out, 12);
  return out;
}

/** 4 for dotted-quad IPv4, 6 for IPv6 text (a %zone suffix allowed), 0 for anything else. */
export function ipFamily(addr: string): 0 | IpFamily {
  try {
    return ipToBytes(addr).length === 4 ? 4 : 6;
  } catch {
    return 0;
  }
}

/** The zone of a scoped IPv6 address ("fe80::1%eth0" -> "eth0"), or null. */
export function zoneOf(addr: string): string | null {
  const i = addr.indexOf('%');
  return i < 0 ? null : addr.slice(i + 1);
}

/**
 * Wire bytes of an IP address: 4 bytes for IPv4, 16 for IPv6. An IPv6 zone ("%eth0") is accepted
 * and dropped (the scope belongs in sockaddr_in6.sin6_scope_id, see zoneOf). When `family` is given
 * the address must be of that family. Throws DecodeError on anything else.
 */
export function ipToBytes(addr: string, family?: IpFamily): Buffer {
  if (typeof addr !== 'string') throw new DecodeError('IP address', `expected a string, got ${typeof addr}`);
  let out: Buffer;
  if (!addr.includes(':')) {
    out = Buffer.alloc(4);
    parseV4Into(addr, addr, out, 0);
  } else {
    const zone = addr.indexOf('%');
    if (zone === addr.length - 1) throw bad(addr, 'has an empty zone');
    out = parseV6(addr, zone < 0 ? addr : addr.slice(0, zone));
  }
  if (family !== undefined && (out.length === 4 ? 4 : 6) !== family) throw bad(addr, `is not an IPv${family} address`);
  return out;
}

// Probes use a handful of addresses over and over: remember recent parses (bounded, cleared when
// full) so encoders do not re-run the parser per packet. Entries are never handed out, only copied.
const parsed = new Map<string, Buffer>();
const PARSED_MAX = 4096;

/** ipToBytes through the cache. The result is shared: read it, never write to it. */
export function ipBytesShared(addr: string): Buffer {
  let b = parsed.get(addr);
  if (b === undefined) {
    b = ipToBytes(addr);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(addr, b);
  }
  return b;
}

/** Writes the bytes of `addr` (of `family`) at buf[offset]; returns the number of bytes written. */
export function writeIp(addr: string, family: IpFamily, buf: Buffer, offset: number): number {
  const b = ipBytesShared(addr);
  if ((b.length === 4 ? 4 : 6) !== family) throw bad(addr, `is not an IPv${family} address`);
  return b.copy(buf, offset);
}

/** Text form of the 4 (family 4) or 16 (family 6) address bytes at `offset`. */
export function bytesToIp(buf: Buffer, offset: number, family: IpFamily): string {
  const n = family === 4 ? 4 : 16;
  if (!Number.isInteger(offset) || offset < 0 || offset + n > buf.length) {
    throw new DecodeError(`IPv${family} address`, `needs ${n} bytes at offset ${offset}, buffer has ${buf.length}`, offset);
  }
  if (family === 4) return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1]);
  // Longest run of zero groups (length >= 2), first one on a tie.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const dotted = (): string => `${buf[offset + 12]}.${buf[offset + 13]}.${buf[offset + 14]}.${buf[offset + 15]}`;
  // Same rule as libuv/BSD inet_ntop: ::a.b.c.d (compatible) and ::ffff:a.b.c.d (mapped).
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    return bestLen === 6 ? `::${dotted()}` : `::ffff:${dotted()}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) { s += '::'; i += bestLen - 1; continue; }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += w[i].toString(16);
  }
  return s;
}

/** Canonical text of an IP address (parse, then format): "2001:DB8:0::1" -> "2001:db8::1". */
export function canonicalIp(addr: string): string {
  const b = ipToBytes(addr);
  return bytesToIp(b, 0, b.length === 4 ? 4 : 6);
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 0x20; // fold to lowercase
  return l >= 97 && l <= 102 ? l - 87 : -1; // a-f
}

/** 6 bytes of a MAC address written as "aa:bb:cc:dd:ee:ff" (or with '-'). */
export function macToBytes(mac: string): Buffer {
  const out = Buffer.alloc(6);
  const ok = typeof mac === 'string' && mac.length === 17;
  for (let i = 0; ok && i < 6; i++) {
    const h = hexDigit(mac.charCodeAt(3 * i));
    const l = hexDigit(mac.charCodeAt(3 * i + 1));
    const sep = i < 5 ? mac[3 * i + 2] : ':';
    if (h < 0 || l < 0 || (sep !== ':' && sep !== '-')) break;
    out[i] = (h << 4) | l;
    if (i === 5) return out;
  }
  throw new DecodeError('MAC address', `${JSON.stringify(mac)} is not six hex bytes`);
}

/** Lowercase colon form of the 6 MAC bytes at `offset`. */
export function bytesToMac(buf: Buffer, offset = 0): string {
  if (offset < 0 || offset + 6 > buf.length) throw new DecodeError('MAC address', 'truncated', offset);
  const b = offset;
  return `${HEX2[buf[b]]}:${HEX2[buf[b + 1]]}:${HEX2[buf[b + 2]]}:${HEX2[buf[b + 3]]}:${HEX2[buf[b + 4]]}:${HEX2[buf[b + 5]]}`;
}
