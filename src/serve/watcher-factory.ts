// The one place serve constructs its watcher. Until src/watch/watcher.ts (the watch engine) is on
// main, an interim re-discovering watcher stands in; then this body becomes
// `return new Watcher(targets, options)` from '../watch/watcher.js' and nothing else in serve changes.
import type { WatcherApi, WatchOptions } from '../watch/types.js';
import { RediscoverWatcher } from './rediscover-watcher.js';

export type WatcherFactory = (targets: string[], options: WatchOptions) => WatcherApi;

export const createWatcher: WatcherFactory = (targets, options) => new RediscoverWatcher(targets, options);
