#!/usr/bin/env node
// Builds the prebuilt Node-API binaries that ship in the package, in node-gyp-build's layout:
//   prebuilds/linux-x64/node.napi.glibc.node     prebuilds/linux-arm64/node.napi.glibc.node
// (the names prebuildify gives with --napi --tag-libc; node-gyp-build picks the file at run time).
// Node-API version 8 (binding.gyp's NAPI_VERSION) loads on every Node >= 20, so one file per CPU.
//
// Usage: node scripts/prebuild.mjs [--arch x64,arm64] [--force]
//        node scripts/prebuild.mjs --dev    the checkout's own build/Release (npm run build:native),
//                                           when missing or older than its sources (prepare, npm test)
// The CPU this runs on is built with the system compiler; the other with Debian's cross compiler
// (g++-aarch64-linux-gnu on x64, installed by scripts/system-deps.sh). A binary newer than its
// sources (binding.gyp, native/, node-addon-api, this script) is kept, so `npm pack` is cheap twice.
// Each build runs node-gyp in a scratch copy, so the checkout's own build/ (a dev build) is untouched.
// Progress goes to stderr: `npm pack --json` runs this (prepack) and its stdout must stay JSON.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch as hostArch, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TRIPLETS = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
export const PREBUILD_FILE = 'node.napi.glibc.node';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'x64,arm64' },
    force: { type: 'boolean', default: false },
    dev: { type: 'boolean', default: false },
  },
});
const arches = values.arch.split(',').filter(Boolean);
for (const a of arches) if (!(a in TRIPLETS)) fail(`unknown --arch ${a} (known: ${Object.keys(TRIPLETS).join(', ')})`);

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function newestSource() {
  const files = [
    join(root, 'binding.gyp'),
    fileURLToPath(import.meta.url),
    join(root, 'node_modules/node-addon-api/package.json'),
    ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f)),
  ];
  return Math.max(...files.filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
}

/** node-gyp: the one npm runs scripts with, else the copy bundled inside npm. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const r = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  const npm = r.stdout.trim();
  if (npm) {
    const bundled = join(dirname(realpathSync(npm)), '..', 'node_modules/node-gyp/bin/node-gyp.js');
    if (existsSync(bundled)) return bundled;
  }
  fail('node-gyp not found (it comes with npm; run this through `npm run build:prebuilds`)');
}

/** Node's headers where this Node is installed (include/node/node_api.h), so no download is needed. */
function nodeDir() {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined;
}

function build(arch) {
  const out = join(root, 'prebuilds', `linux-${arch}`, PREBUILD_FILE);
  if (!values.force && existsSync(out) && statSync(out).mtimeMs >= newestSource()) {
    console.error(`prebuild: ${out} is up to date`);
    return;
  }
  const cross = arch !== hostArch();
  const prefix = cross ? `${TRIPLETS[arch]}-` : '';
  const env = { ...process.env };
  if (cross) {
    const which = spawnSync('sh', ['-c', `command -v ${prefix}g++`]);
    if (which.status !== 0) fail(`${prefix}g++ not found: run scripts/system-deps.sh (Debian: g++-${TRIPLETS[arch].replace(/_/g, '-')})`);
    Object.assign(env, { CC: `${prefix}gcc`, CXX: `${prefix}g++`, LINK: `${prefix}g++`, AR: `${prefix}ar` });
  }
  const scratch = mkdtempSync(join(tmpdir(), `pathmtu-prebuild-${arch}-`));
  try {
    cpSync(join(root, 'binding.gyp'), join(scratch, 'binding.gyp'));
    cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    const dir = nodeDir();
    const args = [nodeGyp(), 'rebuild', `--arch=${arch}`, ...(dir ? [`--nodedir=${dir}`] : [])];
    console.error(`prebuild: linux-${arch}${cross ? ` with ${prefix}g++` : ''}`);
    const r = spawnSync(process.execPath, args, { cwd: scratch, env, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) fail(`node-gyp failed for linux-${arch} (exit ${r.status ?? r.signal})`);
    mkdirSync(dirname(out), { recursive: true });
    // Strip debug symbols (about half the file); the dynamic symbol table node needs stays.
    const s = spawnSync(`${prefix}strip`, ['--strip-unneeded', '-o', out, join(scratch, 'build/Release/pathmtu.node')], {
      stdio: ['ignore', 2, 2],
    });
    if (s.status !== 0) fail(`${prefix}strip failed for linux-${arch}`);
    console.error(`prebuild: wrote ${out} (${statSync(out).size} bytes)`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * A checkout's tests load build/Release first (node-gyp-build's order): rebuild it when native/ or
 * binding.gyp changed since (a pull that brings binding.cc changes), so no test runs an old binary.
 */
function buildDev() {
  const out = join(root, 'build', 'Release', 'pathmtu.node');
  if (!values.force && existsSync(out) && statSync(out).mtimeMs >= newestSource()) return;
  console.error(`prebuild: ${existsSync(out) ? `${out} is older than native/ or binding.gyp` : `no ${out}`}: npm run build:native`);
  const dir = nodeDir();
  const args = [nodeGyp(), 'rebuild', ...(dir ? [`--nodedir=${dir}`] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) fail(`node-gyp rebuild failed (exit ${r.status ?? r.signal}): a C++ compiler, make and python3 are needed (scripts/system-deps.sh)`);
}

if (values.dev) buildDev();
else for (const a of arches) build(a);
