// Shared by the probe tests: open a method, send probes, gather every outcome per token.
import type { Lab } from '../../src/lab/lab.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';
import type { ProbeOutcome, Prober, SendOptions } from '../../src/probe/prober.js';

export const families: Family[] = [4, 6];
export const methods: MethodName[] = ['icmp', 'icmp-dgram', 'tcp'];

/** client -> r1 -> r2 -> r3 -> server; the client's link is 1480, the r2-r3 link 1400. */
export const bottleneckPath = { routers: [{}, {}, {}], links: [{ mtu: 1480 }, {}, { mtu: 1400 }, {}] };
export const CLIENT_MTU = 1480;
export const PATH_MTU = 1400;

export const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
export const clientOf = (lab: Lab, f: Family): string => (f === 4 ? lab.client.v4 : lab.client.v6);

/** Everything a prober reports while `sendAll` runs and for `ms` after (or until each token answered). */
export async function probeAll(
  prober: Prober,
  sends: Array<{ to: string; size: number } & SendOptions>,
  ms = 1500,
): Promise<{ tokens: number[]; outcomes: Map<number, ProbeOutcome[]> }> {
  const outcomes = new Map<number, ProbeOutcome[]>();
  const onOutcome = (token: number, o: ProbeOutcome): void => {
    const list = outcomes.get(token) ?? [];
    list.push(o);
    outcomes.set(token, list);
  };
  prober.on('outcome', onOutcome);
  try {
    const tokens = sends.map((s) => prober.send(s.to, s.size, { ttl: s.ttl }));
    const until = Date.now() + ms;
    while (Date.now() < until && !tokens.every((t) => outcomes.has(t))) await new Promise((r) => setTimeout(r, 10));
    // A little longer, so duplicates (which must not happen) would show up.
    await new Promise((r) => setTimeout(r, 50));
    return { tokens, outcomes };
  } finally {
    prober.off('outcome', onOutcome);
  }
}

/** Wait until `cond()` holds or `ms` passes. */
export async function waitFor(cond: () => boolean, ms = 1500): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

export function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
