// Running `pathmtu doctor` the way a user does: the built CLI, inside a lab node's namespace, as
// root or as nobody. For nobody, `root` is the shared staged copy (test/unprivileged.ts: the files
// an install has, in a directory every user can read), because the checkout itself may be private
// (0700 home directories, CI workspaces).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/lab.js';
import type { DoctorCheck, DoctorResult } from '../../src/doctor/index.js';

export { NOBODY, stagedRoot } from '../unprivileged.js';
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `pathmtu doctor ...args` in the client's namespace. */
export async function doctorCli(lab: Lab, args: string[], opts: { uid?: number; gid?: number; root?: string } = {}): Promise<CliRun> {
  const root = opts.root ?? ROOT;
  return lab.exec('client', [process.execPath, join(root, 'bin/pathmtu.js'), 'doctor', ...args], {
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    cwd: root,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', NO_COLOR: '1' },
    timeoutMs: 20_000,
  });
}

/** The JSON answer of `doctor --json`, its exit code checked against the problems it lists. */
export async function doctorJson(lab: Lab, args: string[] = [], opts: { uid?: number; root?: string } = {}): Promise<DoctorResult> {
  const r = await doctorCli(lab, [...args, '--json'], opts);
  let j: DoctorResult;
  try {
    j = JSON.parse(r.stdout) as DoctorResult;
  } catch {
    assert.fail(`doctor --json printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  assert.equal(r.code, j.problems > 0 ? 1 : 0, `exit ${r.code} with ${j.problems} problems: ${r.stderr}`);
  return j;
}

export function check(r: DoctorResult, id: DoctorCheck['id']): DoctorCheck {
  const c = r.checks.find((x) => x.id === id);
  assert.ok(c, `no ${id} check in ${r.checks.map((x) => x.id).join(', ')}`);
  return c;
}

/** Run a printed fix in the client's namespace, as root (a printed `sudo ` is dropped). */
export async function applyFix(lab: Lab, fix: string): Promise<void> {
  const cmd = fix.replace(/^sudo /, '');
  const r = await lab.exec('client', ['sh', '-c', cmd]);
  assert.equal(r.code, 0, `the fix '${cmd}' failed: ${r.stderr}`);
}
