// pathmtu cache [host] [--flush]: what the kernel has learned about path MTUs, and forgetting it.
import { parseArgs } from 'node:util';
import { flushCache, readCache, type CacheEntry, type CacheLookup, type FlushResult } from '../../cache/index.js';
import { UsageError } from '../../errors.js';
import { FAMILY_FLAGS, familyFlags, hostWithoutPort } from '../args.js';
import { EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';

const help = `pathmtu cache — the kernel's path MTU cache: what it learned, for how long, and flushing it

Usage:
  pathmtu cache [-4|-6] [--json]            list every cached path MTU (IPv4 and IPv6)
  pathmtu cache <host> [--json]             what the kernel uses towards one host
  pathmtu cache [host] --flush [-4|-6]      forget cached path MTUs (root)

When a router answers a too-big packet with "fragmentation needed" (IPv4) or "packet too big"
(IPv6), Linux remembers the smaller MTU for that destination — a cache entry (an "exception" on
the route) that every socket to it then uses, TCP connections included. It expires after
net.ipv4.route.mtu_expires / net.ipv6.route.mtu_expires seconds (600, i.e. ~10 minutes, by
default); then the kernel tries the full size again. This is what 'ip route get <host>' shows as
"cache expires 598sec mtu 1300" and 'ip route show cache' / 'ip -6 route show cache' list.

Why it matters: a stale or forged entry makes every connection to that host use small packets
for ten minutes; a missing one after a PTB means the PTB was filtered or not believed (see
'pathmtu inject'). A cached value also hides the real bottleneck from tools that trust it —
'pathmtu discover' probes with the cache ignored.

For a host, the entry is read through rtnetlink (an RTM_GETROUTE like 'ip route get') and
cross-checked with IP_MTU / IPV6_MTU on a UDP socket connected to it: the MTU the stack will
really use (nothing is sent).

Flushing: IPv6 entries are removed one by one. IPv4 has no per-host removal in Linux: flushing an
IPv4 host flushes every IPv4 entry (net.ipv4.route.flush, like 'ip route flush cache'), also when
that host has no entry of its own (a leftover entry for another address still clamps, e.g., the
TCP MSS towards it), and the output says so. Needs root (CAP_NET_ADMIN).

Options:
  -4, -6         IPv4 / IPv6 only
      --flush    forget the cached entries (the host's, or all)
      --json     JSON: a list [{destination, family, mtu, expiresSec, via, device}]; for a host,
                 one entry with cached, socketMtu, deviceMtu, routeMtu too (mtu and expiresSec
                 null when nothing is cached); with --flush {removed, flushedAllIpv4, remaining}
  -h, --help     this help

Examples:
  pathmtu cache                         every cached PMTU
  pathmtu cache 192.0.2.10              what the kernel uses towards one host
  sudo pathmtu cache --flush -6         forget all IPv6 entries

Exit status: 0 done (also when nothing is cached), 1 failed (unknown host, no privilege), 2 usage.
`;

const options = {
  ...FAMILY_FLAGS,
  flush: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  if (positionals.length > 1) throw new UsageError(`expected at most one <host>, got ${positionals.length}: ${positionals.join(' ')}`);
  const host = positionals[0] === undefined ? undefined : hostWithoutPort(positionals[0], 'cache', (_port, h) => `the kernel caches path MTUs per host: pathmtu cache ${h}`);
  const family = familyFlags(values['4'], values['6']);
  const opts = { ...(family ? { family } : {}), signal: io.signal };

  if (values.flush) {
    const r = await flushCache(host, opts);
    io.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderFlush(r, host));
    return EXIT_OK;
  }
  if (host !== undefined) {
    const r = await readCache(host, opts);
    io.stdout.write(values.json ? `${JSON.stringify([lookupJson(r)], null, 2)}\n` : renderLookup(r));
    return EXIT_OK;
  }
  const list = await readCache(undefined, opts);
  io.stdout.write(values.json ? `${JSON.stringify(list, null, 2)}\n` : renderList(list));
  return EXIT_OK;
}

function lookupJson(r: CacheLookup): Record<string, unknown> {
  return {
    destination: r.destination,
    family: r.family,
    mtu: r.mtu,
    expiresSec: r.expiresSec,
    via: r.via,
    device: r.device,
    cached: r.cached,
    socketMtu: r.socketMtu,
    deviceMtu: r.deviceMtu,
    routeMtu: r.routeMtu,
  };
}

export function renderList(list: CacheEntry[]): string {
  if (list.length === 0) {
    return (
      "no cached path MTUs (the kernel uses each route's own MTU)\n" +
      "note: the kernel lists an IPv4 entry only once traffic has used it; 'pathmtu cache <host>' asks for one destination directly\n"
    );
  }
  const rows = [['DESTINATION', 'MTU', 'EXPIRES', 'VIA', 'DEVICE'], ...list.map((e) => [e.destination, String(e.mtu), `${e.expiresSec}s`, e.via ?? '-', e.device ?? '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}

export function renderLookup(r: CacheLookup): string {
  const name = r.target === r.destination ? r.destination : `${r.target} (${r.destination})`;
  const route = [r.via ? `via ${r.via}` : 'on-link', r.device ? `dev ${r.device}` : ''].filter(Boolean).join(' ');
  const out: string[] = [];
  if (r.cached) {
    out.push(`${name}: cached path MTU ${r.mtu}, expires in ${r.expiresSec} s (${route})`);
  } else {
    const base = r.routeMtu !== null ? `the route's mtu ${r.routeMtu}` : r.deviceMtu !== null ? `${r.device}'s MTU ${r.deviceMtu}` : 'the route\'s MTU';
    out.push(`${name}: nothing cached; the kernel uses ${base} (${route})`);
  }
  if (r.socketMtu !== null) {
    const expected = r.cached ? r.mtu : (r.routeMtu ?? r.deviceMtu);
    const note = expected === null ? '' : r.socketMtu === expected ? ' (agrees)' : ` (differs from ${expected}: the cache changed meanwhile, or a policy route applies)`;
    out.push(`  IP_MTU on a socket connected to it: ${r.socketMtu}${note}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderFlush(r: FlushResult, host: string | undefined): string {
  const out: string[] = [];
  if (r.removed.length === 0) out.push(host ? `nothing was cached for ${host}` : 'nothing was cached');
  else out.push(`removed ${r.removed.length} cached path MTU${r.removed.length === 1 ? '' : 's'}: ${r.removed.map((e) => `${e.destination} (${e.mtu})`).join(', ')}`);
  if (r.flushedAllIpv4) out.push('note: Linux cannot forget one IPv4 entry, so every IPv4 entry was flushed (as asked for an IPv4 host)');
  if (r.remaining.length > 0) out.push(`still cached: ${r.remaining.map((e) => `${e.destination} (${e.mtu})`).join(', ')}`);
  return `${out.join('\n')}\n`;
}

export const cacheCommand: Command = { name: 'cache', help, options, run };
