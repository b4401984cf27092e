// What every lab shape shares: a set of named network namespaces (pmtu-<pid>-<labId>-<node>) owned
// by this process, processes run inside them, this thread entering one, and teardown — by
// destroy(), on exit and on SIGINT/SIGTERM/SIGHUP. After a SIGKILL nothing runs here: the next
// sweepStale() removes the namespaces of dead owners. Lab (a path) and Hub (many targets) extend it.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { LabError } from '../errors.js';
import { collect, deleteNetns, deleteNetnsSync, enteredNetns, enterNetns, leaveNetns, netnsName, spawnIn, type RunResult } from './netns.js';

export interface ExecOptions {
  /** Written to the child's stdin (which is then closed). */
  input?: string | Buffer;
  /** Kill the child (SIGKILL) after this many ms; default 30 s. */
  timeoutMs?: number;
  /** Run as this user / group (e.g. 65534 for nobody) to test unprivileged paths. */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

// Groups alive in this process, torn down on exit and on SIGINT/SIGTERM/SIGHUP (best effort:
// nothing runs after SIGKILL — the next sweepStale() cleans up after that).
const live = new Set<NamespaceGroup>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const g of live) g.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const g of live) g.destroySync();
      // If nobody else handles the signal, die of it as if we had never listened.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

export abstract class NamespaceGroup {
  readonly id: string;
  /** The nodes, one namespace each. */
  readonly nodes: string[];
  private readonly children = new Set<ChildProcess>();
  private destroying: Promise<void> | undefined;
  private dead = false;

  protected constructor(id: string, nodes: string[]) {
    this.id = id;
    this.nodes = nodes;
  }

  /** Start tearing this group down with the process (call before creating its namespaces). */
  protected track(): void {
    installExitHooks();
    live.add(this);
  }

  /** Name of a node's network namespace (pmtu-<pid>-<id>-<node>). */
  nsName(node: string): string {
    if (!this.nodes.includes(node)) throw new LabError(`no node ${node} in this lab (nodes: ${this.nodes.join(', ')})`);
    return netnsName(process.pid, this.id, node);
  }

  /** Start a process inside a node's namespace (tracked: killed by destroy()). */
  spawn(node: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    this.alive();
    const child = spawnIn(this.nsName(node), argv, opts);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Run a command inside a node's namespace and collect its output; never throws on exit code. */
  async exec(node: string, argv: string[], opts: ExecOptions = {}): Promise<RunResult> {
    const { input, timeoutMs = 30_000, ...rest } = opts;
    const child = this.spawn(node, argv, { ...rest, stdio: ['pipe', 'pipe', 'pipe'] });
    return collect(child, input, timeoutMs);
  }

  /**
   * Move this process's JS thread into a node's namespace: sockets opened afterwards live there.
   * leave() returns; destroy() leaves too. The native binding's socket() creates its fd at once;
   * Node's dgram/net create theirs only at bind/connect, after an async lookup — stay entered
   * until 'listening'/'connect' (and check the local address) or the socket lands in the root
   * namespace. Everything else this process does meanwhile also runs in the node's namespace.
   */
  enter(node: string): void {
    this.alive();
    enterNetns(this.nsName(node));
  }

  leave(): void {
    leaveNetns();
  }

  protected alive(): void {
    if (this.dead) throw new LabError('this lab has been destroyed');
  }

  private release(): string[] {
    this.dead = true;
    live.delete(this);
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    const names = this.nodes.map((n) => this.nsName(n));
    const here = enteredNetns();
    if (here !== undefined && names.includes(here)) leaveNetns();
    return names;
  }

  /** Tear everything down. Idempotent; safe to call from finally. */
  destroy(): Promise<void> {
    this.destroying ??= deleteNetns(this.release());
    return this.destroying;
  }

  /** Synchronous teardown for exit handlers. */
  destroySync(): void {
    if (this.destroying) return;
    this.destroying = Promise.resolve();
    deleteNetnsSync(this.release());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
