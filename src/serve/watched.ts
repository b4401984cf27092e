// serve's watched targets: a Watcher keeps their PMTUs current, and /metrics reads its states()
// in prom-client collect() callbacks, so a scrape costs no probing. Label `target` (and `module`).
// A reload hands the new watch config over: the same settings only change the targets
// (setTargets); other settings start a new watcher.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WatcherApi, WatchEvent, WatchOptions, WatchState } from '../watch/types.js';
import type { ServeConfig, WatchConfig } from './config.js';
import { createWatcher, type WatcherFactory } from './watcher-factory.js';

type Labels = 'target' | 'module';

export class Watched {
  private watcher: WatcherApi | undefined;
  private current: WatchConfig | undefined;
  private optionsKey = '';
  private started = false;
  private readonly factory: WatcherFactory;
  private readonly onChange: (e: WatchEvent) => void;
  private readonly onError: (e: Error) => void;

  constructor(registry: Registry, opts: { factory?: WatcherFactory; onChange?: (e: WatchEvent) => void; onError?: (e: Error) => void } = {}) {
    this.factory = opts.factory ?? createWatcher;
    this.onChange = opts.onChange ?? (() => {});
    this.onError = opts.onError ?? (() => {});
    const registers = [registry];
    const labelNames = ['target', 'module'] as const;
    // prom-client runs every collect() of a scrape in one synchronous pass: they share one
    // states() copy, so the six metrics describe the same moment and the table is copied once.
    const each = (set: (s: WatchState, labels: Record<Labels, string>) => void): void => {
      const module = this.current?.module ?? '';
      for (const s of this.snapshot()) set(s, { target: s.target, module });
    };
    const gauge = (name: string, help: string, value: (s: WatchState) => number | null): void => {
      new Gauge<Labels>({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          each((s, labels) => {
            const v = value(s);
            if (v !== null) this.set(labels, v);
          });
        },
      });
    };
    const counter = (name: string, help: string, value: (s: WatchState) => number): void => {
      new Counter<Labels>({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          each((s, labels) => this.inc(labels, value(s)));
        },
      });
    };
    gauge('pathmtu_watch_pmtu_bytes', 'Path MTU of a watched target in bytes, kept current by the watch engine (absent until known)', (s) => s.pmtu);
    gauge('pathmtu_watch_up', 'Whether the watched target answers and its path MTU is known', (s) => (up(s) ? 1 : 0));
    gauge('pathmtu_watch_black_hole', 'Whether sizes above the path MTU vanish without an ICMP error', (s) => (s.blackHole ? 1 : 0));
    gauge('pathmtu_watch_last_change_timestamp_seconds', 'Unix time the path MTU last changed (or was first known)', (s) => (s.sinceMs === null ? null : s.sinceMs / 1000));
    counter('pathmtu_watch_changes_total', 'Change events since watching began: the first PMTU known, each change of it, unreachable and back', (s) => s.changes);
    counter('pathmtu_watch_probes_sent_total', 'Probes sent to keep the path MTU current', (s) => s.probesSent);
  }

  private snap: WatchState[] | undefined;

  /** states(), taken once per scrape: dropped at the next turn of the event loop. */
  private snapshot(): WatchState[] {
    if (this.snap === undefined) {
      this.snap = this.states();
      setImmediate(() => (this.snap = undefined));
    }
    return this.snap;
  }

  /** The watched states now (empty when nothing is watched). */
  states(): WatchState[] {
    return this.watcher?.states() ?? [];
  }

  /** Applies a config's watch section: start, retarget, replace or stop the watcher. */
  async apply(config: ServeConfig): Promise<void> {
    const w = config.watch;
    const options = w ? watchOptions(config, w) : undefined;
    const key = JSON.stringify(options ?? null);
    if (this.watcher !== undefined && (w === undefined || w.targets.length === 0 || key !== this.optionsKey)) {
      const old = this.watcher;
      this.watcher = undefined;
      await old.stop();
    }
    this.current = w;
    this.optionsKey = key;
    if (w === undefined || options === undefined || w.targets.length === 0) return;
    if (this.watcher !== undefined) {
      this.watcher.setTargets(w.targets);
      return;
    }
    this.watcher = this.factory(w.targets, options);
    this.watcher.on('change', this.onChange);
    this.watcher.on('error', this.onError);
    if (this.started) await this.watcher.start();
  }

  async start(): Promise<void> {
    this.started = true;
    await this.watcher?.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    const w = this.watcher;
    this.watcher = undefined;
    await w?.stop();
  }
}

function up(s: WatchState): boolean {
  return s.pmtu !== null && s.phase !== 'unreachable' && s.phase !== 'error';
}

function watchOptions(config: ServeConfig, w: WatchConfig): WatchOptions {
  const m = config.modules[w.module];
  return {
    intervalS: w.intervalS,
    raiseS: w.raiseS,
    method: m.method,
    ...(m.family !== undefined ? { family: m.family } : {}),
    ...(m.min !== undefined ? { min: m.min } : {}),
    ...(m.max !== undefined ? { max: m.max } : {}),
  };
}
