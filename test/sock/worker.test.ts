// Terminating worker threads that hold open, polled sockets of every kind (udp, icmp raw,
// icmp-dgram, raw tcp, for IPv4 and IPv6, and a packet capture) must not crash the process: the
// binding's environment cleanup hook closes its poll handles and holds the worker's teardown until
// libuv has called back. Without it the process dies in uv__finish_close, inside an addon Node has
// already unloaded (measured: SIGSEGV in 5 of 5 runs of the 'after' case below).
//
// Each case is a child process (worker-child.mjs: 30 workers, terminated at once, mid-traffic or at
// a random moment), so a crash is this test failing with the signal named. The child runs in a
// network namespace of its own (lo only, ping_group_range open), so the ping sockets open too and
// all traffic stays on its loopback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deleteNetns, ipBatch, netnsName, spawnIn, writeSysctls } from '../../src/lab/netns.js';
import { labSkipReason } from '../../src/lab/testing.js';

const child = fileURLToPath(new URL('./worker-child.mjs', import.meta.url));
const KINDS = ['udp/4', 'icmp-raw/4', 'icmp-dgram/4', 'tcp-raw/4', 'udp/6', 'icmp-raw/6', 'icmp-dgram/6', 'tcp-raw/6', 'packet'];
const ROUNDS = 30;

interface ChildReport {
  rounds: number;
  parentSocket: string;
  modes: Record<string, number>;
  open: string[];
  failed: string[];
  flowing: number;
  parentOk: boolean;
}

async function runChild(ns: string, parentSocket: 'during' | 'after'): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const p = spawnIn(ns, [process.execPath, child, String(ROUNDS), parentSocket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => p.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

const skip = labSkipReason();
test('worker threads terminated with sockets of every kind open and polled do not crash the process', { skip, timeout: 180_000 }, async () => {
  const ns = netnsName(process.pid, `wk${Date.now() % 100000}`, 'host');
  await ipBatch([`netns add ${ns}`]);
  try {
    await ipBatch(['link set lo up'], { netns: ns });
    writeSysctls(ns, [['net.ipv4.ping_group_range', '0 2147483647']]);
    for (const parentSocket of ['after', 'during'] as const) {
      const r = await runChild(ns, parentSocket);
      const why = r.stderr.trim().split('\n').slice(0, 5).join(' | ');
      assert.ok(r.signal === null, `parent socket ${parentSocket}: the process died of ${r.signal} while workers were terminated (${why})`);
      assert.equal(r.code, 0, `parent socket ${parentSocket}: exit ${r.code}: ${why}`);
      const report = JSON.parse(r.stdout.trim()) as ChildReport;
      assert.deepEqual(report.failed, [], 'every kind of socket opened in the workers');
      assert.deepEqual([...report.open].sort(), [...KINDS].sort(), 'the workers held one socket of each kind');
      assert.equal(report.rounds, ROUNDS);
      assert.equal(report.flowing, report.modes.traffic, 'every mid-traffic round had traffic reaching all its sockets');
      assert.ok(report.modes.traffic! >= 10 && report.modes.open! >= 10 && report.modes.random! >= 10, JSON.stringify(report.modes));
      assert.ok(report.parentOk, `parent socket ${parentSocket}: the process's own socket still delivers`);
    }
  } finally {
    await deleteNetns([ns]);
  }
});
