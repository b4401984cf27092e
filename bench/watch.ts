// The Watcher on issue 8's hub (1,000 targets per family, 10% behind a router that drops its PTBs),
// v4 and v6 watched at once in one process: time until every PMTU is first known (and how many are
// right), the steady probe traffic per target (confirmation rounds and the raise timer's searches),
// and how long after a route MTU is lowered the change is reported. Nothing is asserted.
//
// The timers are the defaults divided by `scale` (default 10: confirm every 6 s, raise after 60 s)
// so that a raise timer fits in the run; every probe is a consequence of a timer, so the traffic at
// the defaults is the measured rate divided by `scale` (printed beside it).
//
// npm run bench -- --only watch [--quick]     or alone: node --import tsx bench/watch.ts [--quick]
import { fileURLToPath } from 'node:url';
import { Hub } from '../src/lab/hub.js';
import type { HubTarget } from '../src/lab/hub-spec.js';
import { Watcher } from '../src/watch/watcher.js';
import type { WatchEvent } from '../src/watch/types.js';
import { DEFAULT_INTERVAL_S, DEFAULT_RAISE_S } from '../src/watch/machine.js';
import { median, seconds } from './lib/stats.js';
import { table } from './lib/table.js';

export interface WatchBenchOptions {
  /** Targets per family (default 1000). */
  targets?: number;
  /** Timers are the defaults divided by this (default 10). */
  scale?: number;
  /** Targets per family whose route MTU is lowered mid-run (default 50). */
  changes?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runWatchBench(opts: WatchBenchOptions = {}): Promise<string> {
  const n = opts.targets ?? 1000;
  const scale = opts.scale ?? 10;
  const intervalS = DEFAULT_INTERVAL_S / scale;
  const raiseS = DEFAULT_RAISE_S / scale;
  const hub = await Hub.create({ targets: n });
  const all = [...hub.targets(4), ...hub.targets(6)];
  const events: Array<WatchEvent & { at: number }> = [];
  const out: string[] = [];
  hub.enter('client');
  const w = new Watcher(all.map((t) => t.address), { intervalS, raiseS });
  let errors = 0;
  w.on('error', () => errors++);
  try {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const firstKnown = new Map<string, number>();
    w.on('change', (e) => {
      events.push({ ...e, at: performance.now() });
      if (e.reason === 'initial' && !firstKnown.has(e.target)) firstKnown.set(e.target, performance.now() - t0);
    });
    await w.start();
    while (firstKnown.size < all.length && performance.now() - t0 < 300_000) await sleep(100);
    const initialMs = performance.now() - t0;
    const right = all.filter((t) => events.some((e) => e.target === t.address && e.reason === 'initial' && e.pmtu === t.pmtu)).length;

    // Steady state: one raise timer's worth of rounds (plus one interval), every probe counted.
    const p0 = w.probesSent;
    const s0 = performance.now();
    await sleep((raiseS + intervalS) * 1000);
    const steadyS = (performance.now() - s0) / 1000;
    const steadyProbes = w.probesSent - p0;
    const ppsPerTarget = steadyProbes / steadyS / all.length;
    const falseChanges = events.filter((e) => e.reason !== 'initial').length;

    // Lower the route MTU of some targets on r1 (not the black holes: r1 is their PTB-sending hop).
    const changed: Array<{ t: HubTarget; to: number; at: number }> = [];
    const lines: string[] = [];
    for (const f of [4, 6] as const) {
      const picks = hub.targets(f).filter((t) => !t.blackHole && t.pmtu - 20 >= (f === 4 ? 576 : 1280)).slice(0, opts.changes ?? 50);
      for (const t of picks) {
        const r = await hub.exec('r1', ['ip', `-${f}`, 'route', 'show', t.address]);
        const via = /via (\S+)/.exec(r.stdout)?.[1];
        if (via === undefined) continue;
        lines.push(`route change ${t.address}/${f === 4 ? 32 : 128} via ${via} mtu lock ${t.pmtu - 20}`);
        changed.push({ t, to: t.pmtu - 20, at: 0 });
      }
    }
    const tc = performance.now();
    const r = await hub.exec('r1', ['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    if (r.code !== 0) throw new Error(`ip route change: ${r.stderr}`);
    for (const c of changed) c.at = tc;
    const deadline = performance.now() + 3 * intervalS * 1000 + 5000;
    const seen = (c: (typeof changed)[number]): (WatchEvent & { at: number }) | undefined =>
      events.find((e) => e.target === c.t.address && e.at >= c.at && e.reason !== 'initial' && e.pmtu === c.to);
    while (changed.some((c) => !seen(c)) && performance.now() < deadline) await sleep(100);
    const delays = changed.map((c) => seen(c)).filter((e) => e !== undefined).map((e) => e!.at - tc);
    const within2 = delays.filter((d) => d <= 2 * intervalS * 1000).length;
    const reasons = new Set(changed.map((c) => seen(c)?.reason).filter((x) => x !== undefined));
    const mem = process.memoryUsage();
    const rssMb = mem.rss / 1e6;

    out.push(
      `${all.length} targets watched at once (${n} per family, ${all.filter((t) => t.blackHole).length} behind a PTB-dropping router), one process,`,
      `timers at 1/${scale} of the defaults: confirm every ${intervalS} s, raise after ${raiseS} s. Method auto.`,
      '',
      table(
        ['what', 'measured', 'at the defaults (60 s / 600 s)'],
        [
          ['every PMTU first known', `${seconds(initialMs)}, ${right}/${all.length} right`, 'same'],
          [`steady traffic (${steadyS.toFixed(0)} s: rounds + raise searches)`, `${ppsPerTarget.toFixed(3)} probes/s per target`, `${(ppsPerTarget / scale).toFixed(4)} probes/s per target (target <= 1)`],
          ['changes reported while nothing changed', String(falseChanges), ''],
          [`route MTU lowered by 20 for ${changed.length} targets`, `${delays.length} seen (${[...reasons].join(', ')}), ${within2} within 2 intervals; median ${seconds(median(delays))}, max ${seconds(Math.max(...delays))}`, `within ${2 * DEFAULT_INTERVAL_S} s`],
          ['process RSS', `${rssMb.toFixed(0)} MB (${(rss0 / 1e6).toFixed(0)} MB before start; JS heap in use ${(mem.heapUsed / 1e6).toFixed(0)} MB)`, ''],
          ['errors reported', String(errors), ''],
        ],
      ),
    );
  } finally {
    await w.stop();
    hub.leave();
    await hub.destroy();
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(await runWatchBench(quick ? { targets: 200, changes: 20 } : {}));
}
