// The loader without packing: where the package root is (at any depth, as a bundle would move it),
// and the NativeUnavailableError it throws when no binary is there or the one there does not load.
// test/install/pack.test.ts checks the same through an installed tarball and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadNative } from '../../src/sock/binding.js';
import { packageRoot, packageVersion } from '../../src/package.js';
import { NativeUnavailableError, PathMtuError } from '../../src/errors.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pathmtu-loader-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('packageRoot and packageVersion describe this checkout', () => {
  assert.equal(packageRoot(), repo);
  assert.equal(packageVersion(), version);
});

test('the package root is found from any depth (a bundle may sit in dist/, bin/ or deeper), past other manifests', (t) => {
  const pkg = scratch(t);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pathmtu', version: '7.7.7' }));
  mkdirSync(join(pkg, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(pkg, 'a', 'package.json'), JSON.stringify({ name: 'not-pathmtu', version: '0.0.1' })); // e.g. {"type":"module"} stubs
  const dist = join(repo, 'dist');
  for (const where of [pkg, join(pkg, 'a', 'b', 'c')]) {
    cpSync(join(dist, 'package.js'), join(where, 'package.js'));
    cpSync(join(dist, 'errors.js'), join(where, 'errors.js'));
    const code = `import(${JSON.stringify(pathToFileURL(join(where, 'package.js')).href)}).then((m) => console.log(JSON.stringify([m.packageRoot(), m.packageVersion()])))`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [pkg, '7.7.7'], `from ${where}`);
  }
});

test('this checkout has a loadable binding', () => {
  const b = loadNative(repo);
  assert.equal(typeof b.socket, 'function');
  assert.equal(typeof b.constants.IP_MTU_DISCOVER, 'number');
});

test('no binary in the package: NativeUnavailableError naming the platform and the source build', { skip: !glibc && 'not a glibc system' }, (t) => {
  const empty = scratch(t);
  writeFileSync(join(empty, 'package.json'), JSON.stringify({ name: 'pathmtu', version }));
  assert.throws(
    () => loadNative(empty),
    (e: unknown) => {
      assert.ok(e instanceof NativeUnavailableError && e instanceof PathMtuError);
      assert.equal(e.code, 'ERR_NATIVE_UNAVAILABLE');
      assert.equal(e.platform, `linux-${arch()} (glibc)`);
      assert.ok(e.message.includes(`neither ${empty}/prebuilds nor ${empty}/build holds one`), e.message);
      assert.ok(e.message.endsWith(`cd '${empty}' && npm run build:native`), e.message);
      return true;
    },
  );
});

test('a prebuilt file that does not load (corrupt, wrong CPU): NativeUnavailableError with the loader\'s reason', { skip: !glibc && 'not a glibc system' }, (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pathmtu', version }));
  const file = join(dir, 'prebuilds', `linux-${arch()}`, 'node.napi.glibc.node');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, 'not an ELF file');
  assert.throws(
    () => loadNative(dir),
    (e: unknown) => {
      assert.ok(e instanceof NativeUnavailableError);
      assert.match(e.message, new RegExp(`^the native binding ${file} does not load on linux-${arch()} \\(glibc\\): .*(invalid ELF header|too short)`));
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
});
