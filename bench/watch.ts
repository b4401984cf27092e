// The Watcher on issue 8's hub (1,000 targets per family, 10% behind a router that drops its PTBs),
// v4 and v6 watched at once in one process: time until every PMTU is first known (and how many are
// right), the steady probe traffic per target (confirmation rounds and the raise timer's searches),
// how long after a route MTU is lowered the change is reported, and the peak RSS of the process
// running the Watcher alone (bench/watch-child.mjs, the hub is not in it). Nothing is asserted.
//
// The timers are the defaults divided by `scale` (default 10: confirm every 6 s, raise after 60 s)
// so that a raise timer fits in the run; every probe is a consequence of a timer, so the traffic at
// the defaults is the measured rate divided by `scale` (printed beside it).
//
// npm run bench -- --only watch [--quick]     or alone: node --import tsx bench/watch.ts [--quick] [--dist=PATH]
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Hub } from '../src/lab/hub.js';
import type { HubTarget } from '../src/lab/hub-spec.js';
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
  /** The compiled package the child loads, relative to bench/ (default ../dist/index.js): to compare builds. */
  dist?: string;
}

const CHILD = fileURLToPath(new URL('./watch-child.mjs', import.meta.url));

interface ChildEvent { at: number; target: string; reason: string; pmtu: number | null; previous: number | null }
interface ChildReport { hwmMb: number; rssMb: number; baselineMb: number; heapUsedMb: number; probesSent: number; errors: number; now: number }

/**
 * The Watcher alone in a child process (bench/watch-child.mjs) in the hub's client namespace: its
 * memory is the Watcher's (and Node's), not the hub's nor this process's. Times are the child's
 * performance.now(); reports are asked for with SIGUSR2 and, at the end, SIGTERM.
 */
