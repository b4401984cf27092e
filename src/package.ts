// Where this package lives and what it says about itself, found from the running module's own
// location: the same answer from src/ (tsx), dist/ (tsc output) or a bundle at any depth.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PathMtuError } from './errors.js';

interface Manifest {
  name?: unknown;
  version?: unknown;
}

let found: { root: string; manifest: Manifest } | null | undefined;

function locate(): { root: string; manifest: Manifest } | null {
  if (found !== undefined) return found;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    let manifest: Manifest | undefined;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (manifest?.name === 'pathmtu') return (found = { root: dir, manifest });
    if (dirname(dir) === dir) return (found = null);
  }
}

/** The directory holding pathmtu's package.json (and its prebuilds/, build/, native/). */
export function packageRoot(): string {
  const pkg = locate();
  if (pkg === null) {
    const here = dirname(fileURLToPath(import.meta.url));
    throw new PathMtuError(`pathmtu's package.json was not found above ${here}: the installation is incomplete`, 'ERR_PACKAGE');
  }
  return pkg.root;
}

/** The version in pathmtu's package.json, as `--version` prints it. */
export function packageVersion(): string {
  const v = locate()?.manifest.version;
  return typeof v === 'string' ? v : 'unknown';
}
