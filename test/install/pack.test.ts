// The package as a user gets it: `npm pack` (its prepack builds the prebuilt binaries), then the
// tarball installed into a fresh project and globally with --ignore-scripts and nothing but `node` on
// PATH (no compiler, no make, no python), then the CLI, the library and the types used from there.
// Traffic: loopback only (pathmtu 127.0.0.1).
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const PREBUILD = 'node.napi.glibc.node';
const hostArch = arch();

let tmp: string;
let tarball: string;
let shipped: string[]; // paths inside the tarball, without the leading package/
let nodeOnly: string; // a PATH holding node and nothing else
let app: string; // a fresh project with pathmtu installed locally
let globalPrefix: string; // npm i -g --prefix
let globalPkg: string; // the globally installed package directory

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** npm's own CLI script, run with this node: the user's env below has no npm on PATH. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm) && existsSync(fromNpm)) return fromNpm;
  const which = sh('/bin/sh', ['-c', 'command -v npm']).stdout.trim();
  assert.ok(which, 'npm is not on PATH');
  return realpathSync(which);
}

/** The environment of a user without build tools: HOME (npm's cache) and a PATH with node only. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, PATH: nodeOnly, NO_COLOR: '1', ...extra };
}

function npm(args: string[], cwd: string) {
  return sh(process.execPath, [npmCli(), ...args, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd,
    env: userEnv(),
  });
}

/** The globally installed `pathmtu` command, run as a user would (its #! line finds node on PATH). */
function pathmtu(args: string[], env: NodeJS.ProcessEnv = {}) {
  return sh(join(globalPrefix, 'bin', 'pathmtu'), args, { env: userEnv(env) });
}