class WatcherChild {
  readonly events: ChildEvent[] = [];
  #reports: ChildReport[] = [];
  #waiters: Array<() => void> = [];
  #buf = '';
  #started: number | undefined;
  #err = '';
  readonly #child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(hub: Hub, targets: string[], intervalS: number, raiseS: number, dist?: string) {
    this.#child = hub.spawn('client', [process.execPath, CHILD, String(intervalS), String(raiseS), ...(dist ? [dist] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    this.#child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#err += d));
    this.#child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.#buf += d;
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        const o = JSON.parse(line) as Record<string, unknown>;
        if (typeof o.started === 'number') this.#started = o.started;
        else if (o.final) this.#reports.push(o as unknown as ChildReport);
        else if (o.reason !== undefined) this.events.push(o as unknown as ChildEvent);
        for (const w of this.#waiters.splice(0)) w();
      }
    });
    this.#child.stdin!.end(`${targets.join('\n')}\n`);
  }

  /** The child's clock when its Watcher started (its signal handlers are installed by then). */
  async started(): Promise<number> {
    const until = performance.now() + 30_000;
    while (this.#started === undefined) {
      if (performance.now() > until) throw new Error(`the watcher child did not start: ${this.#err}`);
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.#started;
  }

  async report(signal: 'SIGUSR2' | 'SIGTERM' = 'SIGUSR2'): Promise<ChildReport> {
    const n = this.#reports.length;
    this.#child.kill(signal);
    const until = performance.now() + 30_000;
    while (this.#reports.length === n) {
      if (performance.now() > until) throw new Error(`the watcher child did not report: ${this.#err}`);
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.#reports[n]!;
  }

  get stderr(): string {
    return this.#err;
  }
}

export async function runWatchBench(opts: WatchBenchOptions = {}): Promise<string> {
  const n = opts.targets ?? 1000;
  const scale = opts.scale ?? 10;
  const intervalS = DEFAULT_INTERVAL_S / scale;
  const raiseS = DEFAULT_RAISE_S / scale;
  const hub = await Hub.create({ targets: n });
  const all = [...hub.targets(4), ...hub.targets(6)];
  const out: string[] = [];
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  let w: WatcherChild | undefined;
  try {
    w = new WatcherChild(hub, all.map((t) => t.address), intervalS, raiseS, opts.dist);
    const child = w;
    const t0 = await child.started();
    const firstKnown = (): number => new Set(child.events.filter((e) => e.reason === 'initial').map((e) => e.target)).size;
    const wall0 = performance.now();
    while (firstKnown() < all.length && performance.now() - wall0 < 300_000) await sleep(100);
    const initials = child.events.filter((e) => e.reason === 'initial');
    const initialMs = Math.max(...initials.map((e) => e.at)) - t0;
    const right = all.filter((t) => initials.some((e) => e.target === t.address && e.pmtu === t.pmtu)).length;

    // Steady state: one raise timer's worth of rounds (plus one interval), every probe counted.
    const s0 = await child.report();
    await sleep((raiseS + intervalS) * 1000);
    const s1 = await child.report();
    const steadyS = (s1.now - s0.now) / 1000;
    const ppsPerTarget = (s1.probesSent - s0.probesSent) / steadyS / all.length;
    const falseChanges = child.events.filter((e) => e.reason !== 'initial').length;

    // Lower the route MTU of some targets on r1 (not the black holes: r1 is their PTB-sending hop).
    const changed: Array<{ t: HubTarget; to: number }> = [];
    const lines: string[] = [];
    for (const f of [4, 6] as const) {
      const picks = hub.targets(f).filter((t) => !t.blackHole && t.pmtu - 20 >= (f === 4 ? 576 : 1280)).slice(0, opts.changes ?? 50);
      for (const t of picks) {
        const r = await hub.exec('r1', ['ip', `-${f}`, 'route', 'show', t.address]);
        const via = /via (\S+)/.exec(r.stdout)?.[1];
        if (via === undefined) continue;
        lines.push(`route change ${t.address}/${f === 4 ? 32 : 128} via ${via} mtu lock ${t.pmtu - 20}`);
        changed.push({ t, to: t.pmtu - 20 });
      }
    }
    const before = await child.report();
    const r = await hub.exec('r1', ['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    if (r.code !== 0) throw new Error(`ip route change: ${r.stderr}`);
    const tc = (await child.report()).now; // the child's clock just after the routes changed
    const deadline = performance.now() + 3 * intervalS * 1000 + 5000;
    const seen = (c: (typeof changed)[number]): ChildEvent | undefined =>
      child.events.find((e) => e.target === c.t.address && e.at >= before.now && e.reason !== 'initial' && e.pmtu === c.to);
    while (changed.some((c) => !seen(c)) && performance.now() < deadline) await sleep(100);
    const delays = changed.map((c) => seen(c)).filter((e) => e !== undefined).map((e) => Math.max(0, e!.at - tc));
    const within2 = delays.filter((d) => d <= 2 * intervalS * 1000).length;
    const reasons = new Set(changed.map((c) => seen(c)?.reason).filter((x) => x !== undefined));
    const end = await child.report('SIGTERM');
    await child.exited;

    out.push(
      `${all.length} targets watched at once (${n} per family, ${all.filter((t) => t.blackHole).length} behind a PTB-dropping router), the Watcher alone in`,
      `a child process (bench/watch-child.mjs) in the hub's client namespace; timers at 1/${scale} of the defaults: confirm every`,
      `${intervalS} s, raise after ${raiseS} s. Method auto.`,
      '',
      table(
        ['what', 'measured', 'at the defaults (60 s / 600 s)'],
        [
          ['every PMTU first known', `${seconds(initialMs)}, ${right}/${all.length} right`, 'same'],
          [`steady traffic (${steadyS.toFixed(0)} s: rounds + raise searches)`, `${ppsPerTarget.toFixed(3)} probes/s per target`, `${(ppsPerTarget / scale).toFixed(4)} probes/s per target (target <= 1)`],
          ['changes reported while nothing changed', String(falseChanges), ''],
          [`route MTU lowered by 20 for ${changed.length} targets`, `${delays.length} seen (${[...reasons].join(', ')}), ${within2} within 2 intervals; median ${seconds(median(delays))}, max ${seconds(Math.max(...delays))}`, `within ${2 * DEFAULT_INTERVAL_S} s`],
          ['watcher process peak RSS (VmHWM)', `${end.hwmMb.toFixed(0)} MB (Node alone before the Watcher: ${end.baselineMb.toFixed(0)} MB; RSS at the end ${end.rssMb.toFixed(0)} MB, JS heap in use ${end.heapUsedMb.toFixed(0)} MB)`, 'exporter <= 200 MB'],
          ['errors reported', String(end.errors), ''],
        ],
      ),
    );
  } finally {
    if (w !== undefined && w.stderr.trim() !== '') out.push('', `watcher child stderr: ${w.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
    await hub.destroy();
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const dist = process.argv.find((a) => a.startsWith('--dist='))?.slice('--dist='.length);
  console.log(await runWatchBench({ ...(quick ? { targets: 200, changes: 20 } : {}), ...(dist ? { dist } : {}) }));
}
