#!/usr/bin/env node
// Entry point: run the compiled CLI with process I/O. Ctrl-C aborts the running command once (it
// prints what it knows and chooses its exit status, as ping does); a second Ctrl-C exits at once.
import { main } from '../dist/cli/main.js';

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
