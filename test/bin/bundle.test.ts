// The binary as it ships: bin/pathmtu.js loading the one-file bundle dist/bin/pathmtu.cjs. It must
// run with nothing else of dist/, say what the library says, keep V8's code cache safely, and write
// its output the way process.stdout would. (How fast it starts is measured in `npm run bench`.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { discover } from '../../src/discover/index.js';
import { explain } from '../../src/explain/index.js';
import { BIN, BUNDLE, ROOT, ensureBundle } from './build.js';

const scratch = mkdtempSync(join(tmpdir(), 'pathmtu-bin-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A package directory holding only what the binary needs: package.json, bin/, the bundle, the binding. */
function isolatedPackage(name: string, withBundle = true): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  if (withBundle) cpSync(BUNDLE, join(dir, 'dist', 'bin', 'pathmtu.cjs'));
  symlinkSync(join(ROOT, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'));
  for (const native of ['build', 'prebuilds']) {
    if (existsSync(join(ROOT, native))) symlinkSync(join(ROOT, native), join(dir, native));
  }
  return dir;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The library's CLI entry, in this process, with its output captured. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      stdout += chunk.toString();
      done();
    },
  });
  const code = await main(args, { stdout: sink, stderr: sink, env: { NO_COLOR: '1' }, signal: new AbortController().signal });
  return { code, stdout };
}

before(() => ensureBundle());

test('the bundle alone (no other file of dist/) says what the library says: --version, explain 1400 --json, 127.0.0.1 --json', async () => {
  const bin = join(isolatedPackage('alone'), 'bin', 'pathmtu.js');
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

  const v = run(bin, ['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `pathmtu ${version}\n`);
  assert.equal(v.stdout, (await inProcess(['--version'])).stdout);

  const e = run(bin, ['explain', '1400', '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stdout, (await inProcess(['explain', '1400', '--json'])).stdout);
  assert.deepEqual(JSON.parse(e.stdout).candidates, explain({ mtu: 1400 }).candidates);

  // Loopback only: the one destination a test may probe outside its own namespaces.
  const d = run(bin, ['127.0.0.1', '--json']);
  assert.equal(d.code, 0, d.stderr);
  const fromBin = JSON.parse(d.stdout) as Record<string, unknown>;
  const fromLib = (await discover('127.0.0.1')) as unknown as Record<string, unknown>;
  for (const key of ['address', 'family', 'method', 'direction', 'pmtu', 'exact', 'localMtu', 'blackHole']) {
    assert.deepEqual(fromBin[key], fromLib[key], key);
  }
  assert.equal(fromBin.pmtu, fromBin.localMtu, 'loopback: the path MTU is the interface MTU');

  // A host name: the resolver is loaded on demand inside the bundle (no ESM loader there).
  const n = run(bin, ['localhost', '-4', '--json']);
  assert.equal(n.code, 0, n.stderr);
  assert.equal(JSON.parse(n.stdout).address, '127.0.0.1');
});

test('every command answers --help through the bundle, as the library has it', async () => {
  const top = run(BIN, ['--help']);
  assert.equal(top.code, 0, top.stderr);
  assert.equal(top.stdout, (await inProcess(['--help'])).stdout);
  const names = [...top.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.includes('discover') && names.includes('explain') && names.includes('demo'), names.join(' '));
  for (const name of names) {
    const r = run(BIN, [name, '--help']);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, (await inProcess([name, '--help'])).stdout, name);
  }
});

test('a missing bundle is one line naming the fix, exit 1, no stack trace', () => {
  const r = run(join(isolatedPackage('unbuilt', false), 'bin', 'pathmtu.js'), ['--version']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^pathmtu: .*dist\/bin\/pathmtu\.cjs is missing: run 'npm run build'.*\n$/);
});

const ownCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function'
  ? `Node ${process.version} has its own compile cache (module.enableCompileCache), which bin/pathmtu.js uses instead`
  : undefined;

test('code cache: one private file per command, reused; a corrupt one is replaced; an unsafe directory or NODE_DISABLE_COMPILE_CACHE is left alone', { skip: ownCache }, () => {
  const home = join(scratch, 'cache-home');
  const env = { XDG_CACHE_HOME: home };
  const dir = join(home, 'pathmtu');
  const expected = run(BIN, ['explain', '1400'], { NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.equal(expected.code, 0, expected.stderr);

  const first = run(BIN, ['explain', '1400'], env);
  assert.equal(first.stdout, expected.stdout);
  const files = readdirSync(dir);
  assert.equal(files.length, 1, files.join(' '));
  assert.match(files[0]!, new RegExp(`^[0-9a-f]{8}-[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-explain\\.v8$`));
  const file = join(dir, files[0]!);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const cache = readFileSync(file);
  assert.ok(cache.length > 1000, `a cache of ${cache.length} bytes`);

  // Reused: not rewritten, same output. Another command gets its own file.
  assert.equal(run(BIN, ['explain', '1400'], env).stdout, expected.stdout);
  assert.deepEqual(readFileSync(file), cache);
  assert.equal(run(BIN, ['--version'], env).code, 0);
  assert.equal(readdirSync(dir).length, 2);

  // Garbage in the cache: V8 rejects it, the run is right, the file is made good again. Writing it
  // removes this installation's caches of an older build, not another installation's.
  const here = files[0]!.slice(0, 9);
  const oldBuild = `${here}0000000000000000-${process.version}-explain.v8`;
  const elsewhere = `${here === '00000000-' ? '11111111-' : '00000000-'}0000000000000000-${process.version}-explain.v8`;
  writeFileSync(join(dir, oldBuild), 'old');
  writeFileSync(join(dir, elsewhere), 'other');
  writeFileSync(file, Buffer.alloc(cache.length, 0x55));
  assert.equal(run(BIN, ['explain', '1400'], env).stdout, expected.stdout);
  assert.notDeepEqual(readFileSync(file), Buffer.alloc(cache.length, 0x55));
  assert.equal(existsSync(join(dir, oldBuild)), false);
  assert.equal(readFileSync(join(dir, elsewhere), 'utf8'), 'other');

  // A directory others may write to could hold planted code: not read, not written.
  rmSync(dir, { recursive: true });
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  assert.equal(run(BIN, ['explain', '1400'], env).stdout, expected.stdout);
  assert.deepEqual(readdirSync(dir), []);

  rmSync(dir, { recursive: true });
  assert.equal(run(BIN, ['explain', '1400'], { ...env, NODE_DISABLE_COMPILE_CACHE: '1' }).stdout, expected.stdout);
  assert.equal(existsSync(dir), false);
});

test('stdout: to a file exactly what a terminal-less process.stdout writes; a reader that went away ends the run quietly (exit 0)', () => {
  const out = join(scratch, 'out.json');
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" explain 1400 --json > "${out}"`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), run(BIN, ['explain', '1400', '--json']).stdout);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).mtu, 1400);

  // `true` has exited long before pathmtu writes: every write meets EPIPE.
  const gone = spawnSync('sh', ['-c', `{ sleep 0.5; "${process.execPath}" "${BIN}" explain 1400 --json; echo "exit $?" >&2; } | true`], {
    encoding: 'utf8',
  });
  assert.equal(gone.stderr, 'exit 0\n');
});
