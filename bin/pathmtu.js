#!/usr/bin/env node
// Entry point: run the CLI with process I/O. Ctrl-C aborts the running command once (it prints what
// it knows and chooses its exit status, as ping does); a second Ctrl-C exits at once.
// A closed or failing stdout also stops the command (see src/cli/output.ts).
//
// This file is CommonJS (bin/package.json says so) and loads the CLI bundled into one CommonJS file
// by scripts/bundle.mjs: Node then never starts its ESM loader, which alone costs more than our own
// start-up (README, "Start-up").
'use strict';

// V8's compile cache (Node >= 22.1): later runs skip compiling the bundle. Node 20 has none.
const { enableCompileCache } = require('node:module');
if (typeof enableCompileCache === 'function') enableCompileCache();

const bundle = require('node:path').join(__dirname, '..', 'dist', 'bin', 'pathmtu.cjs');
let main, guardOutput;
try {
  ({ main, guardOutput } = require(bundle));
} catch (err) {
  if (require('node:fs').existsSync(bundle)) throw err;
  process.stderr.write(`pathmtu: ${bundle} is missing: run 'npm run build' (it compiles and bundles the CLI)\n`);
  process.exit(1);
}

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
const output = guardOutput(process.stdout, process.stderr, (reason) => controller.abort(reason));
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  // Write errors surface after the last write returned: decide the status when the process exits.
  process.exitCode = code;
  process.once('exit', () => {
    process.exitCode = output.exitCode(code);
  });
});
