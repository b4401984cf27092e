// The staged copy that tests run as nobody (test/unprivileged.ts): it must work when the checkout
// itself is out of nobody's reach (a clone in root's home or in `mktemp -d`), and must not outlive
// the test process. The checkout is put out of reach here for real: a private mount namespace puts
// an empty 0700 tmpfs over it before the child becomes nobody (a clone in a 0700 directory, as seen
// by nobody), so a staged file that still points into the checkout fails the test wherever it runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labSkipReason } from '../src/lab/testing.js';
import { NOBODY, stagedRoot, stagedScript } from './unprivileged.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const helper = new URL('./unprivileged.ts', import.meta.url).href;
// Needs root to switch users and mount (as the lab does): skipped with the reason only outside CI.
const skip = labSkipReason();

/** Run a snippet (with the helper imported as `h`) in a fresh tsx process as root. */
function inProcess(body: string): { out: string; err: string; code: number | null } {
  const code = `import * as h from ${JSON.stringify(helper)};\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: repo });
  return { out: r.stdout.trim(), err: r.stderr, code: r.status };
}

/** argv as nobody, in a mount namespace where the checkout is an empty 0700 directory. */
function asNobodyWithoutCheckout(cwd: string, argv: string[]): { stdout: string; stderr: string; status: number | null } {
  const script = 'mount -t tmpfs -o size=1m,mode=0700 pathmtu-hidden "$0" && exec setpriv --reuid=$1 --regid=$1 --clear-groups "${@:2}"';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script, repo, String(NOBODY), ...argv], { encoding: 'utf8', cwd });
  if (r.error) throw r.error;
  return r;
}

test('nobody runs the staged CLI and a staged child script with the checkout hidden', { skip }, () => {
  const root = stagedRoot();
  assert.equal(statSync(root).mode & 0o777, 0o755);
  const ls = asNobodyWithoutCheckout(root, ['ls', '-A', repo]);
  assert.notEqual(ls.status, 0, 'the checkout must be out of reach for this test to mean anything');
  assert.match(ls.stderr, /Permission denied/);

  const cli = asNobodyWithoutCheckout(root, [process.execPath, 'bin/pathmtu.js', 'explain', '1400', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).mtu, 1400, cli.stdout);

  // The binding loads, and the child learns what nobody may open (it sends nothing: no sizes given).
  const script = stagedScript(new URL('./probe/unprivileged-child.ts', import.meta.url));
  const child = asNobodyWithoutCheckout(root, [process.execPath, script, '4', '127.0.0.1']);
  assert.equal(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout);
  assert.deepEqual([report.uid, report.gid], [NOBODY, NOBODY]);
  assert.ok(report.available.includes('udp'), JSON.stringify(report));
  assert.equal(report.icmp.name, 'PermissionError', JSON.stringify(report.icmp));
});

test('the staged copy is removed when its process exits; one left by a killed process is swept', { skip }, () => {
  // A copy from a process that is gone (killed before its exit handler ran).
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const stale = join(tmpdir(), `pathmtu-nobody-${Number(dead.stdout)}-test`);
  mkdirSync(join(stale, 'dist'), { recursive: true });

  const r = inProcess('console.log(h.stagedRoot());');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /pathmtu-nobody-\d+-/);
  assert.equal(existsSync(r.out), false, `${r.out} is left behind`);
  assert.equal(existsSync(stale), false, `${stale} was not swept`);
});
