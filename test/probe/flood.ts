// Floods of forged ICMP errors for the flood tests (test/probe/flood.test.ts, test/engine/hub.test.ts):
// flooder processes (flood-child.mjs) in a lab router's namespace spoof errors from `from` to `to`
// that quote echo requests with random ids. Sending is CPU-bound (the receiver's softirq runs in the
// sender's sendmsg), so the rate is split over one process per core.
import assert from 'node:assert/strict';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Family } from '../../src/wire/facts.js';

const flooder = fileURLToPath(new URL('./flood-child.mjs', import.meta.url));

export interface FloodStats {
  sent: number;
  failed: number;
  seconds: number;
  pps: number;
}

export interface Flood {
  stop(): Promise<FloodStats>;
}

/** Spawns a command in the router's namespace (Lab.spawn / Hub.spawn bound to that router). */
export type SpawnInRouter = (argv: string[], opts: SpawnOptions) => ChildProcess;

const FLOODERS = 2;

async function startOne(spawn: SpawnInRouter, family: Family, from: string, to: string, pps: number, seconds: number): Promise<Flood> {
  const child = spawn([process.execPath, flooder, String(family), from, to, String(pps), String(seconds), String(pps * seconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 500 && !out.includes('ready'); i++) {
    if (child.exitCode !== null) throw new Error(`flooder exited: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(out.includes('ready'), `flooder started: ${err}`);
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      const last = out.trim().split('\n').pop()!;
      assert.ok(last.startsWith('{'), `flooder summary: ${out} ${err}`);
      return JSON.parse(last) as FloodStats;
    },
  };
}

/** Start `pps` forged errors per second for `seconds`, let them build up, and return the handle. */
export async function startFlood(spawn: SpawnInRouter, family: Family, from: string, to: string, pps: number, seconds: number): Promise<Flood> {
  const all = await Promise.all(Array.from({ length: FLOODERS }, () => startOne(spawn, family, from, to, pps / FLOODERS, seconds)));
  // Let the flood build up before the run starts.
  await new Promise((r) => setTimeout(r, 300));
  return {
    async stop() {
      const stats = await Promise.all(all.map((f) => f.stop()));
      const sent = stats.reduce((a, s) => a + s.sent, 0);
      const secs = Math.max(...stats.map((s) => s.seconds));
      return { sent, failed: stats.reduce((a, s) => a + s.failed, 0), seconds: secs, pps: Math.round(sent / secs) };
    },
  };
}
