// discoverMany(): the path MTU of many targets in one run, as an async iterable of results in the
// order they finish. Back-pressure: at most `concurrency` targets are being probed, and no new one
// starts while `concurrency` finished results wait for the consumer.
//
// Every target is a discover() on one engine (src/engine): they share the process's probers (one
// socket per namespace, family and method, however many targets), the run's rate cap and its
// per-router pacing, and one timer. Leaving the iteration early (break, return, a throw in the
// loop) aborts the targets still running and releases their sockets before the loop exits; the
// caller's signal aborted mid-run stops starting targets and yields the running ones' partial
// results (aborted: true), as discover() resolves them.
import { setMaxListeners } from 'node:events';
import { UsageError, AbortError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { defaultEngine, Engine } from '../engine/engine.js';
import { discover, type DiscoverOptions, type DiscoverResult } from './discover.js';
import { leaseUpFront } from './methods.js';

/** One target: a host name or address, optionally pinned to a family. */
export type ManyTarget = string | { target: string; family?: Family };

export interface DiscoverManyOptions extends Omit<DiscoverOptions, 'family' | 'onEvent' | 'onSocketsOpen' | 'engine'> {
  /**
   * Called once before the first target starts, when the sockets of every method the targets may use
   * are open (leased up front for each family the run may meet and held to its end), so nothing after
   * it needs privilege: the CLI gives up root here when run through sudo.
   */
  onSocketsOpen?: () => void;
  /** Family for targets that do not pin one (default: what each name resolves to first). */
  family?: Family;
  /** Targets probed at once (default 256). */
  concurrency?: number;
  /**
   * Cap on probes per second, all targets of this run together (default: the process engine's,
   * 2,000 pps, shared with every other run that does not set one). Routers' ICMP error budgets are
   * mirrored per run either way (engine/pacing.ts).
   */
  ratePps?: number;
  /** Per-target events, tagged with the target's index in the input. */
  onEvent?: (index: number, event: Parameters<NonNullable<DiscoverOptions['onEvent']>>[0]) => void;
}

/** One finished target: its result, or the error that kept it from being probed (unknown host...). */
export type ManyResult =
  | { index: number; target: string; family?: Family; ok: true; result: DiscoverResult }
  | { index: number; target: string; family?: Family; ok: false; error: Error };

export const DEFAULT_CONCURRENCY = 256;

export async function* discoverMany(targets: Iterable<ManyTarget> | AsyncIterable<ManyTarget>, options: DiscoverManyOptions = {}): AsyncGenerator<ManyResult, void, undefined> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 65536) {
    throw new UsageError((n) => `${n('concurrency')} must be an integer from 1 to 65536, got ${concurrency}`);
  }
  if (options.ratePps !== undefined && !(Number.isFinite(options.ratePps) && options.ratePps > 0 && options.ratePps <= 10_000_000)) {
    throw new UsageError((n) => `${n('ratePps')} must be a number of probes per second above 0 and at most 10000000, got ${options.ratePps}`);
  }
  if (options.signal?.aborted) throw new AbortError();
  const { concurrency: _c, ratePps, onEvent, onSocketsOpen, signal: outer, ...common } = options;
  // One engine for the run: the process's pool of sockets, and the run's own rate cap when it has one.
  const engine = ratePps !== undefined ? new Engine({ ratePps, pool: defaultEngine().pool }) : defaultEngine();
  // Targets finishing one after another keep the sockets open for the next ones.
  const releasePool = engine.pool.keepAlive();
  const port = options.port !== undefined ? { port: options.port } : {};
  const held = onSocketsOpen ? leaseUpFront(options.family !== undefined ? [options.family] : [4, 6], options.method, (family, method) => engine.pool.acquire({ method, family, ...port })) : [];
  try {
    onSocketsOpen?.();
  } catch (err) {
    for (const l of held) l.release();
    releasePool();
    throw err;
  }
  // Aborts what runs: the caller's signal, or the consumer leaving the loop.
  const stop = new AbortController();
  // Every running target listens on it (up to `concurrency`): not a leak.
  setMaxListeners(0, stop.signal);
  const onOuterAbort = (): void => stop.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const input = (Symbol.asyncIterator in targets ? targets : toAsync(targets)) as AsyncIterable<ManyTarget>;
  const it = input[Symbol.asyncIterator]();
  const ready: ManyResult[] = [];
  const running = new Set<Promise<void>>();
  let index = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const start = (t: ManyTarget, i: number): void => {
    const target = typeof t === 'string' ? t : t.target;
    const family = typeof t === 'string' ? options.family : (t.family ?? options.family);
    const fam = family !== undefined ? { family } : {};
    const run = discover(target, { ...common, ...fam, engine, signal: stop.signal, ...(onEvent ? { onEvent: (ev) => onEvent(i, ev) } : {}) })
      .then(
        (result) => {
          ready.push({ index: i, target, ...fam, ok: true, result });
        },
        (error: unknown) => {
          // Aborted before its first probe because the run is stopping: nothing to report.
          if (stop.signal.aborted && error instanceof AbortError) return;
          ready.push({ index: i, target, ...fam, ok: false, error: error instanceof Error ? error : new Error(String(error)) });
        },
      )
      .finally(() => {
        running.delete(run);
        notify();
      });
    running.add(run);
  };

  try {
    while (true) {
      // Fill: start targets while fewer than `concurrency` run and fewer than that wait unread.
      while (!exhausted && !stop.signal.aborted && running.size + ready.length < concurrency) {
        const next = await it.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        start(next.value, index++);
      }
      if (ready.length > 0) {
        yield ready.shift()!;
        continue;
      }
      if ((exhausted || stop.signal.aborted) && running.size === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // Left early (or done): abort what still runs and wait until it has let go of its sockets.
    outer?.removeEventListener('abort', onOuterAbort);
    if (running.size > 0) {
      stop.abort();
      await Promise.allSettled([...running]);
    }
    if (!exhausted) await it.return?.();
    for (const l of held) l.release();
    releasePool();
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
