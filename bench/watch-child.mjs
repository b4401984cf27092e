// One process running only the Watcher, for bench/watch.ts: the targets on stdin (one per line),
// in the namespace it was started in, the timers from argv. Loads the compiled package (npm run
// bench builds it; argv[4] may name another dist, to compare builds). Reports on stdout, one JSON
// line each: {"initial": n} as every PMTU becomes known, then on SIGTERM (or stdin 'report' lines
// are not needed: the parent signals) a final line with the peak RSS (VmHWM), the RSS now, the JS
// heap in use, probes sent and the events seen.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [intervalS, raiseS, dist] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? '../dist/index.js'];
const { Watcher } = await import(new URL(dist, import.meta.url).href);
const lines = createInterface({ input: process.stdin });
const targets = [];
for await (const l of lines) if (l.trim() !== '') targets.push(l.trim());

const status = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  return { hwmMb: kb('VmHWM'), rssMb: kb('VmRSS') };
};
const baseline = status();
const w = new Watcher(targets, { intervalS, raiseS });
let errors = 0;
w.on('error', () => errors++);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
w.on('change', (e) => out({ at: performance.now(), target: e.target, reason: e.reason, pmtu: e.pmtu, previous: e.previous }));
const report = async () => {
  const s = status();
  const m = process.memoryUsage();
  out({ final: true, ...s, baselineMb: baseline.rssMb, heapUsedMb: m.heapUsed / 1e6, heapTotalMb: m.heapTotal / 1e6, externalMb: m.external / 1e6, probesSent: w.probesSent, errors, now: performance.now() });
};
process.on('SIGUSR2', () => void report());
// A heap snapshot on demand, to see what the memory is (WATCH_HEAP_SNAPSHOT names the file).
if (process.env.WATCH_HEAP_SNAPSHOT) process.on('SIGUSR1', async () => (await import('node:v8')).writeHeapSnapshot(process.env.WATCH_HEAP_SNAPSHOT));
process.on('SIGTERM', async () => {
  await report();
  await w.stop();
  process.exit(0);
});
out({ started: performance.now() });
await w.start();
