// rtnetlink codec (RFC 3549; include/uapi/linux/netlink.h, rtnetlink.h): the netlink message header,
// struct rtmsg, route attributes (rtattr) including the nested RTA_METRICS and RTA_CACHEINFO, and
// NLMSG_ERROR / NLMSG_DONE. Netlink speaks the host's byte order (unlike the IP codecs here), and
// everything is aligned to 4 bytes. Pure: no sockets (those live in src/cache/netlink-socket.ts).
import { endianness } from 'node:os';
import { DecodeError, UsageError } from '../errors.js';
import { bytesToIp, ipToBytes } from './addr.js';
import { checkInt, checkOffset, need, target } from './bounds.js';

// Message types and flags (netlink.h, rtnetlink.h).
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** In an NLMSG_ERROR: the request was not echoed back (NETLINK_CAP_ACK). */
export const NLM_F_CAPPED = 0x100;

// struct rtmsg flags: a route get with none of the last two set resolves like a packet would, and
// returns the cached exception (PMTU, redirect) for the destination, flagged RTM_F_CLONED.
export const RTM_F_NOTIFY = 0x100;
export const RTM_F_CLONED = 0x200;
export const RTM_F_EQUALIZE = 0x400;
export const RTM_F_PREFIX = 0x800;
export const RTM_F_LOOKUP_TABLE = 0x1000;
export const RTM_F_FIB_MATCH = 0x2000;

// Route attributes (enum rtattr_type_t).
export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_CACHEINFO = 12;
export const RTA_TABLE = 15;
export const RTA_MARK = 16;
export const RTA_UID = 25;

// Metrics nested in RTA_METRICS (RTAX_*): each a u32.
export const RTAX_LOCK = 1;
export const RTAX_MTU = 2;
export const RTAX_ADVMSS = 8;

/** rtm_type values that matter here. */
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RT_TABLE_MAIN = 254;
export const RT_SCOPE_UNIVERSE = 0;

/** Attribute type bits that are flags, not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
const NLA_TYPE_MASK = 0x3fff;

export const HEADER_LENGTH = 16;
export const RTMSG_LENGTH = 12;
export const RTATTR_HEADER_LENGTH = 4;
export const CACHEINFO_LENGTH = 32;

const LE = endianness() === 'LE';
const r16 = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const r32 = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const s32 = (b: Buffer, o: number): number => (LE ? b.readInt32LE(o) : b.readInt32BE(o));
const w16 = (b: Buffer, v: number, o: number): void => void (LE ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
const w32 = (b: Buffer, v: number, o: number): void => void (LE ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
const ws32 = (b: Buffer, v: number, o: number): void => void (LE ? b.writeInt32LE(v, o) : b.writeInt32BE(v, o));

/** NLMSG_ALIGN / RTA_ALIGN. */
export const align = (n: number): number => (n + 3) & ~3;

// ---------------------------------------------------------------------------------------------
// struct nlmsghdr + payload

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  /** Port id of the sender (0 = the kernel). */
  pid: number;
  payload: Buffer;
}

export function encodingLength(m: Pick<NetlinkMessage, 'payload'>): number {
  return align(HEADER_LENGTH + m.payload.length);
}

