#!/usr/bin/env node
// Entry point: run the compiled CLI with process I/O. Ctrl-C aborts the running command once (it
// prints what it knows and chooses its exit status, as ping does); a second Ctrl-C exits at once.
// A closed or failing stdout also stops the command (see src/cli/output.ts).
import { main } from '../dist/cli/main.js';
import { guardOutput } from '../dist/cli/output.js';

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
const output = guardOutput(process.stdout, process.stderr, (reason) => controller.abort(reason));
const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
// Write errors surface after the last write returned: decide the status when the process exits.
process.exitCode = code;
process.once('exit', () => {
  process.exitCode = output.exitCode(code);
});
