// Every entry point of the native binding, called with hostile arguments (wrong types, fractions,
// NaN, numbers that wrap to small fds, control messages with non-number levels, getters that
// throw): each must throw an error (TypeError for a bad argument), never abort or crash the
// process, and never act on a wrapped fd. Each call runs in its own child so an abort shows up as
// this test failing with the call's name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { errnoName, SystemCallError } from '../../src/errors.js';
import { native } from '../../src/sock/binding.js';

const child = fileURLToPath(new URL('./binding-args-child.mjs', import.meta.url));

function run(args: string[]): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [child, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('binding entry points refuse hostile arguments with a thrown TypeError, never an abort', () => {
  const count = Number(run([]).stdout.trim());
  assert.ok(count >= 40, `the child lists its cases (${count})`);
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = run([String(i)]);
    if (r.status !== 0) {
      failures.push(`case ${i}: child died (status ${r.status}, signal ${r.signal}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      continue;
    }
    const out = JSON.parse(r.stdout.trim()) as { case: string; threw: string | null; message?: string; value?: string; fdAlive: boolean };
    // A getter of the caller's that throws may surface as its own error; anything else is a TypeError.
    const expected = out.case.includes('throwing getter') ? ['TypeError', 'Error'] : ['TypeError'];
    if (out.threw === null || !expected.includes(out.threw)) failures.push(`${out.case}: ${out.threw === null ? `returned ${out.value}` : `threw ${out.threw}: ${out.message}`}`);
    if (!out.fdAlive) failures.push(`${out.case}: closed or broke the caller's socket`);
  }
  assert.deepEqual(failures, []);
});

test('errno names Node lacks come from the headers: EHOSTDOWN and ENONET are named, not E112', () => {
  const b = native();
  for (const name of ['EHOSTDOWN', 'ENONET']) {
    const errno = b.constants[name]!;
    assert.equal(errnoName(errno), name);
    assert.equal(new SystemCallError('recvmsg', errno).code, name);
  }
});
