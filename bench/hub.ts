// Issue 8's hub: pathmtu discoverMany over 1,000 targets per family (runHubManyBench: one whole
// process per run, wall time, peak RSS, probe sockets held, every answer against the hub's truth),
// then what the lab costs (build and teardown of 1,000 targets per family) and the one-at-a-time
// baseline, 1,000 sequential discover() calls per family in one process and a loop of CLI runs.
// Nothing is asserted; the issue's target (1,000 targets in <= 5 s per family) is printed beside.
//
// npm run bench -- --only hub [--quick] [--reps N]     or alone: node --import tsx bench/hub.ts [--quick] [--many]
// (--many: the discoverMany runs only; the child loads dist/, so build first)
import { fileURLToPath } from 'node:url';
import { Hub } from '../src/lab/hub.js';
import type { HubSpec, HubTarget } from '../src/lab/hub-spec.js';
import { discover, type DiscoverResult } from '../src/discover/index.js';
import type { Family } from '../src/wire/facts.js';
import { median, seconds } from './lib/stats.js';
import { table } from './lib/table.js';
import { ROOT } from './lib/tools.js';
import { join } from 'node:path';
import { runHubCliBench, type HubCliOptions } from './hub-cli.js';

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
  /** Only the discoverMany runs (skip the lab build medians and the one-at-a-time baselines). */
  manyOnly?: boolean;
  /** The whole-process section of bench/hub-cli.ts (pathmtu -f, a loop, scamper, nmap); false: skip it. */
  cli?: HubCliOptions | false;
}

/**
 * The discoverMany part of the hub bench: 1,000 targets per family on a hub with kernel-default
 * ICMP limits (icmp at the default cap and at 10,000 pps, auto, udp), then udp again on a hub whose
 * target host does not rate-limit its port unreachables, to show what the limit costs.
 */
