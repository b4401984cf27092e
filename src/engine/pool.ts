// The prober pool: one shared Prober (one socket) per (network namespace, family, method, port) for
// every job in the process, handed out by leases and closed when the last lease is released.
//
// Why per network namespace: a socket belongs to the namespace it was opened in, for good. The lab
// enters namespaces per thread (setns), so the key carries the inode of /proc/thread-self/ns/net at
// acquire time: a socket opened inside one namespace is never used from another. (While the pool
// holds a socket, that socket holds its namespace: the inode cannot be reused meanwhile.)
//
// Replies are routed to their job by token: Prober matches each answer to the probe it quotes (an
// O(1) index on (key, destination)); the pool's one 'outcome' listener per prober then finds the
// lease that sent that probe in a Map. No job listens on the prober itself, so a reply costs the
// same with one job or a thousand.
import { statSync } from 'node:fs';
import { createProber } from '../probe/index.js';
import type { Ignored, Prober, ProbeOutcome, SendOptions } from '../probe/prober.js';
import type { MethodName } from '../probe/outcome.js';
import { UDP_BASE_PORT } from '../probe/udp.js';
import { TCP_DEFAULT_PORT } from '../probe/tcp.js';
import type { Family } from '../wire/facts.js';

export interface ProberSpec {
  method: MethodName;
  family: Family;
  /** tcp: destination port (default 443); udp: first destination port (default 33434). */
  port?: number;
}

export type OutcomeHandler = (token: number, outcome: ProbeOutcome) => void;

export interface PoolOptions {
  /**
   * How long an unleased prober stays open for the next run, ms (default 0: closed with its last
   * lease, so a finished discover() leaves no socket behind). keepAlive() holds them meanwhile.
   */
  idleMs?: number;
  /** Opens a prober (default: createProber from src/probe). Tests pass their own. */
  open?: (spec: ProberSpec) => Prober;
  /** Names the current network namespace (default: the inode of /proc/thread-self/ns/net). */
  netns?: () => string;
}

/** The network namespace the calling thread is in now, as the inode of its nsfs file. */
export function currentNetns(): string {
  try {
    return String(statSync('/proc/thread-self/ns/net').ino);
  } catch {
    // No /proc (or an old kernel without thread-self): one namespace as far as we can tell.
    try {
      return String(statSync('/proc/self/ns/net').ino);
    } catch {
      return 'unknown';
    }
  }
}

function portKey(spec: ProberSpec): string {
  if (spec.method === 'tcp') return String(spec.port ?? TCP_DEFAULT_PORT);
  if (spec.method === 'udp') return String(spec.port ?? UDP_BASE_PORT);
  return '';
}

class Entry {
  readonly leases = new Set<Lease>();
  readonly routes = new Map<number, { lease: Lease; onOutcome: OutcomeHandler }>();
  idleTimer: NodeJS.Timeout | undefined;
  closed = false;
  /** The socket failed: not handed out again (a new acquire opens a fresh one). */
  failed = false;

  constructor(
    readonly key: string | null,
    readonly prober: Prober,
  ) {
    prober.on('outcome', (token, outcome) => this.routes.get(token)?.onOutcome(token, outcome));
    prober.on('ignored', (ignored) => {
      for (const l of this.leases) l.onIgnored?.(ignored);
    });
    // A socket error fails every job on it; the pool stops handing this prober out.
    prober.on('error', (err) => {
      this.failed = true;
      for (const l of [...this.leases]) l.onError?.(err);
    });
  }
}

/** A job's hold on a shared prober. Release it when the job ends (idempotent). */
export class Lease {
  /** Called for each answer the prober could not match (forged, stale, another program's). */
  onIgnored: ((ignored: Ignored) => void) | undefined;
  /** Called when the socket fails; the job should end. */
  onError: ((err: Error) => void) | undefined;
  readonly #entry: Entry;
  readonly #pool: ProberPool;
  readonly #tokens = new Set<number>();
  #released = false;

  /** @internal */
  constructor(pool: ProberPool, entry: Entry) {
    this.#pool = pool;
    this.#entry = entry;
  }

