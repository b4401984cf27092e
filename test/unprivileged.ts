// Children run as nobody (uid/gid 65534) cannot read a checkout that lives under a 0700 directory
// (root's home, `mktemp -d`): node fails with "Cannot find package 'tsx'" or EACCES before any test
// code runs. So every test that runs a child as nobody runs it from a staged copy: a 0755 directory
// in the system's temp dir holding what an install has — package.json, its `files` (bin/, the
// compiled dist/, ...), its dependencies, the locally built binding — read from package.json so
// the staging follows packaging changes, and the test's child scripts transpiled to JS (plain
// node, no tsx). One copy per test process, made on first use, removed when the process exits; a
// copy left behind by a process that died is swept by the next one.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, RunResult } from '../src/lab/index.js';
import { ensureBundle } from './bin/build.js';

export const NOBODY = 65534;

const repo = fileURLToPath(new URL('../', import.meta.url));
const PREFIX = 'pathmtu-nobody-';

export interface AsUserOptions {
  /** Default: nobody (65534) for both. */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** `node bin/pathmtu.js <args>` in a lab node as nobody (or opts.uid), from the staged copy. */
export async function pathmtuAsUser(lab: Lab, node: string, args: string[], opts: AsUserOptions = {}): Promise<RunResult> {
  const s = stage();
  return lab.exec(node, [process.execPath, join(s, 'bin', 'pathmtu.js'), ...args], execOptions(s, opts));
}

/**
 * A test's child script (a .ts file beside the test, importing from src/) in a lab node as nobody
 * (or opts.uid): transpiled into the staged copy, where its imports of src/ point at the compiled dist/.
 */
export async function scriptAsUser(lab: Lab, node: string, script: URL, args: string[], opts: AsUserOptions = {}): Promise<RunResult> {
  const s = stage();
  return lab.exec(node, [process.execPath, stageScript(s, fileURLToPath(script)), ...args], execOptions(s, opts));
}

/** Path of the staged copy (created on first call). */
export function stagedRoot(): string {
  return stage();
}

/** Staged path of a test's child script, transpiled (see scriptAsUser). */
export function stagedScript(script: URL): string {
  return stageScript(stage(), fileURLToPath(script));
}

function execOptions(s: string, o: AsUserOptions): Parameters<Lab['exec']>[2] {
  return {
    uid: o.uid ?? NOBODY,
    gid: o.gid ?? o.uid ?? NOBODY,
    cwd: s,
    timeoutMs: o.timeoutMs ?? 20_000,
    ...(o.env !== undefined ? { env: o.env } : {}),
    ...(o.input !== undefined ? { input: o.input } : {}),
  };
}

let staged: string | undefined;

function stage(): string {
  if (staged !== undefined) return staged;
  ensureBundle(); // children run what ships (bin/, the bundle and dist/): fresh, as other bin tests do
  if (!traversable(dirname(process.execPath))) {
    throw new Error(`${process.execPath} is under a directory other users cannot enter: nobody cannot run this node`);
  }
  const base = [tmpdir(), '/tmp'].find(traversable);
  if (base === undefined) throw new Error(`neither ${tmpdir()} nor /tmp can be entered by other users: nowhere to stage files for nobody`);
  sweep(base);
  const root = mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const pkg = readPackage('.');
  // `files` entries as npm reads them, simplified: exclusions (!dist/**/*.map) and globs are left
  // out of the copy's filter (a superset is harmless), an entry the checkout lacks (prebuilds/
  // before any prebuild) is skipped.
  const files = (pkg.files ?? ['bin', 'dist']).filter((f) => !f.startsWith('!') && !f.includes('*') && existsSync(join(repo, f)));
  for (const p of ['package.json', ...files, ...dependencies(pkg)]) copy(p, root);
  // The binding wherever node-gyp-build finds it in the checkout (build/Release or prebuilds/).
  const require = createRequire(import.meta.url);
  const binding = relative(repo, (require('node-gyp-build') as { resolve(dir: string): string }).resolve(repo));
  if (!binding.startsWith('..')) copy(binding, root);
  openUp(root);
  staged = root;
  return root;
}

/** Transpile a child script into the stage (once); return its staged path. */
function stageScript(root: string, source: string): string {
  const rel = relative(repo, source);
  if (rel.startsWith('..') || !rel.endsWith('.ts')) throw new Error(`not a .ts file of this checkout: ${source}`);
  const out = join(root, rel.replace(/\.ts$/, '.js'));
  if (existsSync(out)) return out;
  // Types stripped by the esbuild that tsx (which runs every test) uses: milliseconds, where
  // loading typescript to transpile takes seconds.
  const require = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esbuild = require('esbuild') as { transformSync(code: string, o: object): { code: string } };
  const js = esbuild.transformSync(readFileSync(source, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: source }).code;
  // Relative imports of src/x.js become the compiled dist/x.js; a child may import nothing else of ours.
  const code = js.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g, (_m, lead: string, q: string, spec: string) => {
    const target = relative(join(repo, 'src'), resolve(dirname(source), spec));
    if (target.startsWith('..')) throw new Error(`${rel} imports ${spec}: a child run as nobody may import only src/`);
    let to = relative(dirname(out), join(root, 'dist', target)).split(sep).join('/');
    if (!to.startsWith('.')) to = `./${to}`;
    return `${lead}${q}${to}${q}`;
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  openUp(root);
  return out;
}

interface Package {
  files?: string[];
  dependencies?: Record<string, string>;
}

function readPackage(dir: string): Package {
  return JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as Package;
}

/** node_modules/<name> of every runtime dependency, theirs included (npm's flat layout). */
function dependencies(pkg: Package, seen = new Set<string>()): string[] {
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const dir = `node_modules/${name}`;
    if (seen.has(dir)) continue;
    seen.add(dir);
    dependencies(readPackage(dir), seen);
  }
  return [...seen];
}

function copy(rel: string, root: string): void {
  const from = join(repo, rel);
  if (!existsSync(from)) throw new Error(`cannot stage ${rel}: ${from} does not exist`);
  cpSync(from, join(root, rel), { recursive: true, dereference: true });
}

/** Directories 0755, files readable by all (executables stay executable): a 0077 umask must not matter. */
function openUp(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openUp(join(path, name));
  } else {
    chmodSync(path, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Can a user who is neither owner nor group member reach things under dir? (Every ancestor o+x.) */
function traversable(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

/** Remove stages whose process is gone (killed before its exit handler ran). */
function sweep(base: string): void {
  for (const name of readdirSync(base)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}
