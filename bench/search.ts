// The search on the simulated path (virtual time, no network): per scenario, how often the answer
// is exact and right, median virtual time and probes over SEEDS seeded runs — beside a sequential
// DF-ping-style binary search (one probe at a time, 1 s timeout, a PTB counts as "too big").
// Run alone: node --import tsx bench/search.ts     (bench/run.ts may call runSearchBench()).
import { fileURLToPath } from 'node:url';
import { MIN_MTU } from '../src/wire/facts.js';
import { SimPath, simulate, type SimHop, type SimPathModel } from '../src/search/simulate.js';
import { hubTopology, simulateMany, type HubOptions, type ManyResult } from '../src/search/simulate-many.js';

const SEEDS = 201;
const hop = (mtu: number, sendsPtb = true, extra: Partial<SimHop> = {}): SimHop => ({ mtu, sendsPtb, ...extra });
const clean = (rttMs: number): SimPathModel => ({ hops: [hop(1500), hop(1400), hop(1500)], rttMs });
const hole = (rttMs: number): SimPathModel => ({ hops: [hop(1500), hop(1400, false), hop(1500)], rttMs });

const SCENARIOS: Array<[string, SimPathModel]> = [
  ['clean 3-hop 1400, 0.2 ms RTT', clean(0.2)],
  ['clean 3-hop 1400, 100 ms RTT', clean(100)],
  ['black hole 1400, 0.2 ms RTT', hole(0.2)],
  ['black hole 1400, 100 ms RTT (target <= 1.5 s)', hole(100)],
  ['black hole 1437 (no plateau), 100 ms RTT', { hops: [hop(1500), hop(1437, false), hop(1500)], rttMs: 100 }],
  ['clean 1400, 100 ms RTT, 5% loss each way', { ...clean(100), lossRate: 0.05, jitterMs: 10 }],
  ['black hole 1400, 100 ms RTT, 5% loss each way', { ...hole(100), lossRate: 0.05, jitterMs: 10 }],
  ['PTBs rate-limited, dest limits port unreachable, 1280', {
    hops: [hop(1500), hop(1280), hop(1500)], rttMs: 100, destRateLimit: { burst: 6, perSec: 1 },
  }],
  ['black hole, dest bucket empty (run right after a run)', {
    ...hole(1), destRateLimit: { burst: 6, perSec: 1, initial: 0 },
  }],
  // issue 9: a PTB says 1480, a later router drops its PTBs at a 1400 link (goal: exact <= 1 s)
  ['PTB 1480, then a silent 1400 link, 0.2 ms RTT', { hops: [hop(1500), hop(1480), hop(1400, false), hop(1500)], rttMs: 0.2 }],
  ['PTB 1480, then a silent 1400 link, 100 ms RTT', { hops: [hop(1500), hop(1480), hop(1400, false), hop(1500)], rttMs: 100 }],
];

interface Row {
  correct: number;
  ms: number[];
  probes: number[];
}

/** One probe at a time, 1 s timeout: what a DF-ping binary search does (seeds 000/002). */
function sequentialBinary(path: SimPathModel, seed: number): { pmtu: number; ms: number; probes: number } {
  const sim = new SimPath(path, seed);
  let lo: number = MIN_MTU[sim.family];
  let hi = path.localMtu ?? 1500;
  let now = 0;
  let probes = 0;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    probes++;
    const answer = sim.send(mid, now).filter((e) => e.at - now < 1000).sort((a, b) => a.at - b.at)[0];
    if (answer?.outcome.kind === 'delivered') {
      now = answer.at;
      lo = mid;
    } else {
      now = answer ? answer.at : now + 1000;
      hi = mid - 1;
    }
  }
  return { pmtu: lo, ms: now, probes };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

// Many targets (issue 8): the lab hub as a topology — one router with a per-target bottleneck MTU,
// 10% of the targets behind a second router that drops its PTBs — and one search per target under
// a global packets-per-second cap. The hub rate-limits its PTBs (6, then 1/s, for all of them
// together) unless the row says Linux: Linux exempts frag-needed and PTB from its ICMP limits.
const MANY_SIZES = [10, 100, 1000];
const MANY_RATES = [1000, 10_000, 100_000];

