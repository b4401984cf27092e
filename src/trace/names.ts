// Reverse names of the hops, all asked at once, each capped: a slow resolver must never hold up the
// answer. Addresses from the benchmarking and documentation ranges (RFC 2544, 5737, 3849) have no
// names anywhere, so they are never asked about — which also keeps lab runs off the resolver.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export const NAME_TIMEOUT_MS = 500;

const NO_NAMES_V4: Array<[number, number]> = [
  [0xc6120000, 15], // 198.18.0.0/15 benchmarking
  [0xc0000200, 24], // 192.0.2.0/24 TEST-NET-1
  [0xc6336400, 24], // 198.51.100.0/24 TEST-NET-2
  [0xcb007100, 24], // 203.0.113.0/24 TEST-NET-3
];

/** True for addresses no resolver can name (and that must not be asked about from a lab). */
export function unnamable(address: string): boolean {
  const f = isIP(address);
  if (f === 4) {
    const n = address.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
    return NO_NAMES_V4.some(([net, len]) => (n >>> (32 - len)) === (net >>> (32 - len)));
  }
  if (f === 6) return /^2001:0?db8:/i.test(address) || /^2001:db8::/i.test(address);
  return true;
}

/** address -> name for those that resolved in time. */
export async function reverseNames(addresses: string[], timeoutMs = NAME_TIMEOUT_MS): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ask = [...new Set(addresses)].filter((a) => !unnamable(a));
  if (ask.length === 0) return out;
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  const lookups = ask.map(async (a) => {
    try {
      const [name] = await resolver.reverse(a);
      if (name) out.set(a, name);
    } catch {
      // No name, or no resolver: the address is shown alone.
    }
  });
  await Promise.race([Promise.all(lookups), deadline]);
  clearTimeout(timer);
  resolver.cancel();
  return out;
}