/** What the kernel lets an IPv4 packet be on lo: the loopback path MTU pathmtu must find. */
function loopbackPmtu(): number {
  return Math.min(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim()), 65535);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('the packed tarball, installed without scripts or a compiler', { timeout: 600_000 }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pathmtu-pack-'));
    // npm pack as the maintainer runs it (full PATH: prepack cross-compiles the prebuilt binaries).
    ok(sh(process.execPath, [npmCli(), 'pack', '--pack-destination', tmp], { cwd: repo }), 'npm pack');
    tarball = join(tmp, `${manifest.name}-${manifest.version}.tgz`);
    assert.ok(existsSync(tarball), `npm pack did not write ${tarball}`);
    shipped = ok(sh('tar', ['-tzf', tarball]), 'tar -t')
      .split('\n')
      .filter(Boolean)
      .map((p) => p.replace(/^package\//, ''));

    nodeOnly = join(tmp, 'bin');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));

    app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    ok(npm(['install', tarball], app), 'npm install <tarball>');

    globalPrefix = join(tmp, 'global');
    ok(npm(['install', '--global', '--prefix', globalPrefix, tarball], tmp), 'npm install -g <tarball>');
    globalPkg = join(globalPrefix, 'lib', 'node_modules', manifest.name);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the user environment has no compiler, make or python on PATH', () => {
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3', 'node-gyp']) {
      const r = sh('/bin/sh', ['-c', `command -v ${tool}`], { env: userEnv() });
      assert.notEqual(r.status, 0, `${tool} is reachable: ${r.stdout}`);
    }
  });

  test('the tarball ships the prebuilt binaries, the build and the sources to rebuild, nothing else', () => {
    for (const need of [
      `prebuilds/linux-x64/${PREBUILD}`,
      `prebuilds/linux-arm64/${PREBUILD}`,
      'dist/index.js',
      'dist/index.d.ts',
      'bin/pathmtu.js',
      'native/binding.cc',
      'binding.gyp',
      'package.json',
      'README.md',
    ]) {
      assert.ok(shipped.includes(need), `${need} is missing from the tarball`);
    }
    const unexpected = shipped.filter(
      (p) =>
        p.endsWith('.map') ||
        /^(src|test|bench|build|scripts|node_modules|\.ci)\//.test(p) ||
        p.startsWith('dist/lab/testing.'),
    );
    assert.deepEqual(unexpected, [], 'files that are not needed at run time');
    const top = new Set(shipped.map((p) => p.split('/')[0]));
    assert.deepEqual([...top].sort(), ['LICENSE', 'README.md', 'bin', 'binding.gyp', 'dist', 'native', 'package.json', 'prebuilds']);
  });

  test('no shipped module imports node:test, and every source map comment points at a shipped file', () => {
    const files = walk(join(app, 'node_modules', manifest.name, 'dist')).filter((f) => /\.[cm]?js$/.test(f));
    assert.ok(files.length > 20, `only ${files.length} modules installed`);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      assert.doesNotMatch(text, /['"]node:test['"]/, `${relative(app, f)} imports node:test`);
      const map = /\/\/# sourceMappingURL=(\S+)/.exec(text)?.[1];
      if (map !== undefined && !map.startsWith('data:')) {
        assert.ok(existsSync(join(dirname(f), map)), `${relative(app, f)} points at ${map}, which is not shipped`);
      }
    }
  });

  test('the installed package runs no install script and npm adds no implicit node-gyp run', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', manifest.name, 'package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts?.[s], undefined, `scripts.${s}`);
    // binding.gyp ships (for source builds); without gypfile:false npm would run `node-gyp rebuild`.
    assert.equal(pkg.gypfile, false);
    assert.ok(!existsSync(join(app, 'node_modules', manifest.name, 'build')), 'something was compiled at install');

    // And with scripts allowed, as npm runs by default: nothing to run, nothing to approve, no compiler asked for.
    const plain = join(tmp, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'package.json'), JSON.stringify({ name: 'plain', private: true }));
    const r = sh(process.execPath, [npmCli(), 'install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: plain,
      env: userEnv(),
    });
    ok(r, 'npm install <tarball> with scripts allowed');
    // npm 11 lists a dependency's `prepare` when it comes from a file or git source (it runs it for git
    // only, to build a checkout); for a registry install it lists nothing. No other script may appear.
    const listed = r.stderr.split('\n').filter((l) => l.includes(`${manifest.name}@${manifest.version} (`));
    for (const l of listed) assert.match(l, /\(prepare: [^,]*\)$/, r.stderr);
    assert.doesNotMatch(r.stderr, /node-gyp rebuild|gyp ERR|preinstall|postinstall|\binstall: /, r.stderr);
    assert.ok(!existsSync(join(plain, 'node_modules', manifest.name, 'build')), 'something was compiled at install');
  });

  test(`the binding loads from prebuilds/linux-${hostArch}/ in the installed package`, () => {
    const r = sh(
      process.execPath,
      ['-e', `process.stdout.write(require('node-gyp-build').resolve(${JSON.stringify(join(app, 'node_modules', manifest.name))}))`],
      { cwd: app, env: userEnv() },
    );
    assert.equal(ok(r, 'node-gyp-build.resolve'), join(app, 'node_modules', manifest.name, 'prebuilds', `linux-${hostArch}`, PREBUILD));
  });

  test('global install: `pathmtu 127.0.0.1 --json` finds the loopback path MTU', () => {
    const r = pathmtu(['127.0.0.1', '--json']);
    const result = JSON.parse(ok(r, 'pathmtu 127.0.0.1 --json'));
    assert.equal(result.pmtu, loopbackPmtu());
    assert.equal(result.exact, true);
    assert.equal(r.stderr, '');
  });

  test('local install: node_modules/.bin/pathmtu runs, and --version is read from package.json', () => {
    const bin = join(app, 'node_modules', '.bin', 'pathmtu');
    assert.equal(ok(sh(bin, ['--version'], { env: userEnv() }), '--version'), `pathmtu ${manifest.version}\n`);
    // Not a constant that happens to match: change the installed manifest and the output follows.
    const copy = join(tmp, 'version-copy');
    ok(sh('cp', ['-a', join(app, 'node_modules', manifest.name), copy]), 'cp');
    const pkgFile = join(copy, 'package.json');
    writeFileSync(pkgFile, readFileSync(pkgFile, 'utf8').replace(`"version": "${manifest.version}"`, '"version": "9.8.7-pack-test"'));
    const r = sh(process.execPath, [join(copy, 'bin', 'pathmtu.js'), '--version'], { cwd: app, env: userEnv() });
    assert.equal(ok(r, 'copy --version'), 'pathmtu 9.8.7-pack-test\n');
  });

  test("import('pathmtu') from the consumer project discovers the loopback path MTU", () => {
    const code = `
      const m = await import('pathmtu');
      const r = await m.discover('127.0.0.1', { signal: AbortSignal.timeout(20000) });
      console.log(JSON.stringify({ pmtu: r.pmtu, exact: r.exact, hasError: typeof m.NativeUnavailableError }));`;
    const r = sh(process.execPath, ['--input-type=module', '-e', code], { cwd: app, env: userEnv() });
    assert.deepEqual(JSON.parse(ok(r, 'import(pathmtu)')), { pmtu: loopbackPmtu(), exact: true, hasError: 'function' });
  });

  test('tsc checks a consumer against the installed types', () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { discover, explain, PathMtuError, NativeUnavailableError, type DiscoverResult } from 'pathmtu';
const r: DiscoverResult = await discover('127.0.0.1', { family: 4 });
const size: number | null = r.pmtu;
// @ts-expect-error pmtu is number | null: the types are real, not any
const wrong: string = r.pmtu;
const e: PathMtuError = new NativeUnavailableError('m', 'linux-x64 (glibc)');
const code: string = e.code;
console.log(size, wrong, code, explain({ mtu: 1400 }).mtu);
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(repo, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    ok(sh(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, env: userEnv() }), 'tsc');
  });

  test('each prebuilt binary is an ELF for its CPU exporting napi_register_module_v1, within Node 20\'s glibc floor', () => {
    const machines: Record<string, string> = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
    for (const [cpu, machine] of Object.entries(machines)) {
      const file = join(app, 'node_modules', manifest.name, 'prebuilds', `linux-${cpu}`, PREBUILD);
      const header = ok(sh('readelf', ['-h', file]), 'readelf -h');
      assert.match(header, new RegExp(`Machine:\\s+${machine}\\n`), `linux-${cpu}`);
      const exported = ok(sh('nm', ['-D', '--defined-only', file]), 'nm -D');
      assert.match(exported, /\bT napi_register_module_v1\n/, `linux-${cpu} exports no Node-API entry point`);
      // Node 20's own Linux binaries need glibc 2.28 and GCC 8's libstdc++ (RHEL 8): ours must not ask more.
      const versions = ok(sh('readelf', ['-V', '-W', file]), 'readelf -V');
      const newest = (lib: string) =>
        [...versions.matchAll(new RegExp(`Name: ${lib}_([0-9.]+)`, 'g'))]
          .map((m) => m[1]!.split('.').map(Number))
          .sort((a, b) => a[0]! - b[0]! || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0))
          .pop();
      const glibc = newest('GLIBC');
      const glibcxx = newest('GLIBCXX');
      assert.ok(glibc && (glibc[0]! < 2 || (glibc[0] === 2 && glibc[1]! <= 28)), `linux-${cpu} needs GLIBC_${glibc?.join('.')}`);
      assert.ok(!glibcxx || glibcxx[0]! < 3 || (glibcxx[1]! <= 4 && (glibcxx[2] ?? 0) <= 25), `linux-${cpu} needs GLIBCXX_${glibcxx?.join('.')}`);
    }
  });

  test('the arm64 binary loads with the arm64 dynamic linker under qemu-aarch64', () => {
    // Not Node itself (Debian ships no arm64 Node >= 20 to run under qemu): an arm64 program dlopen()s
    // the binary, which proves its libraries and symbol versions resolve on an arm64 glibc system.
    const src = join(tmp, 'dlopen.c');
    writeFileSync(
      src,
      `#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_LAZY);
  if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  if (!dlsym(h, "napi_register_module_v1")) { fprintf(stderr, "%s\\n", dlerror()); return 2; }
  puts("loaded");
  return 0;
}
`,
    );
    const prog = join(tmp, 'dlopen-arm64');
    ok(sh('aarch64-linux-gnu-gcc', ['-o', prog, src]), 'aarch64-linux-gnu-gcc (scripts/system-deps.sh installs it)');
    const sysroot = '/usr/aarch64-linux-gnu';
    const arm = join(app, 'node_modules', manifest.name, 'prebuilds', 'linux-arm64', PREBUILD);
    assert.equal(ok(sh('qemu-aarch64', ['-L', sysroot, prog, arm]), 'qemu-aarch64 (scripts/system-deps.sh installs qemu-user)'), 'loaded\n');
    // The check can fail: the x64 binary does not load there.
    const x64 = join(app, 'node_modules', manifest.name, 'prebuilds', 'linux-x64', PREBUILD);
    assert.notEqual(sh('qemu-aarch64', ['-L', sysroot, prog, x64]).status, 0);
  });

  describe('where no binary fits: one line naming the platform and the way out, never a stack trace', () => {
    const cases: Array<{ name: string; env: NodeJS.ProcessEnv; platform: RegExp; says: RegExp }> = [
      {
        name: 'another CPU (riscv64)',
        env: { npm_config_arch: 'riscv64' }, // node-gyp-build's documented override of os.arch()
        platform: /linux-riscv64 \(glibc\)/,
        says: /prebuilt binaries ship for linux-x64 and linux-arm64 \(glibc\) only.*npm run build:native/,
      },
      {
        name: 'musl',
        env: { LIBC: 'musl' }, // node-gyp-build's override of its Alpine check
        platform: new RegExp(`linux-${hostArch} \\(musl\\)`),
        says: /npm run build:native/,
      },
      {
        name: 'macOS',
        env: { NODE_OPTIONS: `--import=data:text/javascript,Object.defineProperty(process,'platform',{value:'darwin'})` },
        platform: new RegExp(`darwin-${hostArch}`),
        says: /works on Linux only/,
      },
    ];
    for (const c of cases) {
      test(`${c.name}: the CLI`, () => {
        const r = pathmtu(['127.0.0.1'], c.env);
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stdout, '');
        const lines = r.stderr.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, `more than one line:\n${r.stderr}`);
        assert.match(lines[0]!, /^pathmtu discover: /);
        assert.match(lines[0]!, c.platform);
        assert.match(lines[0]!, c.says);
        if (c.name !== 'macOS') assert.ok(lines[0]!.includes(`cd '${realpathSync(globalPkg)}'`), lines[0]);

        const j = pathmtu(['127.0.0.1', '--json'], c.env);
        assert.equal(j.status, 1);
        assert.equal(JSON.parse(j.stdout).error.code, 'ERR_NATIVE_UNAVAILABLE');
      });
      test(`${c.name}: the library`, () => {
        const code = `
          const m = await import('pathmtu');
          try { await m.discover('127.0.0.1'); console.log('{"resolved":true}'); }
          catch (e) { console.log(JSON.stringify({ code: e.code, platform: e.platform, base: e instanceof m.PathMtuError, message: e.message })); }`;
        const r = sh(process.execPath, ['--input-type=module', '-e', code], { cwd: app, env: userEnv(c.env) });
        const e = JSON.parse(ok(r, 'library'));
        assert.equal(e.code, 'ERR_NATIVE_UNAVAILABLE');
        assert.equal(e.base, true);
        assert.match(e.platform, c.platform);
        assert.match(e.message, c.says);
      });
    }

    test('commands that need no socket still work without a binding (explain)', () => {
      const r = pathmtu(['explain', '1400', '--json'], { LIBC: 'musl' });
      assert.equal(JSON.parse(ok(r, 'explain')).mtu, 1400);
    });
  });

  test('the way out works: `npm run build:native` in the installed package, then it runs on "musl"', () => {
    // The maintainer's machine has the tools (the user env above does not). Node's headers: from this
    // Node's own include/ when present (this CI has no route to nodejs.org, where node-gyp fetches them).
    const prefix = resolve(dirname(process.execPath), '..');
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: process.env.PATH };
    if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
    ok(sh(process.execPath, [npmCli(), 'run', 'build:native'], { cwd: globalPkg, env }), 'npm run build:native');
    const r = pathmtu(['127.0.0.1', '--json'], { LIBC: 'musl' });
    assert.equal(JSON.parse(ok(r, 'pathmtu after a source build')).pmtu, loopbackPmtu());
  });
});
