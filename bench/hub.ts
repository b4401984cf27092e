// Issue 8's hub, measured before the engine exists: what the lab costs (build and teardown of
// 1,000 targets per family) and today's baseline, 1,000 sequential discover() calls per family in
// one process (method auto, kernel-default ICMP rate limits — what a user gets today). Nothing is
// asserted; the issue's target (1,000 targets in <= 5 s per family) is printed beside.
//
// npm run bench -- --only hub [--quick] [--reps N]     or alone: node --import tsx bench/hub.ts [--quick]
import { fileURLToPath } from 'node:url';
import { Hub } from '../src/lab/hub.js';
import type { HubSpec, HubTarget } from '../src/lab/hub-spec.js';
import { discover, type DiscoverResult } from '../src/discover/index.js';
import type { Family } from '../src/wire/facts.js';
import { median, seconds } from './lib/stats.js';
import { table } from './lib/table.js';
import { ROOT } from './lib/tools.js';
import { join } from 'node:path';

const CLI = join(ROOT, 'bin', 'pathmtu.js');

export interface HubBenchOptions {
  /** Targets per family (default 1000). */
  targets?: number;
  /** Fresh hubs built and torn down for the build/teardown medians (default 3). */
  reps?: number;
  /** Sequential discover() calls per family (default: every target). */
  calls?: number;
  /** Black holes per family probed with --method udp (default 20). */
  udpHoles?: number;
  /** Whole `pathmtu <host>` processes per family, one after another (default 50). */
  cliRuns?: number;
  spec?: HubSpec;
}

interface Baseline {
  family: Family;
  calls: number;
  totalMs: number;
  exact: number;
  right: number;
  perCallMs: number[];
  holeMs: number[];
  wrong: string[];
}

async function buildTimes(targets: number, reps: number): Promise<{ build: number[]; teardown: number[] }> {
  const build: number[] = [];
  const teardown: number[] = [];
  for (let i = 0; i < reps; i++) {
    const hub = await Hub.create({ targets });
    build.push(hub.buildMs);
    const t0 = performance.now();
    await hub.destroy();
    teardown.push(performance.now() - t0);
  }
  return { build, teardown };
}

/** A loop of single CLI runs, as a user scripts it today: one process per target. */
async function cliLoop(hub: Hub, family: Family, targets: readonly HubTarget[]): Promise<Baseline> {
  const b: Baseline = { family, calls: targets.length, totalMs: 0, exact: 0, right: 0, perCallMs: [], holeMs: [], wrong: [] };
  const t0 = performance.now();
  for (const t of targets) {
    const s = performance.now();
    const r = await hub.exec('client', [process.execPath, CLI, t.address, `-${family}`, '--json'], { timeoutMs: 60_000 });
    (t.blackHole ? b.holeMs : b.perCallMs).push(performance.now() - s);
    let res: { pmtu?: number | null; exact?: boolean } = {};
    try {
      res = JSON.parse(r.stdout) as typeof res;
    } catch {
      if (b.wrong.length < 5) b.wrong.push(`cli ${t.address}: exit ${r.code}, ${r.stderr.trim().split('\n')[0]}`);
      continue;
    }
    if (res.exact) b.exact++;
    if (res.exact && res.pmtu === t.pmtu) b.right++;
    else if (b.wrong.length < 5) b.wrong.push(`cli ${t.address}: ${res.pmtu} (truth ${t.pmtu})`);
  }
  b.totalMs = performance.now() - t0;
  return b;
}

