// The contract every subcommand follows. main.ts finds the command by name in commands/index.ts
// (which also holds its one-line summary), loads its module and calls run();
// a command parses its own arguments (util.parseArgs), renders, and returns the exit code.
// Exit codes: 0 success, 1 the job could not be done (e.g. PMTU not found), 2 usage error.
import type { Readable, Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';

/** A command's util.parseArgs options. */
export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface Io {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Read by `pathmtu -` only (default process.stdin, touched only then: it costs start-up time). */
  stdin?: Readable;
  /** Aborted on Ctrl-C; a command prints what it knows and returns. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** Full --help text of the subcommand: usage, options, examples. */
  help: string;
  /** Its util.parseArgs options: main.ts reads them to find the command among options given first. */
  options: ParseArgsOptionsConfig;
  /** Library option -> flag, where this command's flag differs from the common one (src/cli/flags.ts). */
  flags?: Record<string, string>;
  run(argv: string[], io: Io): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
