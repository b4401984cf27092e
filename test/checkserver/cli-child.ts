// Child of cli.test.ts: runs `pathmtu <argv>` through main() with this process's I/O (as an
// unprivileged user, to see the permission error), exiting with its code.
import { main } from '../../src/cli/main.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: new AbortController().signal,
});
process.exitCode = code;
