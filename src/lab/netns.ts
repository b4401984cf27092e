// Named network namespaces (the /run/netns files `ip netns` uses) and the few ways we act inside
// them. Naming: pmtu-<pid>-<labId>-<node>, so a sweep can tell a dead process's leftovers from a
// live neighbour's lab.
//
// Speed: instead of `ip netns exec` (fork + exec + remount /sys per command) we move this
// process's JS thread into the namespace with setns(2), write /proc/sys directly or fork a child
// (which inherits the thread's namespace), and move back — all synchronously, so no other JS runs
// while the thread is away. setns(CLONE_NEWNET) is allowed in multi-threaded processes and only
// affects the calling thread; libuv's workers stay where they are.
import { closeSync, existsSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { c, check, native } from '../sock/binding.js';
import { LabError } from '../errors.js';

const osSignals = osConstants.signals as Record<string, number>;

export const NETNS_DIR = '/run/netns';
export const PREFIX = 'pmtu-';

export function netnsName(pid: number, labId: string, node: string): string {
  return `${PREFIX}${pid}-${labId}-${node}`;
}

/** The pid a lab namespace was named for, or undefined if the name is not ours. */
export function ownerPid(name: string): number | undefined {
  const m = /^pmtu-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

let newNet: number | undefined;
function CLONE_NEWNET(): number {
  newNet ??= c('CLONE_NEWNET');
  return newNet;
}

function setnsFd(fd: number, what: string): void {
  check(`setns(${what})`, native().setns(fd, CLONE_NEWNET()));
}

/**
 * Run `fn` with this thread inside namespace `name`, then return to whatever namespace the thread
 * was in before (which may itself be a lab namespace entered by the caller).
 */
export function inNetns<T>(name: string, fn: () => T): T {
  const here = openSync('/proc/thread-self/ns/net', 'r');
  let there: number | undefined;
  try {
    there = openSync(`${NETNS_DIR}/${name}`, 'r');
    setnsFd(there, name);
    try {
      return fn();
    } finally {
      setnsFd(here, 'back');
    }
  } finally {
    if (there !== undefined) closeSync(there);
    closeSync(here);
  }
}

/** Write sysctls (dotted keys) in namespace `name`, through /proc/sys of the current thread. */
export function writeSysctls(name: string, values: Array<[string, string | number]>): void {
  if (values.length === 0) return;
  inNetns(name, () => {
    for (const [key, value] of values) {
      const path = `/proc/sys/${key.replaceAll('.', '/')}`;
      try {
        writeFileSync(path, `${value}\n`);
      } catch (e) {
        throw new LabError(`sysctl ${key}=${value} in ${name} failed: ${(e as Error).message}`, { cause: e });
      }
    }
  });
}

/** Fork a child inside namespace `name` (it inherits the thread's namespace at fork time). */
export function spawnIn(name: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  if (argv.length === 0) throw new LabError('empty command');
  return inNetns(name, () => spawn(argv[0], argv.slice(1), opts));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Wait for a child, collecting its output. `code` is 128 + signal number when it was killed. */
export function collect(child: ChildProcess, input?: string | Buffer, timeoutMs?: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new LabError(`cannot run ${child.spawnfile}: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const signo = signal ? (osSignals[signal] ?? 0) : 0;
      resolve({ code: code ?? 128 + signo, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the child exits early; its exit code tells.
      child.stdin.end(input ?? '');
    }
  });
}

/**
 * Run `ip [-n ns] -batch -` with the given lines. `force` keeps going past failed lines (used for
 * teardown, where "already gone" is fine).
 */
export async function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await collect(spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] }), lines.join('\n') + '\n');
  if (r.code !== 0 && !opts.force) {
    throw new LabError(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}\n  in: ${lines.join(' | ')}`);
  }
}

/** Synchronous teardown, for process exit handlers where nothing async runs any more. */
export function deleteNetnsSync(names: string[]): void {
  if (names.length === 0) return;
  spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}`).join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
}

export async function deleteNetns(names: string[]): Promise<void> {
  await ipBatch(
    names.map((n) => `netns del ${n}`),
    { force: true },
  );
}

/**
 * Delete lab namespaces left by processes that no longer exist (a crash, a SIGKILL). Labs of live
 * processes — a concurrent test run — are left alone. Returns how many were deleted.
 */
export async function sweepStale(): Promise<number> {
  const stale = listNetns().filter((n) => {
    const pid = ownerPid(n);
    return pid !== undefined && pid !== process.pid && !pidAlive(pid);
  });
  await deleteNetns(stale);
  return stale.filter((n) => !existsSync(`${NETNS_DIR}/${n}`)).length;
}

// ---- entering a namespace for good (Lab.enter / Lab.leave) ----

let homeFd: number | undefined;
let entered: string | undefined;

/**
 * Move this thread into namespace `name` until leaveNetns(). Sockets opened meanwhile live there.
 * The original namespace is remembered (an fd opened before the first enter) so leave can return.
 */
export function enterNetns(name: string): void {
  homeFd ??= openSync('/proc/thread-self/ns/net', 'r');
  const fd = openSync(`${NETNS_DIR}/${name}`, 'r');
  try {
    setnsFd(fd, name);
    entered = name;
  } finally {
    closeSync(fd);
  }
}

export function leaveNetns(): void {
  if (homeFd === undefined || entered === undefined) return;
  setnsFd(homeFd, 'home');
  entered = undefined;
}

/** The lab namespace this thread currently sits in through enterNetns, if any. */
export function enteredNetns(): string | undefined {
  return entered;
}
