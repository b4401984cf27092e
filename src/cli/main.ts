// pathmtu command line: dispatch to a subcommand; `pathmtu <host>` means `pathmtu discover <host>`.
import { parseArgs } from 'node:util';
import { PathMtuError, UsageError } from '../errors.js';
import { EXIT_FAIL, EXIT_USAGE, type Command, type Io, type ParseArgsOptionsConfig } from './command.js';
import { flagNamer } from './flags.js';
import { commands, type CommandEntry } from './commands/index.js';
import { packageVersion } from '../package.js';

const VERSION = packageVersion();

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `pathmtu — find, map, explain and test path MTUs (IPv4 and IPv6)

Usage:
  pathmtu <host> [options]          same as: pathmtu discover <host>
  pathmtu <host>... [-f FILE]       several targets (hosts, prefixes, lists): one table
  pathmtu <command> [options]

Commands:
${lines.join('\n')}

Options may come before or after the host or command: pathmtu -6 --method udp <host>.
Run 'pathmtu <command> --help' for a command's options and examples.
Sizes are whole IP packet sizes (IP header included) unless an option says otherwise.
`;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === 'help' && argv[1] !== undefined) {
      const sub = commands.find((c) => c.name === argv[1]);
      if (sub === undefined) return usageFailure(`no command '${argv[1]}' (commands: ${commands.map((c) => c.name).join(', ')})`, 'pathmtu', argv, io);
      io.stdout.write((await sub.load()).help);
      return 0;
    }
    io.stdout.write(topHelp());
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`pathmtu ${VERSION}\n`);
    return 0;
  }
  const found = await findCommand(argv);
  if (typeof found === 'string') return usageFailure(found, 'pathmtu', argv, io);
  const { command, rest, implied } = found;
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // `pathmtu --frobnicate`: no command was named, so do not blame discover for the option.
    if (implied && isParseArgsError(err)) return usageFailure(parseArgsMessage(err as Error), 'pathmtu', rest, io);
    const code = reportError(err, command.name, io, command.flags);
    if (wantsJson(rest)) writeJsonError(err, code, io, command.flags);
    return code;
  }
}

/**
 * The command named in argv and the arguments it gets. Options may come first, as with ping and
 * tracepath (`pathmtu -6 --method udp host`, `pathmtu --json trace host`): the first word that is
 * not an option or an option's value names the command, else it is discover's <host>. Which
 * options take a value is read from every command's parseArgs options, so `-m udp` skips `udp`.
 */
async function findCommand(argv: string[]): Promise<{ command: Command; rest: string[]; implied: boolean } | string> {
  const byName = (name: string): CommandEntry | undefined => commands.find((c) => c.name === name);
  const named = byName(argv[0]!);
  if (named) return { command: await named.load(), rest: argv.slice(1), implied: false };
  const discover = byName('discover')!;
  if (!argv[0]!.startsWith('-')) {
    if (!/[.:]|^[a-z0-9-]+$/i.test(argv[0]!)) return `unknown command or option '${argv[0]}'`;
    return { command: await discover.load(), rest: argv, implied: false };
  }
  const all = await Promise.all(commands.map((c) => c.load()));
  const union: ParseArgsOptionsConfig = Object.assign({}, ...all.map((c) => c.options));
  const { tokens } = parseArgs({ args: argv, options: union, strict: false, allowPositionals: true, tokens: true });
  const word = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (word?.kind === 'positional') {
    const entry = byName(word.value);
    if (entry) return { command: await entry.load(), rest: argv.filter((_, i) => i !== word.index), implied: false };
  }
  // A host was given (or nothing was): discover; without a positional, only options were typed.
  return { command: await discover.load(), rest: argv, implied: word?.kind !== 'positional' };
}

/** --json anywhere among the arguments: errors are printed as JSON too (on stdout, besides stderr's line). */
function wantsJson(argv: string[]): boolean {
  return argv.includes('--json');
}

function usageFailure(message: string, prefix: string, argv: string[], io: Io): number {
  io.stderr.write(`${prefix}: ${message}\nRun 'pathmtu --help' for usage.\n`);
  if (wantsJson(argv)) writeJsonError(new UsageError(message), EXIT_USAGE, io);
  return EXIT_USAGE;
}

/** A script reading --json gets an object it can parse even when the job failed. */
function writeJsonError(err: unknown, exitCode: number, io: Io, flags?: Record<string, string>): void {
  const e = err as { code?: unknown; message?: unknown };
  const code = isParseArgsError(err) ? 'ERR_USAGE' : typeof e.code === 'string' ? e.code : 'ERR_UNEXPECTED';
  const error = { code, message: messageOf(err, flags) };
  io.stdout.write(`${JSON.stringify({ error, exitCode })}\n`);
}

/** Turn any thrown error into one clear line on stderr and an exit code. */
export function reportError(err: unknown, commandName: string, io: Io, flags?: Record<string, string>): number {
  const prefix = `pathmtu ${commandName}`;
  const text = messageOf(err, flags);
  if (err instanceof UsageError || isParseArgsError(err)) {
    io.stderr.write(`${prefix}: ${text}\nRun 'pathmtu ${commandName} --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (err instanceof PathMtuError) {
    io.stderr.write(`${prefix}: ${text}\n`);
    return EXIT_FAIL;
  }
  io.stderr.write(`${prefix}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAIL;
}

/** The message in the CLI's terms: library options named as flags, parseArgs' wording shortened. */
function messageOf(err: unknown, flags?: Record<string, string>): string {
  if (err instanceof PathMtuError) return err.describe(flagNamer(flags));
  if (isParseArgsError(err)) return parseArgsMessage(err as Error);
  return String((err as { message?: unknown } | null)?.message ?? err);
}

/** "Unknown option '-x'. To specify a positional argument starting with a '-', …" -> "Unknown option '-x'". */
function parseArgsMessage(err: Error): string {
  const unknown = /^Unknown option '([^']*)'/.exec(err.message);
  return unknown ? `Unknown option '${unknown[1]}'` : err.message;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export { parseArgs };