/** One message; nlmsg_len counts the unpadded length, the buffer is padded to 4. */
export function encode(m: NetlinkMessage, buf?: Buffer, offset = 0): Buffer {
  const n = encodingLength(m);
  const b = target(buf, offset, n, 'netlink message');
  w32(b, HEADER_LENGTH + m.payload.length, offset);
  w16(b, checkInt(m.type, 16, 'nlmsg_type'), offset + 4);
  w16(b, checkInt(m.flags, 16, 'nlmsg_flags'), offset + 6);
  w32(b, checkInt(m.seq, 32, 'nlmsg_seq'), offset + 8);
  w32(b, checkInt(m.pid, 32, 'nlmsg_pid'), offset + 12);
  m.payload.copy(b, offset + HEADER_LENGTH);
  b.fill(0, offset + HEADER_LENGTH + m.payload.length, offset + n);
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

/** Every message in one datagram (a dump packs several). */
export function decode(buf: Buffer, offset = 0): NetlinkMessage[] {
  checkOffset(buf, offset, 'netlink message');
  const out: NetlinkMessage[] = [];
  let o = offset;
  while (o < buf.length) {
    need(buf, o, HEADER_LENGTH, 'netlink message header');
    const len = r32(buf, o);
    if (len < HEADER_LENGTH) throw new DecodeError('netlink message header', `nlmsg_len ${len} is below ${HEADER_LENGTH}`, o);
    need(buf, o, len, 'netlink message');
    out.push({
      type: r16(buf, o + 4),
      flags: r16(buf, o + 6),
      seq: r32(buf, o + 8),
      pid: r32(buf, o + 12),
      payload: Buffer.from(buf.subarray(o + HEADER_LENGTH, o + len)),
    });
    o += align(len);
  }
  decode.bytes = buf.length - offset;
  return out;
}
decode.bytes = 0;

// ---------------------------------------------------------------------------------------------
// struct nlmsgerr: int error (negative errno, 0 = ACK), then the request's header (and payload)

export interface NetlinkError {
  /** Negative errno as the kernel sends it; 0 is an acknowledgement. */
  error: number;
  /** The header of the request this answers. */
  request: Omit<NetlinkMessage, 'payload'> & { length: number };
}

export function encodeError(e: NetlinkError): Buffer {
  const b = Buffer.alloc(4 + HEADER_LENGTH);
  ws32(b, e.error, 0);
  w32(b, e.request.length, 4);
  w16(b, e.request.type, 8);
  w16(b, e.request.flags, 10);
  w32(b, e.request.seq, 12);
  w32(b, e.request.pid, 16);
  return b;
}

export function decodeError(payload: Buffer): NetlinkError {
  need(payload, 0, 4 + HEADER_LENGTH, 'nlmsgerr');
  const error = s32(payload, 0);
  if (error > 0) throw new DecodeError('nlmsgerr', `error ${error} is positive`, 0);
  return {
    error,
    request: { length: r32(payload, 4), type: r16(payload, 8), flags: r16(payload, 10), seq: r32(payload, 12), pid: r32(payload, 16) },
  };
}

// ---------------------------------------------------------------------------------------------
// struct rtattr list

export interface RtAttr {
  /** Without the NLA_F_* flag bits. */
  type: number;
  data: Buffer;
  /** NLA_F_NESTED was set (the kernel does not set it on RTA_METRICS; nesting is by type). */
  nested?: boolean;
}

export function attrsLength(attrs: RtAttr[]): number {
  let n = 0;
  for (const a of attrs) n += align(RTATTR_HEADER_LENGTH + a.data.length);
  return n;
}

export function encodeAttrs(attrs: RtAttr[], buf?: Buffer, offset = 0): Buffer {
  const b = target(buf, offset, attrsLength(attrs), 'route attributes');
  let o = offset;
  for (const a of attrs) {
    const len = RTATTR_HEADER_LENGTH + a.data.length;
    w16(b, checkInt(len, 16, 'rta_len'), o);
    w16(b, checkInt(a.type, 14, 'rta_type') | (a.nested ? 0x8000 : 0), o + 2);
    a.data.copy(b, o + RTATTR_HEADER_LENGTH);
    b.fill(0, o + len, o + align(len));
    o += align(len);
  }
  return b;
}

export function decodeAttrs(buf: Buffer, offset = 0, end = buf.length): RtAttr[] {
  checkOffset(buf, end, 'route attributes (end)');
  checkOffset(buf, offset, 'route attributes');
  if (offset > end) throw new DecodeError('route attributes', `offset ${offset} is past the end ${end}`, offset);
  const out: RtAttr[] = [];
  let o = offset;
  // Trailing bytes shorter than an attribute header are padding (the kernel never sends them).
  while (o + RTATTR_HEADER_LENGTH <= end) {
    const len = r16(buf, o);
    const rawType = r16(buf, o + 2);
    if (len < RTATTR_HEADER_LENGTH) throw new DecodeError('route attribute', `rta_len ${len} is below 4`, o);
    if (o + len > end) throw new DecodeError('route attribute', `type ${rawType & NLA_TYPE_MASK} runs past the message (${len} bytes at ${o}, ends at ${end})`, o);
    const a: RtAttr = { type: rawType & NLA_TYPE_MASK, data: Buffer.from(buf.subarray(o + RTATTR_HEADER_LENGTH, o + len)) };
    if (rawType & 0x8000) a.nested = true;
    out.push(a);
    o += align(len);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// struct rta_cacheinfo: eight 32-bit fields; rta_expires is in clock ticks (USER_HZ, 100/s on
// Linux: jiffies_to_clock_t), which iproute2 divides by sysconf(_SC_CLK_TCK) to print "expires Nsec".

export interface CacheInfo {
  clntref: number;
  lastuse: number;
  /** Clock ticks (1/100 s) until the entry expires; 0 = never. */
  expires: number;
  /** Error on this route (negative errno) or 0. */
  error: number;
  used: number;
  id: number;
  ts: number;
  tsage: number;
}

export const USER_HZ = 100;

export function encodeCacheInfo(ci: CacheInfo): Buffer {
  const b = Buffer.alloc(CACHEINFO_LENGTH);
  w32(b, checkInt(ci.clntref, 32, 'rta_clntref'), 0);
  w32(b, checkInt(ci.lastuse, 32, 'rta_lastuse'), 4);
  ws32(b, ci.expires, 8);
  ws32(b, ci.error, 12);
  ws32(b, ci.used, 16);
  w32(b, checkInt(ci.id, 32, 'rta_id'), 20);
  w32(b, checkInt(ci.ts, 32, 'rta_ts'), 24);
  w32(b, checkInt(ci.tsage, 32, 'rta_tsage'), 28);
  return b;
}

export function decodeCacheInfo(data: Buffer): CacheInfo {
  need(data, 0, CACHEINFO_LENGTH, 'rta_cacheinfo');
  return {
    clntref: r32(data, 0),
    lastuse: r32(data, 4),
    expires: s32(data, 8),
    error: s32(data, 12),
    used: s32(data, 16),
    id: r32(data, 20),
    ts: r32(data, 24),
    tsage: r32(data, 28),
  };
}

// ---------------------------------------------------------------------------------------------
// RTA_METRICS: a nested list of RTAX_* u32 values

export type Metrics = Record<number, number>;

export function encodeMetrics(m: Metrics): Buffer {
  const attrs = Object.entries(m).map(([k, v]) => {
    const d = Buffer.alloc(4);
    w32(d, checkInt(v, 32, `metric ${k}`), 0);
    return { type: Number(k), data: d };
  });
  return encodeAttrs(attrs);
}

export function decodeMetrics(data: Buffer): Metrics {
  const m: Metrics = {};
  for (const a of decodeAttrs(data)) {
    if (a.data.length < 4) throw new DecodeError('RTA_METRICS', `metric ${a.type} has ${a.data.length} bytes, not 4`, 0);
    m[a.type] = r32(a.data, 0);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// struct rtmsg + the attributes a route carries, as one typed value

export interface RouteMessage {
  family: 4 | 6;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** rtm_table (RTA_TABLE wins when present, for ids above 255). */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  /** RTM_F_* bits. */
  flags: number;
  dst?: string;
  src?: string;
  gateway?: string;
  prefsrc?: string;
  oif?: number;
  iif?: number;
  priority?: number;
  metrics?: Metrics;
  cacheInfo?: CacheInfo;
  /** Attributes not named above, kept raw. */
  other?: RtAttr[];
}

/**
 * The kernel's numbers for AF_INET and AF_INET6 (rtm_family), which the wire layer does not hard-code:
 * callers pass the binding's (addressFamilies() in src/sock/sockaddr.ts).
 */
export interface AddressFamilies {
  4: number;
  6: number;
}

function u32Attr(type: number, v: number): RtAttr {
  const d = Buffer.alloc(4);
  w32(d, checkInt(v, 32, `attribute ${type}`), 0);
  return { type, data: d };
}

function routeAttrs(r: RouteMessage): RtAttr[] {
  const fam = r.family;
  const attrs: RtAttr[] = [];
  if (r.dst !== undefined) attrs.push({ type: RTA_DST, data: ipToBytes(r.dst, fam) });
  if (r.src !== undefined) attrs.push({ type: RTA_SRC, data: ipToBytes(r.src, fam) });
  if (r.iif !== undefined) attrs.push(u32Attr(RTA_IIF, r.iif));
  if (r.oif !== undefined) attrs.push(u32Attr(RTA_OIF, r.oif));
  if (r.gateway !== undefined) attrs.push({ type: RTA_GATEWAY, data: ipToBytes(r.gateway, fam) });
  if (r.priority !== undefined) attrs.push(u32Attr(RTA_PRIORITY, r.priority));
  if (r.prefsrc !== undefined) attrs.push({ type: RTA_PREFSRC, data: ipToBytes(r.prefsrc, fam) });
  if (r.metrics !== undefined) attrs.push({ type: RTA_METRICS, data: encodeMetrics(r.metrics) });
  if (r.cacheInfo !== undefined) attrs.push({ type: RTA_CACHEINFO, data: encodeCacheInfo(r.cacheInfo) });
  if (r.table > 255) attrs.push(u32Attr(RTA_TABLE, r.table));
  for (const a of r.other ?? []) attrs.push(a);
  return attrs;
}

export function routeLength(r: RouteMessage): number {
  return RTMSG_LENGTH + attrsLength(routeAttrs(r));
}

/** The payload of an RTM_*ROUTE message. */
export function encodeRoute(af: AddressFamilies, r: RouteMessage): Buffer {
  if (r.family !== 4 && r.family !== 6) throw new UsageError(`route family must be 4 or 6, got ${String(r.family)}`);
  const attrs = routeAttrs(r);
  const b = Buffer.alloc(RTMSG_LENGTH + attrsLength(attrs));
  b[0] = checkInt(af[r.family], 8, 'rtm_family');
  b[1] = checkInt(r.dstLen, 8, 'rtm_dst_len');
  b[2] = checkInt(r.srcLen, 8, 'rtm_src_len');
  b[3] = checkInt(r.tos, 8, 'rtm_tos');
  b[4] = r.table > 255 ? 252 /* RT_TABLE_COMPAT */ : checkInt(r.table, 8, 'rtm_table');
  b[5] = checkInt(r.protocol, 8, 'rtm_protocol');
  b[6] = checkInt(r.scope, 8, 'rtm_scope');
  b[7] = checkInt(r.type, 8, 'rtm_type');
  w32(b, checkInt(r.flags, 32, 'rtm_flags'), 8);
  encodeAttrs(attrs, b, RTMSG_LENGTH);
  return b;
}

/**
 * The payload of an RTM_GETROUTE request: the route to `dst` (a host route lookup, as `ip route get`
 * does), or with no `dst` a whole-table request (e.g. a dump with RTM_F_CLONED for the PMTU cache).
 */
export function encodeRouteQuery(af: AddressFamilies, family: 4 | 6, flags: number, dst?: string): Buffer {
  return encodeRoute(af, {
    family,
    dstLen: dst === undefined ? 0 : family === 4 ? 32 : 128,
    srcLen: 0,
    tos: 0,
    table: 0,
    protocol: 0,
    scope: 0,
    type: 0,
    flags,
    ...(dst !== undefined ? { dst } : {}),
  });
}

function addrAttr(a: RtAttr, family: 4 | 6, name: string): string {
  const want = family === 4 ? 4 : 16;
  if (a.data.length !== want) throw new DecodeError(name, `${a.data.length} bytes for an IPv${family} address`, 0);
  return bytesToIp(a.data, 0, family);
}

function u32Of(a: RtAttr, name: string): number {
  if (a.data.length < 4) throw new DecodeError(name, `${a.data.length} bytes, not 4`, 0);
  return r32(a.data, 0);
}

export function decodeRoute(af: AddressFamilies, payload: Buffer): RouteMessage {
  need(payload, 0, RTMSG_LENGTH, 'rtmsg');
  const rtmFamily = payload[0];
  const family = rtmFamily === af[4] ? 4 : rtmFamily === af[6] ? 6 : undefined;
  if (family === undefined) throw new DecodeError('rtmsg', `address family ${rtmFamily} is neither AF_INET nor AF_INET6`, 0);
  const r: RouteMessage = {
    family,
    dstLen: payload[1],
    srcLen: payload[2],
    tos: payload[3],
    table: payload[4],
    protocol: payload[5],
    scope: payload[6],
    type: payload[7],
    flags: r32(payload, 8),
  };
  const other: RtAttr[] = [];
  for (const a of decodeAttrs(payload, RTMSG_LENGTH)) {
    switch (a.type) {
      case RTA_DST: r.dst = addrAttr(a, family, 'RTA_DST'); break;
      case RTA_SRC: r.src = addrAttr(a, family, 'RTA_SRC'); break;
      case RTA_GATEWAY: r.gateway = addrAttr(a, family, 'RTA_GATEWAY'); break;
      case RTA_PREFSRC: r.prefsrc = addrAttr(a, family, 'RTA_PREFSRC'); break;
      case RTA_OIF: r.oif = u32Of(a, 'RTA_OIF'); break;
      case RTA_IIF: r.iif = u32Of(a, 'RTA_IIF'); break;
      case RTA_PRIORITY: r.priority = u32Of(a, 'RTA_PRIORITY'); break;
      case RTA_TABLE: r.table = u32Of(a, 'RTA_TABLE'); break;
      case RTA_METRICS: r.metrics = decodeMetrics(a.data); break;
      case RTA_CACHEINFO: r.cacheInfo = decodeCacheInfo(a.data); break;
      default: other.push(a);
    }
  }
  if (other.length > 0) r.other = other;
  return r;
}

// ---------------------------------------------------------------------------------------------
// struct ifinfomsg (RTM_GETLINK / RTM_NEWLINK): enough to name an interface index and read its MTU.

export const IFINFOMSG_LENGTH = 16;
export const IFLA_MTU = 4;
export const IFLA_IFNAME = 3;

export interface LinkMessage {
  /** AF_UNSPEC (0) in requests. */
  family: number;
  /** ARPHRD_* device type. */
  deviceType: number;
  index: number;
  /** IFF_* flags. */
  flags: number;
  change: number;
  name?: string;
  mtu?: number;
}

export function encodeLink(l: LinkMessage): Buffer {
  const attrs: RtAttr[] = [];
  if (l.name !== undefined) attrs.push({ type: IFLA_IFNAME, data: Buffer.from(`${l.name}\0`, 'latin1') });
  if (l.mtu !== undefined) attrs.push(u32Attr(IFLA_MTU, l.mtu));
  const b = Buffer.alloc(IFINFOMSG_LENGTH + attrsLength(attrs));
  b[0] = checkInt(l.family, 8, 'ifi_family');
  w16(b, checkInt(l.deviceType, 16, 'ifi_type'), 2);
  ws32(b, l.index, 4);
  w32(b, checkInt(l.flags, 32, 'ifi_flags'), 8);
  w32(b, checkInt(l.change, 32, 'ifi_change'), 12);
  encodeAttrs(attrs, b, IFINFOMSG_LENGTH);
  return b;
}

export function decodeLink(payload: Buffer): LinkMessage {
  need(payload, 0, IFINFOMSG_LENGTH, 'ifinfomsg');
  const l: LinkMessage = { family: payload[0], deviceType: r16(payload, 2), index: s32(payload, 4), flags: r32(payload, 8), change: r32(payload, 12) };
  for (const a of decodeAttrs(payload, IFINFOMSG_LENGTH)) {
    if (a.type === IFLA_IFNAME) {
      const nul = a.data.indexOf(0);
      l.name = a.data.toString('latin1', 0, nul < 0 ? a.data.length : nul);
    } else if (a.type === IFLA_MTU) l.mtu = u32Of(a, 'IFLA_MTU');
  }
  return l;
}
