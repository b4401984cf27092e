// What the kernel believes about path MTUs: its PMTU cache ("exceptions" hung off routes, one per
// destination, created by a frag-needed / packet-too-big and kept net.ipv4.route.mtu_expires /
// net.ipv6.route.mtu_expires seconds, 600 by default). Read through rtnetlink exactly as iproute2
// does: `ip route get X` is an RTM_GETROUTE for X (no RTM_F_FIB_MATCH / RTM_F_LOOKUP_TABLE: the
// kernel resolves it like a packet and returns the exception), `ip route show cache` a dump with
// RTM_F_CLONED. The PMTU is RTA_METRICS/RTAX_MTU, its lifetime RTA_CACHEINFO.rta_expires in clock
// ticks (USER_HZ); an entry counts as a cached PMTU only with both, so a route's configured `mtu`
// (which never expires) is not mistaken for one.
import { SystemCallError } from '../errors.js';
import { resolveTarget } from '../sock/resolve.js';
import { addressFamilies } from '../sock/sockaddr.js';
import { routePathMtu } from '../sock/route.js';
import type { Family } from '../wire/facts.js';
import * as nl from '../wire/netlink.js';
import { linkNames, type LinkInfo } from './links.js';
import { NetlinkSocket } from './netlink-socket.js';

export interface CacheEntry {
  destination: string;
  family: Family;
  /** The cached path MTU. */
  mtu: number;
  /** Seconds until the kernel forgets it (then the route's MTU applies again). */
  expiresSec: number;
  /** Next hop, or null when the destination is on-link. */
  via: string | null;
  /** Outgoing interface name (null when the kernel did not say). */
  device: string | null;
}

export interface CacheLookup {
  /** What was asked, and the address it resolved to. */
  target: string;
  destination: string;
  family: Family;
  /** True when the kernel holds a PMTU exception for this destination. */
  cached: boolean;
  /** The cached PMTU, or null when nothing is cached. */
  mtu: number | null;
  expiresSec: number | null;
  via: string | null;
  device: string | null;
  /** MTU of the outgoing interface (what applies when nothing is cached, unless the route sets one). */
  deviceMtu: number | null;
  /** A route's own `mtu` metric (configured, never expires), when it has one. */
  routeMtu: number | null;
  /** IP_MTU / IPV6_MTU on a UDP socket connected to the destination: the MTU the stack will use. */
  socketMtu: number | null;
}

export interface CacheOptions {
  family?: Family;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A cached PMTU in a route message: RTM_F_CLONED, an MTU metric and a running expiry. */
export function cachedPmtu(r: nl.RouteMessage): { mtu: number; expiresSec: number } | null {
  const mtu = r.metrics?.[nl.RTAX_MTU];
  const ticks = r.cacheInfo?.expires ?? 0;
  if ((r.flags & nl.RTM_F_CLONED) === 0 || mtu === undefined || ticks <= 0) return null;
  return { mtu, expiresSec: Math.floor(ticks / nl.USER_HZ) };
}

/**
 * Every cached PMTU, IPv4 and IPv6 (or one family), like `ip route show cache` + `ip -6 route show
 * cache`. Kernel limit (as for those commands): a fresh IPv4 exception is dumped only once a route
 * lookup to its destination has bound a route to it — with real traffic the next packet does; after
 * an injected PTB with no traffic, lookupCache(host) (a route get) finds it and makes it listable.
 */
export async function listCache(opts: CacheOptions = {}): Promise<CacheEntry[]> {
  const families: Family[] = opts.family ? [opts.family] : [4, 6];
  const sock = NetlinkSocket.open();
  const routes: nl.RouteMessage[] = [];
  let names: Map<number, LinkInfo>;
  try {
    for (const family of families) {
      const msgs = await sock.request(nl.RTM_GETROUTE, nl.NLM_F_DUMP, nl.encodeRouteQuery(addressFamilies(), family, nl.RTM_F_CLONED), opts);
      for (const m of msgs) if (m.type === nl.RTM_NEWROUTE) routes.push(nl.decodeRoute(addressFamilies(), m.payload));
    }
    names = await linkNames(sock, opts);
  } finally {
    sock.close();
  }
  const out: CacheEntry[] = [];
  for (const r of routes) {
    const c = cachedPmtu(r);
    if (c === null || r.dst === undefined) continue;
    out.push({
      destination: r.dst,
      family: r.family,
      mtu: c.mtu,
      expiresSec: c.expiresSec,
      via: r.gateway ?? null,
      device: r.oif !== undefined ? (names.get(r.oif)?.name ?? null) : null,
    });
  }
  return out;
}

/** The kernel's PMTU for one host, like `ip route get <host>`, cross-checked with IP_MTU (seed 001). */
export async function lookupCache(host: string, opts: CacheOptions = {}): Promise<CacheLookup> {
  const { target, address, family } = await resolveTarget(host, opts.family);
  opts.signal?.throwIfAborted();
  const sock = NetlinkSocket.open();
  let r: nl.RouteMessage | undefined;
  let link: LinkInfo | undefined;
  try {
    const msgs = await sock.request(nl.RTM_GETROUTE, 0, nl.encodeRouteQuery(addressFamilies(), family, 0, address), opts).catch((err: unknown) => {
      // No route at all: nothing can be cached for it either.
      if (err instanceof SystemCallError && (err.code === 'ENETUNREACH' || err.code === 'EHOSTUNREACH')) return [];
      throw err;
    });
    const m = msgs.find((x) => x.type === nl.RTM_NEWROUTE);
    r = m ? nl.decodeRoute(addressFamilies(), m.payload) : undefined;
    if (r?.oif !== undefined) link = (await linkNames(sock, opts)).get(r.oif);
  } finally {
    sock.close();
  }
  const c = r ? cachedPmtu(r) : null;
  const metricMtu = r?.metrics?.[nl.RTAX_MTU];
  return {
    target,
    destination: address,
    family,
    cached: c !== null,
    mtu: c?.mtu ?? null,
    expiresSec: c?.expiresSec ?? null,
    via: r?.gateway ?? null,
    device: link?.name ?? null,
    deviceMtu: link?.mtu ?? null,
    routeMtu: c === null && metricMtu !== undefined ? metricMtu : null,
    // IP_MTU on a connected UDP socket (seed 001 reads it after the PTB arrived); null when no
    // route: the netlink answer already says so.
    socketMtu: routePathMtu(address, family),
  };
}

/** readCache() lists every cached PMTU; readCache(host) looks one destination up. */
export function readCache(host?: undefined, opts?: CacheOptions): Promise<CacheEntry[]>;
export function readCache(host: string, opts?: CacheOptions): Promise<CacheLookup>;
export function readCache(host?: string, opts: CacheOptions = {}): Promise<CacheEntry[] | CacheLookup> {
  return host === undefined ? listCache(opts) : lookupCache(host, opts);
}
