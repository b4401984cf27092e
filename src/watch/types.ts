// The contract of the watch engine (src/watch): what `pathmtu watch` renders and `pathmtu serve`
// exports on /metrics. The Watcher keeps each target's PMTU true over time after RFC 8899's state
// machine (confirm at an interval, search down at once on loss of PMTU-sized probes or a validated
// PTB, search up after the raise timer) and reports each change as a WatchEvent.
import type { MethodChoice } from '../discover/discover.js';
import type { Engine } from '../engine/engine.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';

export interface WatchOptions {
  /** Seconds between confirmations of each target's PMTU (default 60). */
  intervalS?: number;
  /** Seconds after which a larger PMTU is tried again (RFC 8899 PMTU_RAISE_TIMER, default 600). */
  raiseS?: number;
  method?: MethodChoice;
  family?: Family;
  min?: number;
  max?: number;
  port?: number;
  /**
   * Global cap on probes per second, all targets together, searches and confirmations alike (an
   * engine of the Watcher's own, on the process's pool of sockets). Not with `engine`: its cap rules.
   */
  ratePps?: number;
  signal?: AbortSignal;
  /**
   * The engine to run on (default: the process-wide one): its pool's sockets and its scheduler's one
   * timer and rate cap serve the searches and the confirmation rounds together. serve and tests
   * pass one to share it with other jobs.
   */
  engine?: Engine;
  /**
   * Called once by start(), when the sockets of every (family, method) the targets may need are
   * open, before the first probe (the CLI gives up root here when started through sudo).
   */
  onSocketsOpen?: () => void;
}

/** Why a target's PMTU (or its state) changed. */
export type WatchReason =
  | 'initial' // first known
  | 'ptb' // a validated PTB / frag-needed lowered it
  | 'black-hole' // PMTU-sized probes vanished without an ICMP error: searched down
  | 'local-mtu' // this host's own interface MTU dropped below the PMTU (the local stack refused the size)
  | 'raise' // the raise timer's search found a larger PMTU
  | 'address' // the target's name resolves to another address now (at a raise timer): pmtu is the new address's
  | 'unreachable' // the target stopped answering anything (or a router says unreachable)
  | 'reachable'; // it answers again

export interface WatchEvent {
  /** ISO 8601 time of the change. */
  time: string;
  target: string;
  address: string;
  family: Family;
  method: MethodName;
  /** The PMTU now; null when unknown (unreachable). */
  pmtu: number | null;
  /** The PMTU before; null for the first event of a target. */
  previous: number | null;
  reason: WatchReason;
  /** True when sizes above the PMTU vanish without an ICMP error. */
  blackHole: boolean;
  /** The router that sent the PTB, for reason 'ptb'. */
  ptbFrom?: string;
  /** Human words: "PTB 1400 from 198.18.0.2", "black hole above 1400", "raise to 1500 succeeded". */
  detail: string;
}

/** The current state of one watched target (for the live table and /metrics). */
export interface WatchState {
  target: string;
  address: string | null;
  family: Family | null;
  method: MethodName | null;
  pmtu: number | null;
  blackHole: boolean;
  /** 'searching' until first known; then RFC 8899's phases. */
  phase: 'searching' | 'confirming' | 'searching-down' | 'searching-up' | 'unreachable' | 'error';
  /** ms since the epoch of the PMTU's last change (or first known). */
  sinceMs: number | null;
  lastEvent: WatchEvent | null;
  changes: number;
  probesSent: number;
  /** Probes per second sent for this target, averaged over the last minute. */
  probesPerSecond: number;
  /** The last error that kept this target from being probed (unknown host...), if any. */
  error?: string;
}

/** What src/watch exports as `Watcher` implements; `pathmtu watch` and serve use only this. */
export interface WatcherApi {
  /** Starts watching (resolving names, first searches); resolves when every target has been started. */
  start(): Promise<void>;
  /** Stops every timer and closes the sockets; resolves when nothing is left running. */
  stop(): Promise<void>;
  /** Adds or removes targets while running (serve's config reload). */
  setTargets(targets: string[]): void;
  states(): WatchState[];
  on(event: 'change', listener: (e: WatchEvent) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
