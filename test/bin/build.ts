// Tests that run the real binary run what ships: bin/pathmtu.js and the bundle dist/bin/pathmtu.cjs.
// `npm test` builds both first; a single test file run on its own rebuilds them here when any
// source is newer than the bundle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'pathmtu.js');
export const BUNDLE = join(ROOT, 'dist', 'bin', 'pathmtu.cjs');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function ensureBundle(): void {
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= newest(join(ROOT, 'src'))) return;
  // Other areas may have type errors mid-work; tsc still emits, so bundle whatever it wrote.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `scripts/bundle.mjs failed: ${r.stderr}`);
}