async function sequential(hub: Hub, family: Family, targets: readonly HubTarget[], method?: 'udp'): Promise<Baseline> {
  const b: Baseline = { family, calls: targets.length, totalMs: 0, exact: 0, right: 0, perCallMs: [], holeMs: [], wrong: [] };
  hub.enter('client');
  try {
    const t0 = performance.now();
    for (const t of targets) {
      const s = performance.now();
      let r: DiscoverResult;
      try {
        r = await discover(t.address, { family, method });
      } catch (e) {
        b.wrong.push(`${t.address}: ${(e as Error).message}`);
        continue;
      }
      const ms = performance.now() - s;
      (t.blackHole ? b.holeMs : b.perCallMs).push(ms);
      if (r.exact) b.exact++;
      if (r.pmtu === t.pmtu && r.exact) b.right++;
      else if (b.wrong.length < 5) b.wrong.push(`${t.address}${t.blackHole ? ' (hole)' : ''}: ${r.pmtu} (truth ${t.pmtu}, ${r.method}${r.reason ? `, ${r.reason}` : ''})`);
    }
    b.totalMs = performance.now() - t0;
  } finally {
    hub.leave();
  }
  return b;
}

export async function runHubBench(opts: HubBenchOptions = {}): Promise<string> {
  const targets = opts.targets ?? 1000;
  const reps = opts.reps ?? 3;
  const out: string[] = [];

  const { build, teardown } = await buildTimes(targets, reps);
  out.push(
    `hub of ${targets} targets per family (${2 * targets} routes on r1, ${2 * targets} addresses, ${Math.floor(targets / 10) * 2} black holes), ${reps} fresh builds:`,
    '',
    table(
      ['step', 'median', 'min', 'max'],
      [
        ['build (namespaces, veths, routes, addresses, nft)', seconds(median(build)), seconds(Math.min(...build)), seconds(Math.max(...build))],
        ['teardown', seconds(median(teardown)), seconds(Math.min(...teardown)), seconds(Math.max(...teardown))],
      ],
    ),
    '',
  );

  const hub = await Hub.create({ targets, ...opts.spec });
  const rows: string[][] = [];
  const notes: string[] = [];
  const row = (label: string, b: Baseline): void => {
    rows.push([
      label,
        String(b.calls),
        seconds(b.totalMs),
        `${b.right}/${b.calls}`,
        `${b.exact}/${b.calls}`,
      b.perCallMs.length ? `${median(b.perCallMs).toFixed(1)} ms` : '-',
      b.holeMs.length ? `${median(b.holeMs).toFixed(0)} ms (${b.holeMs.length})` : '-',
      seconds((b.totalMs / b.calls) * 1000),
    ]);
    for (const w of b.wrong) notes.push(`  ${label} ${w}`);
  };
  try {
    for (const family of [4, 6] as const) {
      row(`IPv${family} discover() loop`, await sequential(hub, family, hub.targets(family).slice(0, opts.calls ?? targets)));
    }
    // The udp method through black holes: the targets' port unreachables are rate-limited per
    // destination (a burst of 6, then 1/s), so most deliveries look like losses.
    for (const family of [4, 6] as const) {
      const holes = hub.targets(family).filter((t) => t.blackHole).slice(0, opts.udpHoles ?? 20);
      row(`IPv${family} --method udp, black holes`, await sequential(hub, family, holes, 'udp'));
    }
    // Other targets than the loop's where it can (the client's kernel now caches those PMTUs).
    for (const family of [4, 6] as const) {
      const n = Math.min(opts.cliRuns ?? 50, targets);
      const from = Math.max(0, Math.min(opts.calls ?? targets, targets - n));
      row(`IPv${family} CLI process loop`, await cliLoop(hub, family, hub.targets(family).slice(from, from + n)));
    }
  } finally {
    await hub.destroy();
  }
  out.push(
    `today's baseline, one target after another (method auto, kernel-default ICMP rate limits): discover() calls in one`,
    `process, and a loop of \`pathmtu <host> --json\` processes. Issue 8's target: 1,000 targets in <= 5 s per family.`,
    `(Teardown is what \`ip netns del\` costs; the kernel frees the namespaces afterwards, asynchronously.)`,
    '',
    table(['run', 'calls', 'total', 'right + exact', 'exact', 'median clean', 'median black hole (n)', 'per 1,000'], rows),
  );
  if (notes.length > 0) out.push('', 'first inexact or wrong answers:', ...notes);
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(await runHubBench(quick ? { calls: 100, cliRuns: 20, udpHoles: 5, reps: 1 } : {}));
}