function manyRow(label: string, hub: HubOptions, ratePps: number): string[] {
  const topo = hubTopology(hub, 1);
  const cell = (r: ManyResult): string[] => {
    const right = r.targets.filter((t) => t.exact && t.pmtu === t.truePmtu).length;
    const above = r.targets.filter((t) => (t.pmtu ?? 0) > t.truePmtu).length;
    const probes = r.targets.map((t) => t.probes);
    return [
      `${right}/${r.targets.length}${above > 0 ? ` (${above} above)` : ''}`,
      fmtMs(r.virtualMs),
      String(median(probes)),
      String(Math.max(...probes)),
    ];
  };
  const ours = simulateMany(topo, { ratePps }, 1);
  const guess = simulateMany(topo, { ratePps, strategy: 'plateau-guess' }, 1);
  return [label, String(hub.targets), `${ratePps}`, ...cell(ours), ...cell(guess).slice(0, 3), `${ours.errorsSent}/${ours.errorsSent + ours.errorsDropped}`];
}

export function runManyBench(): string {
  const rows: string[][] = [];
  for (const n of MANY_SIZES) for (const rate of MANY_RATES) rows.push(manyRow('v4, hub limits PTBs', { targets: n }, rate));
  rows.push(manyRow('v6, hub limits PTBs', { targets: 1000, family: 6 }, 10_000));
  rows.push(manyRow('v4, Linux hub (PTB exempt)', { targets: 1000, limitsPtb: false }, 10_000));
  rows.push(manyRow('v4, hub limits PTBs, 50 ms RTT', { targets: 1000, rttMs: 50 }, 10_000));
  rows.push(manyRow('v4, hub limits PTBs, 1% loss', { targets: 1000, lossRate: 0.01, jitterMs: 2 }, 10_000));
  rows.push(manyRow('v4 udp (targets limit port unreach.)', { targets: 1000, answers: 'port-unreachable' }, 10_000));
  return [
    'many targets behind one hub router (10% behind a silent one), virtual time; seed 1. "guess": one probe at a',
    'time, trusts PTBs, steps down a plateau table after 2 silent seconds (scamper-like, see PlateauGuesser)',
    table(
      ['topology', 'targets', 'pps cap', 'exact', 'all done', 'probes/target', 'max', 'guess right', 'guess done', 'guess probes', 'PTBs sent/drawn'],
      rows,
    ),
  ].join('\n');
}

export async function runSearchBench(): Promise<string> {
  const rows: string[][] = [];
  for (const [name, path] of SCENARIOS) {
    const ours: Row = { correct: 0, ms: [], probes: [] };
    const seq: Row = { correct: 0, ms: [], probes: [] };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = simulate(path, { max: path.localMtu ?? 1500 }, seed);
      if (r.result.exact && r.result.pmtu === r.truePmtu) ours.correct++;
      ours.ms.push(r.virtualMs);
      ours.probes.push(r.probes);
      const b = sequentialBinary(path, seed);
      if (b.pmtu === r.truePmtu) seq.correct++;
      seq.ms.push(b.ms);
      seq.probes.push(b.probes);
    }
    rows.push([
      name,
      `${ours.correct}/${SEEDS}`,
      fmtMs(median(ours.ms)),
      fmtMs(Math.max(...ours.ms)),
      String(median(ours.probes)),
      String(Math.max(...ours.probes)),
      `${seq.correct}/${SEEDS}`,
      fmtMs(median(seq.ms)),
      String(median(seq.probes)),
    ]);
  }
  return [
    `search on the simulated path: virtual time, ${SEEDS} seeds per scenario (exact and right / median / worst)`,
    table(
      ['scenario', 'exact', 'median', 'worst', 'probes', 'max', 'seq. binary ok', 'seq. median', 'seq. probes'],
      rows,
    ),
    '',
    runManyBench(),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await runSearchBench());
}
