// Clearing cached PMTUs (root: CAP_NET_ADMIN). What this kernel really does (verified in the lab on
// Linux 6.x, see test/cache/cache.test.ts):
// - IPv6: each exception is a route of its own; RTM_DELROUTE with RTM_F_CLONED removes exactly one
//   (what `ip -6 route flush cache` does per entry). With that flag the kernel only looks in the
//   exception table, so a real route is never deleted by mistake. Writing net.ipv6.route.flush only
//   runs the garbage collector: unexpired exceptions survive it.
// - IPv4: exceptions (fnhe) cannot be deleted one by one — RTM_DELROUTE answers ESRCH. Writing 1 to
//   net.ipv4.route.flush bumps the namespace's fnhe generation and so drops ALL of them; that is
//   what `ip route flush cache` does. So flushing one IPv4 host flushes every IPv4 entry, and the
//   result says so.
import { openSync, writeSync, closeSync } from 'node:fs';
import { PermissionError, SystemCallError } from '../errors.js';
import { resolveTarget } from '../sock/resolve.js';
import { addressFamilies } from '../sock/sockaddr.js';
import type { Family } from '../wire/facts.js';
import * as nl from '../wire/netlink.js';
import { NetlinkSocket } from './netlink-socket.js';
import { listCache, lookupCache, type CacheEntry, type CacheOptions } from './read.js';

export interface FlushResult {
  /** Entries that were cached before and are gone now. */
  removed: CacheEntry[];
  /**
   * IPv4 can only be flushed as a whole: true when an IPv4 host was asked for and the whole IPv4
   * cache was flushed for it (whether or not that host had an entry of its own).
   */
  flushedAllIpv4: boolean;
  /** Entries still cached afterwards (in the families flushed). */
  remaining: CacheEntry[];
}

const wayOut = (): PermissionError =>
  new PermissionError(
    'flushing the PMTU cache',
    'CAP_NET_ADMIN (root)',
    'Run it as root (sudo) or with CAP_NET_ADMIN, or wait: every entry expires by itself after net.ipv4.route.mtu_expires / net.ipv6.route.mtu_expires seconds (600 by default).',
  );

/** Write 1 to /proc/sys/net/ipv4/route/flush, synchronously: /proc/sys/net belongs to the calling thread's namespace at open. */
function flushIpv4(): void {
  let fd: number;
  try {
    fd = openSync('/proc/sys/net/ipv4/route/flush', 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw wayOut();
    throw err;
  }
  try {
    writeSync(fd, '1\n');
  } finally {
    closeSync(fd);
  }
}

async function deleteIpv6(sock: NetlinkSocket, e: CacheEntry, opts: CacheOptions): Promise<void> {
  const req = nl.encodeRoute(addressFamilies(), { family: 6, dstLen: 128, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: nl.RTM_F_CLONED, dst: e.destination });
  try {
    await sock.request(nl.RTM_DELROUTE, nl.NLM_F_ACK, req, opts);
  } catch (err) {
    if (err instanceof SystemCallError && (err.code === 'EPERM' || err.code === 'EACCES')) throw wayOut();
    if (err instanceof SystemCallError && err.code === 'ESRCH') return; // expired meanwhile
    throw err;
  }
}

/** Forget cached PMTUs: all of them, one family's, or one host's (see above for IPv4). */
export async function flushCache(host?: string, opts: CacheOptions = {}): Promise<FlushResult> {
  let family: Family | undefined = opts.family;
  let address: string | undefined;
  if (host !== undefined) {
    const r = await resolveTarget(host, family);
    family = r.family;
    address = r.address;
  }
  // For one host, a route get first: it also binds a fresh IPv4 exception to a route, without
  // which the kernel's dump would not list it (see listCache).
  if (address !== undefined) await lookupCache(address, { ...opts, family });
  const before = await listCache({ ...opts, ...(family ? { family } : {}) });
  const targets = before.filter((e) => address === undefined || e.destination === address);
  const v6 = targets.filter((e) => e.family === 6);
  // IPv4 has no per-host removal: an IPv4 host, or no host, flushes every IPv4 entry.
  const wantV4 = family !== 6;
  if (wantV4) flushIpv4();
  if (v6.length > 0) {
    const sock = NetlinkSocket.open();
    try {
      for (const e of v6) await deleteIpv6(sock, e, opts);
    } finally {
      sock.close();
    }
  }
  const after = await listCache({ ...opts, ...(family ? { family } : {}) });
  const still = new Set(after.map((e) => `${e.family}/${e.destination}`));
  const removed = before.filter((e) => !still.has(`${e.family}/${e.destination}`));
  return {
    removed,
    flushedAllIpv4: wantV4 && address !== undefined,
    remaining: after,
  };
}
