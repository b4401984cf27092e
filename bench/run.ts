// npm run bench [-- --quick] [-- --only peers|trace|search|codec|hard|fuzz|startup|hub|watch|serve] [-- --reps N] [-- --timeout S]
// Prints, in order: (1) discover, pathmtu vs peers on fresh lab paths, (2) trace rows, (3) the search
// on the simulated path (virtual time), (4) codec and checksum throughput, (5) discover on issue 9's
// harder paths (a filtered method, a silent one, a PTB then a black hole) beside tracepath and
// scamper, (6) the wire fuzzer run long (30 s, 5 s with --quick: executions per second and what it
// found), (7) start-up of the whole process against `node -e 0` (30 runs of each; --quick 10;
// --reps N: 10 x N), (8) issue 8's hub: build/teardown of 1,000 targets per family, today's
// sequential discover() baseline over them (100 calls per family with --quick), udp through its
// black holes, a loop of CLI processes; then whole processes on a fresh hub per run (bench/hub-cli.ts):
// pathmtu -f list, a loop of pathmtu <t>, scamper trace -M -f, nmap path-mtu -iL. Medians and ratios
// only: nothing here asserts a speed, it reports one (the targets from the issues are printed beside it).
// (9) watch on the hub: 1,000 targets per family watched at once: first known, steady probes/s per
// target, changes seen. (10) pathmtu serve beside blackbox_exporter on lab paths (what each tells,
// scrape time, probes per scrape) and, without --quick, 1,000 watched targets (500 per family) in one
// serve on the hub.
import { parseArgs } from 'node:util';
import { LabError } from '../src/errors.js';
import { runCodecBench } from './codec.js';
import { runFuzzBench } from './fuzz.js';
import { runHardBench } from './hard.js';
import { runHubBench } from './hub.js';
import { runServeBench } from './serve.js';
import { runWatchBench } from './watch.js';
import { measurePeers, renderPeers, renderTrace, writeJson } from './peers.js';
import { runStartupBench } from './startup.js';
import type { Role } from './lib/tools.js';

const PARTS = ['peers', 'trace', 'search', 'codec', 'hard', 'fuzz', 'startup', 'hub', 'watch', 'serve'] as const;
type Part = (typeof PARTS)[number];

function usage(message: string): never {
  console.error(`bench: ${message}\nusage: npm run bench -- [--quick] [--only ${PARTS.join('|')}] [--reps N] [--timeout S]`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    timeout: { type: 'string' },
  },
});
if (values.only !== undefined && !PARTS.includes(values.only as Part)) usage(`--only takes one of ${PARTS.join(', ')}`);
const reps = values.reps !== undefined ? Number(values.reps) : values.quick ? 1 : 3;
if (!Number.isInteger(reps) || reps < 1) usage('--reps takes a whole number >= 1');
const timeoutS = values.timeout !== undefined ? Number(values.timeout) : 120;
if (!(timeoutS > 0)) usage('--timeout takes seconds > 0');
const want = (p: Part): boolean => values.only === undefined || values.only === p;

const section = (title: string): void => console.log(`\n=== ${title} ===\n`);

const roles: Role[] = [...(want('peers') ? (['discover'] as const) : []), ...(want('trace') ? (['trace'] as const) : [])];
if (roles.length > 0) {
  try {
    const res = await measurePeers({ reps, roles, timeoutMs: timeoutS * 1000 });
    if (want('peers')) {
      section('1. discover: pathmtu vs tracepath, DF-ping search, nmap path-mtu, scamper trace -M');
      console.log(renderPeers(res));
    }
    if (want('trace')) {
      section('2. trace: pathmtu trace vs tracepath vs scamper trace -M');
      console.log(renderTrace(res));
    }
    console.log(`\nresults as JSON: ${writeJson(res)}`);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    section('1-2. peers and trace');
    console.log(`skipped: ${e.message}`);
  }
}

if (want('search')) {
  section('3. search on the simulated path (virtual time)');
  // bench/search.ts belongs to the search work; load it by name so this file runs before it exists.
  const file = './search.js';
  let mod: { runSearchBench?: () => Promise<string> } | undefined;
  try {
    mod = (await import(file)) as { runSearchBench?: () => Promise<string> };
  } catch (e) {
    console.log(`skipped: bench/search.ts could not be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  if (mod?.runSearchBench) console.log(await mod.runSearchBench());
  else if (mod) console.log('skipped: bench/search.ts has no runSearchBench()');
}

if (want('codec')) {
  section('4. codecs and checksum');
  console.log(await runCodecBench());
}

if (want('hard')) {
  try {
    const out = await runHardBench({ reps, timeoutMs: timeoutS * 1000 });
    section('5. discover on harder paths (issue 9): pathmtu vs tracepath, scamper');
    console.log(out);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    section('5. discover on harder paths (issue 9)');
    console.log(`skipped: ${e.message}`);
  }
}

if (want('fuzz')) {
  section('6. wire fuzzer: every decoder, random and damaged encodings, hostile offsets');
  console.log(await runFuzzBench(values.quick ? 5 : 30));
}

if (want('startup')) {
  section('7. start-up: the whole process against node -e 0');
  const runs = values.reps !== undefined ? reps * 10 : values.quick ? 10 : 30;
  console.log(runStartupBench(runs));
}

if (want('hub')) {
  try {
    const out = await runHubBench(
      values.quick
        ? { calls: 100, cliRuns: 20, udpHoles: 5, reps: 1, cli: { reps: 1, loopSample: 20, timeoutMs: 120_000 } }
        : { reps, cli: { reps } },
    );
    section('8. hub of many targets (issue 8): discoverMany, lab build/teardown, sequential discover() baseline, pathmtu -f vs peers');
    console.log(out);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    section('8. hub of many targets (issue 8)');
    console.log(`skipped: ${e.message}`);
  }
}

if (want('watch')) {
  try {
    const out = await runWatchBench(values.quick ? { targets: 200, changes: 20 } : {});
    section('9. watch: the hub targets watched at once (issue 10)');
    console.log(out);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    section('9. watch (issue 10)');
    console.log(`skipped: ${e.message}`);
  }
}

if (want('serve')) {
  try {
    const out = await runServeBench({ reps: values.quick ? 3 : 5, hub: !values.quick });
    section('10. pathmtu serve vs blackbox_exporter (issue 10); 1,000 watched targets');
    console.log(out);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    section('10. pathmtu serve vs blackbox_exporter (issue 10)');
    console.log(`skipped: ${e.message}`);
  }
}
