// Shared by the cache and inject tests: build dist/ for the binary when stale, run the binary in a
// lab node, and poll until the kernel has processed what we sent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, RunResult } from '../../src/lab/index.js';
import { ensureBundle } from '../bin/build.js';
import { pathmtuAsUser } from '../unprivileged.js';

export function ensureBuilt(): void {
  ensureBundle(); // the binary runs the bundle
  const outs = ['dist/cli/commands/cache.js', 'dist/cli/commands/inject.js'];
  const newest = Math.max(
    ...['src/cache', 'src/inject', 'src/wire', 'src/cli/commands'].flatMap((dir) => readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs)),
  );
  if (outs.every((o) => existsSync(o) && statSync(o).mtimeMs >= newest)) return;
  // Other areas may have type errors mid-work; tsc still emits, so check the output, not the status.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  for (const o of outs) assert.ok(existsSync(o), `build did not produce ${o}`);
}

/**
 * `node bin/pathmtu.js ...` inside a lab node (optionally as an unprivileged user, who runs a staged
 * copy: this checkout may be unreadable to them).
 */
export function cli(lab: Lab, node: string, args: string[], opts: { uid?: number; gid?: number } = {}): Promise<RunResult> {
  if (opts.uid !== undefined) return pathmtuAsUser(lab, node, args, opts);
  return lab.exec(node, [process.execPath, 'bin/pathmtu.js', ...args], { cwd: process.cwd(), timeoutMs: 20_000, ...opts });
}

/** `ip route get` in a node: the cached MTU it shows, or null. */
export async function ipRouteGet(lab: Lab, node: string, dst: string): Promise<{ mtu: number | null; expires: number | null; text: string }> {
  const r = await lab.exec(node, ['ip', ...(dst.includes(':') ? ['-6'] : []), 'route', 'get', dst]);
  assert.equal(r.code, 0, r.stderr);
  const mtu = /\bmtu (\d+)/.exec(r.stdout);
  const exp = /\bexpires (\d+)sec/.exec(r.stdout);
  return { mtu: mtu ? Number(mtu[1]) : null, expires: exp ? Number(exp[1]) : null, text: r.stdout };
}

/** Poll until pred() holds (returns its last value either way). */
export async function waitFor<T>(fn: () => Promise<T>, pred: (v: T) => boolean, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Run fn with this thread inside a lab node, always leaving. */
export async function inNode<T>(lab: Lab, node: string, fn: () => Promise<T> | T): Promise<T> {
  lab.enter(node);
  try {
    return await fn();
  } finally {
    lab.leave();
  }
}
