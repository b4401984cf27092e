// The wire fuzzer, run long: the same inputs as test/wire/fuzz.test.ts (random bytes, valid
// encodings of every kind damaged, hostile offsets) for SECONDS, reporting executions per second
// per decoder and every way a decoder broke the rule (anything thrown but a DecodeError), grouped,
// with the first input that did it. Run alone: node --import tsx bench/fuzz.ts [seconds]
// (bench/run.ts calls runFuzzBench(): `npm run bench -- --only fuzz`).
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { DecodeError } from '../src/errors.js';
import { input, targets, type Input } from '../test/wire/fuzz-targets.js';
import { table } from './lib/table.js';

export async function runFuzzBench(seconds = 30): Promise<string> {
  const names = Object.keys(targets);
  const calls = new Map(names.map((n) => [n, 0]));
  const nanos = new Map(names.map((n) => [n, 0n]));
  const decoded = new Map(names.map((n) => [n, 0]));
  /** name + error kind -> count and the first input. */
  const found = new Map<string, { count: number; example: string }>();
  let inputs = 0;
  const started = process.hrtime.bigint();
  const run = (x: Input): void => {
    inputs++;
    const end = x.end === -2 ? x.bytes.length : x.end;
    for (const name of names) {
      const t0 = process.hrtime.bigint();
      try {
        targets[name]!(x.bytes, x.offset, end);
        decoded.set(name, decoded.get(name)! + 1);
      } catch (e) {
        if (!(e instanceof DecodeError)) {
          const err = e as Error;
          const key = `${name}: ${err?.name}: ${String(err?.message).replace(/\d+/g, 'N')}`;
          const f = found.get(key);
          if (f) f.count++;
          else found.set(key, { count: 1, example: `${x.bytes.toString('hex') || '<empty>'} offset ${x.offset} end ${end}` });
        }
      }
      nanos.set(name, nanos.get(name)! + (process.hrtime.bigint() - t0));
      calls.set(name, calls.get(name)! + 1);
    }
  };
  // fast-check generates and shrinks nothing here (the property never fails): it only feeds inputs.
  fc.check(
    fc.property(input, (x) => {
      run(x);
    }),
    { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
  );
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  const rows = names.map((n) => {
    const c = calls.get(n)!;
    const s = Number(nanos.get(n)!) / 1e9;
    return [n, String(c), `${Math.round(c / s).toLocaleString('en-US')}`, `${((decoded.get(n)! / c) * 100).toFixed(1)}%`];
  });
  const out = [
    `${inputs.toLocaleString('en-US')} inputs in ${wall.toFixed(1)} s, ${total.toLocaleString('en-US')} decoder calls: ` +
      `${Math.round(inputs / wall).toLocaleString('en-US')} inputs/s, ${Math.round(total / wall).toLocaleString('en-US')} calls/s (input generation included)`,
    '',
    table(['decoder', 'calls', 'calls/s (decoder alone)', 'decoded (rest: DecodeError)'], rows),
    '',
  ];
  if (found.size === 0) out.push('found: nothing — every decoder decoded or threw DecodeError');
  else {
    out.push(`found: ${found.size} distinct ways a decoder broke the rule (anything thrown but a DecodeError)`);
    for (const [k, v] of found) out.push(`  ${k} (${v.count}×), first on ${v.example}`);
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await runFuzzBench(Number(process.argv[2] ?? 30)));
}