export async function runHubManyBench(opts: HubBenchOptions = {}): Promise<string> {
  const targets = opts.targets ?? 1000;
  const out: string[] = [];
  const fams = [4, 6] as const;
  let hub = await Hub.create({ targets, ...opts.spec });
  let rows: ManyBenchRow[];
  try {
    rows = await discoverManyBench(hub, [
      ...fams.map((family) => ({ family, method: 'icmp' as const })),
      ...fams.map((family) => ({ family, method: 'icmp' as const, ratePps: 10_000 })),
      ...fams.map((family) => ({ family, method: 'auto' as const, ratePps: 10_000 })),
      ...fams.map((family) => ({ family, method: 'udp' as const, ratePps: 10_000 })),
    ]);
  } finally {
    await hub.destroy();
  }
  hub = await Hub.create({ targets, ...opts.spec, targetHost: { icmpRateLimitMs: 0, icmpRateMask: 0 } });
  let lifted: ManyBenchRow[];
  try {
    lifted = await discoverManyBench(hub, fams.map((family) => ({ family, method: 'udp' as const })));
  } finally {
    await hub.destroy();
  }
  out.push(
    `pathmtu discoverMany, ${targets} targets per family, one whole process per run (Node start-up included; peak RSS is the`,
    `process's VmHWM; probe sockets: the most held at once). Kernel-default ICMP limits on the routers and the target host:`,
    '',
    manyTable(rows),
    '',
    `udp again, the target host's port unreachables not rate-limited (icmp_ratelimit 0, icmp_ratemask 0; IPv6's errors still`,
    `share the host's global 1,000/s budget):`,
    '',
    manyTable(lifted),
  );
  const wrong = [...rows, ...lifted].flatMap((r) => r.wrong.map((w) => `  IPv${r.run.family} ${r.run.method} ${r.run.ratePps ?? 2000} pps: ${w}`));
  if (wrong.length > 0) out.push('', 'first inexact or wrong answers:', ...wrong);
  return out.join('\n');
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

const MANY_CHILD = join(ROOT, 'bench', 'hub-many-child.mjs');

export interface ManyBenchRun {
  family: Family;
  method: 'icmp' | 'udp' | 'icmp-dgram' | 'tcp' | 'auto';
  /** Global cap of the run (undefined: the engine's default, 2,000 pps). */
  ratePps?: number;
}

export interface ManyBenchRow {
  run: ManyBenchRun;
  targets: number;
  /** Wall time of the whole process (Node start-up, the run, exit). */
  processMs: number;
  /** The discoverMany loop alone. */
  runMs: number;
  right: number;
  exact: number;
  probesPerTarget: number;
  peakRssMb: number | null;
  peakSockets: number;
  wrong: string[];
}

/**
 * pathmtu discoverMany over every target of a family, one whole process per run (bench/hub-many-child.mjs
 * in the hub's client namespace): wall time, peak RSS (VmHWM), the most sockets held at once, and
 * every answer checked against the hub's truth.
 */
export async function discoverManyBench(hub: Hub, runs: readonly ManyBenchRun[], limit?: number): Promise<ManyBenchRow[]> {
  const rows: ManyBenchRow[] = [];
  for (const run of runs) {
    const targets = hub.targets(run.family).slice(0, limit);
    const argv = [process.execPath, MANY_CHILD, String(run.family), run.method, ...(run.ratePps !== undefined ? [String(run.ratePps)] : [])];
    const t0 = performance.now();
    const r = await hub.exec('client', argv, { input: targets.map((t) => t.address).join('\n') + '\n', timeoutMs: 600_000 });
    const processMs = performance.now() - t0;
    const row: ManyBenchRow = { run, targets: targets.length, processMs, runMs: 0, right: 0, exact: 0, probesPerTarget: 0, peakRssMb: null, peakSockets: 0, wrong: [] };
    let out: { answers: Array<[string, number | null, boolean, number, string?]>; runMs: number; peakRssMb: number | null; peakSockets: number };
    try {
      out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as typeof out;
    } catch {
      row.wrong.push(`exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      rows.push(row);
      continue;
    }
    row.runMs = out.runMs;
    row.peakRssMb = out.peakRssMb;
    row.peakSockets = out.peakSockets;
    let probes = 0;
    for (const [address, pmtu, exact, n, error] of out.answers) {
      probes += n;
      let t: HubTarget;
      try {
        t = hub.target(address);
      } catch {
        row.wrong.push(`${address}: ${error ?? 'not a hub target'}`);
        continue;
      }
      if (exact) row.exact++;
      if (exact && pmtu === t.pmtu) row.right++;
      else if (row.wrong.length < 3) row.wrong.push(`${address}${t.blackHole ? ' (hole)' : ''}: ${error ?? `${pmtu} exact=${exact}`} (truth ${t.pmtu})`);
    }
    row.probesPerTarget = probes / Math.max(1, out.answers.length);
    rows.push(row);
  }
  return rows;
}

function manyTable(rows: readonly ManyBenchRow[]): string {
  return table(
    ['family', 'method', 'rate cap', 'targets', 'process wall', 'discoverMany', 'right + exact', 'probes/target', 'peak RSS', 'probe sockets'],
    rows.map((r) => [
      `IPv${r.run.family}`,
      r.run.method,
      `${r.run.ratePps ?? 2000} pps${r.run.ratePps === undefined ? ' (default)' : ''}`,
      String(r.targets),
      seconds(r.processMs),
      seconds(r.runMs),
      `${r.right}/${r.targets}`,
      r.probesPerTarget.toFixed(1),
      r.peakRssMb === null ? '-' : `${r.peakRssMb.toFixed(0)} MB`,
      String(r.peakSockets),
    ]),
  );
}

export async function runHubBench(opts: HubBenchOptions = {}): Promise<string> {
  const many = await runHubManyBench(opts);
  if (opts.manyOnly) return many;
  const targets = opts.targets ?? 1000;
  const reps = opts.reps ?? 3;
  const out: string[] = [many, ''];

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
  if (opts.cli !== false) out.push('', await runHubCliBench({ targets, ...opts.cli, ...(opts.spec ? { spec: opts.spec } : {}) }));
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const manyOnly = process.argv.includes('--many');
  console.log(await runHubBench({ ...(quick ? { calls: 100, cliRuns: 20, udpHoles: 5, reps: 1 } : {}), manyOnly }));
}
