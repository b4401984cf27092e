// An interim WatcherApi for serve until src/watch/watcher.ts (RFC 8899's state machine, the
// watch engine) lands on main: it re-runs discover() for each target every interval. It costs a
// whole search per interval instead of one confirmation probe, so it is replaced, not grown:
// src/serve/watcher-factory.ts is the one place that chooses the implementation.
import { EventEmitter } from 'node:events';
import { discover, type DiscoverResult } from '../discover/index.js';
import type { WatcherApi, WatchEvent, WatchOptions, WatchReason, WatchState } from '../watch/types.js';

/** Searches running at once, all targets together. */
const CONCURRENCY = 64;
/** How often the one timer looks for targets whose interval is up. */
const TICK_MS = 250;

interface Entry {
  state: WatchState;
  nextAt: number;
  running: boolean;
  /** Probes sent in recent runs: [ms, count], for probesPerSecond over the last minute. */
  recent: Array<[number, number]>;
}

export class RediscoverWatcher extends EventEmitter implements WatcherApi {
  private readonly entries = new Map<string, Entry>();
  private readonly options: WatchOptions;
  private readonly stopper = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private readonly inflight = new Set<Promise<void>>();

  constructor(targets: string[], options: WatchOptions = {}) {
    super();
    this.options = options;
    for (const t of targets) this.add(t);
  }

  private add(target: string): void {
    if (this.entries.has(target)) return;
    this.entries.set(target, {
      state: {
        target, address: null, family: this.options.family ?? null, method: null, pmtu: null, blackHole: false, phase: 'searching',
        sinceMs: null, lastEvent: null, changes: 0, probesSent: 0, probesPerSecond: 0,
      },
      nextAt: 0,
      running: false,
      recent: [],
    });
  }

  async start(): Promise<void> {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.stopper.abort();
    await Promise.allSettled([...this.inflight]);
  }

  setTargets(targets: string[]): void {
    const want = new Set(targets);
    for (const t of [...this.entries.keys()]) if (!want.has(t)) this.entries.delete(t);
    for (const t of targets) this.add(t);
    if (this.timer !== undefined) this.tick();
  }

  states(): WatchState[] {
    const now = Date.now();
    return [...this.entries.values()].map((e) => {
      const recent = e.recent.filter(([at]) => now - at <= 60_000);
      return { ...e.state, probesPerSecond: recent.reduce((s, [, n]) => s + n, 0) / 60 };
    });
  }

  private tick(): void {
    if (this.stopper.signal.aborted) return;
    const now = Date.now();
    for (const [target, e] of this.entries) {
      if (this.running >= CONCURRENCY) break;
      if (e.running || e.nextAt > now) continue;
      e.running = true;
      this.running++;
      const p = this.run(target, e).finally(() => {
        e.running = false;
        this.running--;
        e.nextAt = Date.now() + (this.options.intervalS ?? 60) * 1000;
        this.inflight.delete(p);
      });
      this.inflight.add(p);
    }
  }

  private async run(target: string, e: Entry): Promise<void> {
    const o = this.options;
    let r: DiscoverResult | undefined;
    try {
      r = await discover(target, {
        ...(o.method ? { method: o.method } : {}), ...(o.family ? { family: o.family } : {}),
        ...(o.min ? { min: o.min } : {}), ...(o.max ? { max: o.max } : {}), ...(o.port ? { port: o.port } : {}),
        signal: this.stopper.signal,
      });
    } catch (err) {
      if (this.stopper.signal.aborted) return;
      e.state = { ...e.state, phase: 'error', error: (err as Error).message };
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      return;
    }
    if (this.stopper.signal.aborted || this.entries.get(target) !== e) return;
    e.recent.push([Date.now(), r.probes]);
    e.recent = e.recent.filter(([at]) => Date.now() - at <= 60_000);
    const before = e.state;
    const pmtu = r.pmtu;
    const first = before.sinceMs === null && before.lastEvent === null;
    const reason: WatchReason | undefined =
      pmtu === null ? (before.phase === 'unreachable' ? undefined : 'unreachable')
        : first ? 'initial'
          : before.pmtu === null ? 'reachable'
            : pmtu < before.pmtu ? (r.ptbs.some((p) => p.accepted) ? 'ptb' : 'black-hole')
              : pmtu > before.pmtu ? 'raise' : undefined;
    e.state = {
      ...before, address: r.address, family: r.family, method: r.method, pmtu, blackHole: r.blackHole,
      phase: pmtu === null ? 'unreachable' : 'confirming', probesSent: before.probesSent + r.probes, error: undefined,
    };
    if (reason === undefined) return;
    const ptb = r.ptbs.find((p) => p.accepted);
    const event: WatchEvent = {
      time: new Date().toISOString(), target, address: r.address, family: r.family, method: r.method, pmtu, previous: before.pmtu,
      reason, blackHole: r.blackHole, ...(reason === 'ptb' && ptb ? { ptbFrom: ptb.from } : {}),
      detail: reason === 'ptb' && ptb ? `PTB ${ptb.nextHopMtu} from ${ptb.from}`
        : reason === 'black-hole' ? `black hole above ${pmtu}`
          : reason === 'raise' ? `raise to ${pmtu} succeeded`
            : reason === 'unreachable' ? 'target unreachable' : reason === 'reachable' ? 'target back' : `path MTU ${pmtu}`,
    };
    e.state = { ...e.state, sinceMs: Date.now(), lastEvent: event, changes: before.changes + 1 };
    this.emit('change', event);
  }
}
