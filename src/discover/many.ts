// discoverMany(): the path MTU of many targets in one run, as an async iterable of results in the
// order they finish. Back-pressure: at most `concurrency` targets are being probed, and no new one
// starts while `concurrency` finished results wait for the consumer.
//
// This first version runs discover() per target; the engine (src/engine) makes them share sockets,
// timers and the rate cap. The interface below is the contract the CLI and watch build on.
import { UsageError, AbortError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { discover, type DiscoverOptions, type DiscoverResult } from './discover.js';

/** One target: a host name or address, optionally pinned to a family. */
export type ManyTarget = string | { target: string; family?: Family };

export interface DiscoverManyOptions extends Omit<DiscoverOptions, 'family' | 'onEvent' | 'onSocketsOpen'> {
  /** Family for targets that do not pin one (default: what each name resolves to first). */
  family?: Family;
  /** Targets probed at once (default 256). */
  concurrency?: number;
  /** Global cap on probes per second, all targets together (engine). */
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
  if (options.signal?.aborted) throw new AbortError();
  const { concurrency: _c, ratePps: _r, onEvent, ...common } = options;
  const input = (Symbol.asyncIterator in targets ? targets : toAsync(targets)) as AsyncIterable<ManyTarget>;
  const it = input[Symbol.asyncIterator]();
  const ready: ManyResult[] = [];
  let running = 0;
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
    running++;
    discover(target, { ...common, ...(family !== undefined ? { family } : {}), ...(onEvent ? { onEvent: (ev) => onEvent(i, ev) } : {}) })
      .then(
        (result) => ready.push({ index: i, target, ...(family !== undefined ? { family } : {}), ok: true, result }),
        (error: unknown) => ready.push({ index: i, target, ...(family !== undefined ? { family } : {}), ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
      )
      .finally(() => {
        running--;
        notify();
      });
  };

  while (true) {
    // Fill: start targets while fewer than `concurrency` run and fewer than that wait unread.
    while (!exhausted && running + ready.length < concurrency) {
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
    if (exhausted && running === 0) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
