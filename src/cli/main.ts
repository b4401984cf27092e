// pathmtu command line: dispatch to a subcommand; `pathmtu <host>` means `pathmtu discover <host>`.
import { parseArgs } from 'node:util';
import { PathMtuError, UsageError, PermissionError } from '../errors.js';
import { EXIT_FAIL, EXIT_USAGE, type Io } from './command.js';
import { commands, type CommandEntry } from './commands/index.js';

const VERSION = '0.1.0';

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `pathmtu — find, map, explain and test path MTUs (IPv4 and IPv6)

Usage:
  pathmtu <host> [options]          same as: pathmtu discover <host>
  pathmtu <command> [options]

Commands:
${lines.join('\n')}

Run 'pathmtu <command> --help' for a command's options and examples.
Sizes are whole IP packet sizes (IP header included) unless an option says otherwise.
`;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const sub = first === 'help' ? commands.find((c) => c.name === argv[1]) : undefined;
    io.stdout.write(sub ? (await sub.load()).help : topHelp());
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`pathmtu ${VERSION}\n`);
    return 0;
  }
  let entry: CommandEntry | undefined = commands.find((c) => c.name === first);
  let rest = argv.slice(1);
  if (entry === undefined) {
    if (first.startsWith('-') || !/[.:]|^[a-z0-9-]+$/i.test(first)) {
      io.stderr.write(`pathmtu: unknown command or option '${first}'\nRun 'pathmtu --help' for usage.\n`);
      return EXIT_USAGE;
    }
    entry = commands.find((c) => c.name === 'discover');
    rest = argv;
    if (entry === undefined) {
      io.stderr.write(`pathmtu: unknown command '${first}'\n`);
      return EXIT_USAGE;
    }
  }
  const command = await entry.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const code = reportError(err, command.name, io);
    // A script reading --json gets an object it can parse even when the job failed.
    if (rest.includes('--json')) {
      const e = err as { code?: unknown; message?: unknown };
      const error = { code: typeof e.code === 'string' ? e.code : 'ERR_UNEXPECTED', message: String(e.message ?? err) };
      io.stdout.write(`${JSON.stringify({ error, exitCode: code })}\n`);
    }
    return code;
  }
}

/** Turn any thrown error into one clear line on stderr and an exit code. */
export function reportError(err: unknown, commandName: string, io: Io): number {
  const prefix = `pathmtu ${commandName}`;
  if (err instanceof UsageError || isParseArgsError(err)) {
    io.stderr.write(`${prefix}: ${(err as Error).message}\nRun 'pathmtu ${commandName} --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (err instanceof PermissionError || err instanceof PathMtuError) {
    io.stderr.write(`${prefix}: ${err.message}\n`);
    return EXIT_FAIL;
  }
  io.stderr.write(`${prefix}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAIL;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export { parseArgs };