  get prober(): Prober {
    return this.#entry.prober;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Send one probe; its outcome (and any later duplicate) goes to `onOutcome` until forgotten. */
  send(destination: string, size: number, opts: SendOptions, onOutcome: OutcomeHandler): number {
    if (this.#released) throw new Error('send on a released lease');
    const token = this.#entry.prober.send(destination, size, opts);
    this.#tokens.add(token);
    this.#entry.routes.set(token, { lease: this, onOutcome });
    return token;
  }

  /** Stop routing answers of these probes (the job has no more use for them). */
  forget(tokens: Iterable<number>): void {
    for (const t of tokens) {
      if (this.#entry.routes.get(t)?.lease === this) this.#entry.routes.delete(t);
      this.#tokens.delete(t);
    }
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.forget([...this.#tokens]);
    this.onIgnored = undefined;
    this.onError = undefined;
    this.#pool._release(this.#entry, this);
  }
}

export class ProberPool {
  readonly #entries = new Map<string, Entry>();
  readonly #idleMs: number;
  readonly #open: (spec: ProberSpec) => Prober;
  readonly #netns: () => string;
  #keepAlive = 0;

  constructor(opts: PoolOptions = {}) {
    this.#idleMs = opts.idleMs ?? 0;
    this.#open = opts.open ?? ((s) => createProber(s.method, s.family, s.port !== undefined ? { port: s.port } : {}));
    this.#netns = opts.netns ?? currentNetns;
  }

  /** The pool key of a spec in the calling thread's current network namespace. */
  key(spec: ProberSpec): string {
    return `${this.#netns()}|${spec.family}|${spec.method}|${portKey(spec)}`;
  }

  /**
   * A lease on the shared prober for `spec` in the current network namespace, opening it when none
   * is open. `exclusive`: a prober of its own, never shared (its holder may close it directly).
   * Throws what opening throws (PermissionError when the method needs a privilege).
   */
  acquire(spec: ProberSpec, opts: { exclusive?: boolean } = {}): Lease {
    if (opts.exclusive) {
      const entry = new Entry(null, this.#open(spec));
      const lease = new Lease(this, entry);
      entry.leases.add(lease);
      return lease;
    }
    const key = this.key(spec);
    let entry = this.#entries.get(key);
    if (entry === undefined || entry.closed || entry.failed) {
      entry = new Entry(key, this.#open(spec));
      this.#entries.set(key, entry);
    }
    if (entry.idleTimer) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = undefined;
    }
    const lease = new Lease(this, entry);
    entry.leases.add(lease);
    return lease;
  }

  /** Shared probers open now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Leases held now on the shared prober for `spec` (0 when none is open). */
  leases(spec: ProberSpec): number {
    return this.#entries.get(this.key(spec))?.leases.size ?? 0;
  }

  /**
   * Keep probers open while no lease holds them, until the returned function is called (discoverMany
   * holds the pool so that targets finishing one after another reuse the same sockets).
   */
  keepAlive(): () => void {
    this.#keepAlive++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#keepAlive === 0) for (const e of [...this.#entries.values()]) if (e.leases.size === 0) this.#idle(e);
    };
  }

  /** Close every prober now (leases still held see their prober closed). */
  closeAll(): void {
    for (const e of [...this.#entries.values()]) this.#close(e);
  }

  /** @internal */
  _release(entry: Entry, lease: Lease): void {
    entry.leases.delete(lease);
    if (entry.leases.size > 0) return;
    if (entry.key === null) return this.#close(entry);
    if (this.#keepAlive === 0) this.#idle(entry);
  }

  #idle(entry: Entry): void {
    if (this.#idleMs <= 0) return this.#close(entry);
    entry.idleTimer ??= setTimeout(() => this.#close(entry), this.#idleMs).unref();
  }

  #close(entry: Entry): void {
    if (entry.closed) return;
    entry.closed = true;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    // A failed entry may already have been replaced by a fresh one under its key: leave that one.
    if (entry.key !== null && this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    entry.routes.clear();
    entry.prober.close();
  }
}
