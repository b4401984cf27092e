// The one place serve constructs its watcher (tests and benches may pass another factory).
import type { WatcherApi, WatchOptions } from '../watch/types.js';
import { Watcher } from '../watch/watcher.js';

export type WatcherFactory = (targets: string[], options: WatchOptions) => WatcherApi;

export const createWatcher: WatcherFactory = (targets, options) => new Watcher(targets, options);
