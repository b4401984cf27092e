// Start-up: the whole `pathmtu` process against Node's own floor, `node -e 0`. Every command runs
// `runs` times, interleaved (one of each per round, so a busy moment of the machine hits all rows
// alike), stdout to /dev/null as hyperfine does; the table gives medians, the fastest run, and the
// median's ratio to the floor beside the target from issue 11. Nothing is asserted: a failing run
// (exit status not 0) is reported in its row instead of a time.
//
// On a busy machine wall time mostly measures the scheduler, so the CPU time each process used is
// shown too: the kernel adds a reaped child's user+system time to our cutime/cstime in
// /proc/self/stat, in ticks of 10 ms (USER_HZ), so it is a mean over the runs, not a median.
//
// Reference rows show what the bundle (scripts/bundle.mjs) buys: the same CLI run from the
// unbundled ESM files in dist/, as bin/pathmtu.js did before.
// Run alone: npm run build && node --import tsx bench/startup.ts [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib/stats.js';
import { table } from './lib/table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'pathmtu.js');

interface Row {
  label: string;
  argv: string[];
  /** Target ratio of the median to `node -e 0` (issue 11), if there is one. */
  target?: number;
  reference?: boolean;
}

/** An ESM entry that runs dist/cli/main.js unbundled, as bin/pathmtu.js did before the bundle. */
function unbundledEntry(): string {
  const dir = join(ROOT, '.bench-tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pathmtu-unbundled.mjs');
  const main = pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href;
  writeFileSync(
    file,
    `import { main } from ${JSON.stringify(main)};\n` +
      `process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: new AbortController().signal });\n`,
  );
  return file;
}

function rows(): Row[] {
  const old = unbundledEntry();
  return [
    { label: 'node -e 0 (the floor)', argv: ['-e', '0'] },
    { label: 'pathmtu --version', argv: [BIN, '--version'] },
    { label: 'pathmtu explain 1400', argv: [BIN, 'explain', '1400'], target: 1.15 },
    { label: 'pathmtu 127.0.0.1', argv: [BIN, '127.0.0.1'], target: 1.3 },
    { label: 'unbundled: explain 1400', argv: [old, 'explain', '1400'], reference: true },
    { label: 'unbundled: 127.0.0.1', argv: [old, '127.0.0.1'], reference: true },
  ];
}

interface Timing {
  ms: number[];
  /** CPU time (user + system) of the measured runs together, ms. */
  cpuMs: number;
  failure?: string;
}

const USER_HZ = 100;

/** User + system CPU time of this process's reaped children so far, ms (10 ms resolution). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3, state
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ; // cutime, cstime
}

function once(argv: string[]): { ms: number; cpuMs: number; failure?: string } {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = childrenCpuMs() - cpu0;
  if (r.status === 0) return { ms, cpuMs };
  const why = r.error?.message ?? `exit ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
  return { ms, cpuMs, failure: why };
}

/** Runs every row `runs` times, interleaved, after one unmeasured warm-up round. */
export function measureStartup(runs: number): { rows: Row[]; timings: Timing[] } {
  const list = rows();
  const timings: Timing[] = list.map(() => ({ ms: [], cpuMs: 0 }));
  for (let round = -1; round < runs; round++) {
    list.forEach((row, i) => {
      if (timings[i].failure) return;
      const r = once(row.argv);
      if (r.failure) timings[i].failure = r.failure;
      else if (round >= 0) {
        timings[i].ms.push(r.ms);
        timings[i].cpuMs += r.cpuMs;
      }
    });
  }
  return { rows: list, timings };
}

export function renderStartup(res: { rows: Row[]; timings: Timing[] }): string {
  const floor = median(res.timings[0].ms);
  const cpu = (t: Timing): number => t.cpuMs / t.ms.length;
  const floorCpu = cpu(res.timings[0]);
  const body = res.rows.map((row, i) => {
    const t = res.timings[i];
    if (t.failure) return [row.label, `failed: ${t.failure}`, '', '', '', '', ''];
    const m = median(t.ms);
    const ratio = m / floor;
    const target = row.target === undefined ? '' : `<= ${row.target.toFixed(2)}x ${ratio <= row.target ? 'met' : 'not met'}`;
    return [
      row.label,
      `${m.toFixed(1)} ms`,
      `${Math.min(...t.ms).toFixed(1)} ms`,
      `${ratio.toFixed(2)}x`,
      target,
      `${cpu(t).toFixed(0)} ms`,
      `${(cpu(t) / floorCpu).toFixed(2)}x`,
    ];
  });
  const runs = res.timings[0].ms.length;
  return [
    table(['command (whole process)', 'median', 'fastest', 'x node -e 0', 'target (issue 11)', 'CPU (mean)', 'CPU x node -e 0'], body),
    '',
    `${runs} runs of each, interleaved; stdout to /dev/null; Node ${process.version}. The target is on the median wall time.`,
    'pathmtu = node bin/pathmtu.js (the bundle dist/bin/pathmtu.cjs); unbundled = the ESM files in dist/, for reference.',
  ].join('\n');
}

export function runStartupBench(runs: number): string {
  return renderStartup(measureStartup(runs));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.argv[2] ?? 30);
  console.log(runStartupBench(Number.isInteger(runs) && runs > 0 ? runs : 30));
}
