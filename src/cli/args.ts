// Strict parsing of option values shared by the subcommands: a bad number is a usage error with
// the option's name, never NaN carried into a probe.
import { UsageError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { portOf } from '../sock/resolve.js';

export function parseInteger(option: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text.trim())) throw new UsageError(`${option} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${option} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** Seconds as typed (`0.5`, `2`) to whole milliseconds: from 0.001 s (1 ms) to maxSeconds. */
export function parseSeconds(option: string, text: string | undefined, maxSeconds: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new UsageError(`${option} must be a number of seconds, got '${text}'`);
  const s = Number(text);
  const ms = Math.round(s * 1000);
  if (ms < 1 || s > maxSeconds) throw new UsageError(`${option} must be from 0.001 to ${maxSeconds} seconds, got ${text.trim()}`);
  return ms;
}

/** The -4 / -6 options every probing command takes (spread into parseArgs options). */
export const FAMILY_FLAGS = {
  '4': { type: 'boolean', short: '4' },
  '6': { type: 'boolean', short: '6' },
} as const;

/** -4 / -6 flags to a family; both at once is a usage error. */
export function familyFlags(v4: boolean | undefined, v6: boolean | undefined): Family | undefined {
  if (v4 && v6) throw new UsageError('-4 and -6 exclude each other');
  return v4 ? 4 : v6 ? 6 : undefined;
}

export function onePositional(positionals: string[], what: string, example: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${what}, e.g. ${example}`);
  if (positionals.length > 1) throw new UsageError(`expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/**
 * A host typed with a port (127.0.0.1:80, [::1]:80) to a command that takes none: a usage error
 * that says what to do instead (`hint`), before anything is looked up.
 */
export function hostWithoutPort(text: string, command: string, hint: (port: number, host: string) => string): string {
  const p = portOf(text.trim());
  if (p !== undefined) throw new UsageError(`'${text}' has a port, and ${command} takes a host alone: ${hint(p.port, p.host)}`);
  return text;
}
