// What happens when our output cannot be written. `pathmtu ping host | head -1`: head exits, the
// next write fails with EPIPE — the reader has all it wanted, so the run stops quietly (exit 0).
// Any other write error (`> /dev/full`: ENOSPC) is a failure: one line on stderr, exit 1. Without a
// listener, Node turns either into an unhandled 'error' event and a stack trace.
import type { Writable } from 'node:stream';

export interface OutputGuard {
  /** The write error that closed stdout, if one did. */
  readonly failure: NodeJS.ErrnoException | undefined;
  /** The exit status once the command returned `code`. */
  exitCode(code: number): number;
}

/** An abort reason saying the reader went away: commands stay quiet about being "interrupted". */
export class OutputClosed extends Error {
  readonly code = 'EPIPE';
  constructor() {
    super('the reader of the output went away');
  }
}

/** "ENOSPC: no space left on device, write" -> "no space left on device (ENOSPC)". */
function describe(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z0-9_]+: (.*?)(?:, \w+)?$/.exec(err.message);
  return m && err.code ? `${m[1]} (${err.code})` : err.message;
}

/**
 * Listen for write errors on stdout (and stderr). `stop` is called once, with OutputClosed for
 * EPIPE or the error itself, so the running command ends (its cleanup still runs: the demo tears
 * its network down).
 */
export function guardOutput(stdout: Writable, stderr: Writable, stop: (reason: Error) => void): OutputGuard {
  let failure: NodeJS.ErrnoException | undefined;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (failure !== undefined) return; // later writes to the closed stream fail too
    failure = err;
    if (err.code === 'EPIPE') stop(new OutputClosed());
    else {
      stderr.write(`pathmtu: cannot write the output: ${describe(err)}\n`);
      stop(err);
    }
  });
  // Nowhere is left to report a failing stderr; the exit status still tells.
  stderr.on('error', () => {});
  return {
    get failure() {
      return failure;
    },
    exitCode(code: number): number {
      if (failure === undefined) return code;
      return failure.code === 'EPIPE' ? 0 : 1;
    },
  };
}
