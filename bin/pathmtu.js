#!/usr/bin/env node
// Entry point: run the CLI with process I/O. Ctrl-C aborts the running command once (it prints what
// it knows and chooses its exit status, as ping does); a second Ctrl-C exits at once.
// A closed or failing stdout also stops the command (see src/cli/output.ts).
//
// Start-up is most of what a quick command costs (README, "Start-up"), so this file is CommonJS
// (bin/package.json says so) and loads the CLI bundled into one CommonJS file by scripts/bundle.mjs:
// Node then never starts its ESM loader nor walks ~50 module files. Compiling the bundle is the next
// cost: Node >= 22.1 has V8's compile cache built in (module.enableCompileCache); on older Node we
// keep V8's code cache for the bundle ourselves, one file per command in ~/.cache/pathmtu.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const nodeModule = require('node:module');
const { EventEmitter } = require('node:events');

const bundle = path.join(__dirname, '..', 'dist', 'bin', 'pathmtu.cjs');
const argv = process.argv.slice(2);

function missing() {
  process.stderr.write(`pathmtu: ${bundle} is missing: run 'npm run build' (it compiles and bundles the CLI)\n`);
  process.exit(1);
}

/** The cache directory, if it is ours alone (no other user could have planted code in it). */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && path.join(process.env.HOME, '.cache'));
  if (!base || process.env.NODE_DISABLE_COMPILE_CACHE || typeof process.geteuid !== 'function') return undefined;
  const dir = path.join(base, 'pathmtu');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ownedByUs(fs.lstatSync(dir)) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const ownedByUs = (st) => st.uid === process.geteuid() && (st.mode & 0o022) === 0;

/**
 * require() the bundle through vm.Script with V8's code cache: functions compiled by an earlier
 * run of the same command (same build, same Node; V8 rejects a cache from another V8 or flags) are
 * not compiled again. Any failure here only costs the cache, never the run.
 */
function requireCached(file) {
  let source;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    missing();
  }
  const vm = require('node:vm');
  const [, build, names] = /pathmtu-build=([0-9a-f]+) commands=([a-z,-]+)\n?$/.exec(source) ?? [];
  const dir = build && cacheDir();
  // One cache per command: each holds the functions its command compiled, the bundle's top level too.
  const first = argv[0] ?? '';
  const command = names?.split(',').includes(first) ? first : first.startsWith('-') ? 'options' : 'discover';
  // Named by installation too (a hash of the bundle's path), so that two installations with
  // different builds do not delete each other's caches.
  let where = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < file.length; i++) where = Math.imul(where ^ file.charCodeAt(i), 0x01000193) >>> 0;
  const prefix = `${where.toString(16).padStart(8, '0')}-`;
  const current = `${prefix}${build}-${process.version}-`;
  const cacheFile = dir && path.join(dir, `${current}${command}.v8`);
  let cachedData;
  if (cacheFile) {
    try {
      const fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        if (ownedByUs(fs.fstatSync(fd))) cachedData = fs.readFileSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // no cache yet
    }
  }
  const script = new vm.Script(nodeModule.wrap(source), { filename: file, cachedData });
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, nodeModule.createRequire(file), mod, file, path.dirname(file));
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    // At exit the cache holds every function this command compiled, not only the top level.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // This installation's caches of other builds or Node versions will not be read again.
        for (const name of fs.readdirSync(dir)) {
          if (name.startsWith(prefix) && !name.startsWith(current)) fs.rmSync(path.join(dir, name), { force: true });
        }
      } catch {
        // a cache we cannot write is only a slower next start
      }
    });
  }
  return mod.exports;
}

let cli;
if (typeof nodeModule.enableCompileCache === 'function') {
  nodeModule.enableCompileCache();
  if (!fs.existsSync(bundle)) missing();
  cli = require(bundle);
} else {
  cli = requireCached(bundle);
}
const { main, guardOutput } = cli;

/**
 * stdout. Where process.stdout would only call write(2) anyway, synchronously (on Linux: a file,
 * /dev/null, a pipe or a socket), we write there ourselves: loading Node's stream modules for
 * process.stdout costs about 5% of Node's whole start. A terminal gets process.stdout itself.
 * A write error is emitted as a stream emits it ('error', on the next tick), so src/cli/output.ts
 * guards both alike; a pipe that would block (non-blocking) is handed to process.stdout, which waits.
 */
function openStdout() {
  let st;
  try {
    st = fs.fstatSync(1);
  } catch {
    return process.stdout;
  }
  const direct = st.isFile() || st.isFIFO() || st.isSocket() || (st.isCharacterDevice() && st.rdev === fs.statSync('/dev/null').rdev);
  if (!direct) return process.stdout;
  const out = new EventEmitter();
  let stream; // process.stdout, after EAGAIN
  let failed = false; // as a destroyed stream, write no more after an error
  out.isTTY = false;
  out.write = (chunk) => {
    if (stream) return stream.write(chunk);
    if (failed) return false;
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (buf.length > 0) {
      try {
        buf = buf.subarray(fs.writeSync(1, buf));
      } catch (err) {
        if (err.code === 'EAGAIN') {
          stream = process.stdout;
          for (const listener of out.listeners('error')) stream.on('error', listener);
          return stream.write(buf);
        }
        failed = true;
        process.nextTick(() => out.emit('error', err));
        return false;
      }
    }
    return true;
  };
  return out;
}

/** stderr, made on first use (most runs never write to it); listeners added before wait for it. */
function lazyStderr() {
  let stream;
  const listeners = [];
  const get = () => {
    if (stream === undefined) {
      stream = process.stderr;
      for (const [event, fn] of listeners) stream.on(event, fn);
    }
    return stream;
  };
  return {
    on(event, fn) {
      if (stream === undefined) listeners.push([event, fn]);
      else stream.on(event, fn);
      return this;
    },
    write: (chunk) => get().write(chunk),
    get isTTY() {
      return get().isTTY;
    },
    get columns() {
      return get().columns;
    },
  };
}

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
const stdout = openStdout();
const stderr = lazyStderr();
const output = guardOutput(stdout, stderr, (reason) => controller.abort(reason));
main(argv, {
  stdout,
  stderr,
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  // Write errors surface after the last write returned: decide the status when the process exits.
  process.exitCode = code;
  process.once('exit', () => {
    process.exitCode = output.exitCode(code);
  });
});
