// One error hierarchy for the whole package, with stable string codes (undici's pattern).
// Every layer throws these; the CLI maps them to messages and exit codes.
import { constants as osConstants } from 'node:os';

/**
 * How a message names an option of the caller's: the library says `max 1400` (its own option
 * names), the CLI `--max 1400` (its flags). `value` is shown with the name when given.
 */
export type NameOption = (option: string, value?: string | number) => string;

/** The library's own naming: the option's name as in the options object, then the value. */
export const libraryName: NameOption = (option, value) => (value === undefined ? option : `${option} ${value}`);

/** A message, or a message that names options through `name` so a front end can speak its terms. */
export type ErrorText = string | ((name: NameOption) => string);

export class PathMtuError extends Error {
  readonly code: string;
  readonly #text: ErrorText;
  constructor(message: ErrorText, code: string, options?: { cause?: unknown }) {
    super(typeof message === 'string' ? message : message(libraryName), options);
    this.name = new.target.name;
    this.code = code;
    this.#text = message;
  }

  /** The message with options named by `name`: the CLI passes its flag names (see src/cli/flags.ts). */
  describe(name: NameOption): string {
    return typeof this.#text === 'string' ? this.message : this.#text(name);
  }
}

/** Truncated, malformed or hostile bytes. Decoders throw only this (never RangeError). */
export class DecodeError extends PathMtuError {
  readonly offset: number;
  readonly what: string;
  constructor(what: string, message: string, offset = 0) {
    super(`cannot decode ${what}: ${message}`, 'ERR_DECODE');
    this.what = what;
    this.offset = offset;
  }
}

/** Bad arguments from a library caller or the command line. The CLI exits 2 on these. */
export class UsageError extends PathMtuError {
  constructor(message: ErrorText) {
    super(message, 'ERR_USAGE');
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value as number, name]),
);

/** Teach errnoName names Node's table lacks (EHOSTDOWN, ENONET: the binding has them from the headers). */
export function nameErrnos(names: Record<string, number>): void {
  for (const [name, value] of Object.entries(names)) if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Name of a positive errno value, e.g. 90 -> 'EMSGSIZE'. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A failed system call, shaped like Node's own (code, errno, syscall). errno is negative, as in Node. */
export class SystemCallError extends PathMtuError {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, hint?: string) {
    const code = errnoName(errno);
    super(`${syscall} failed: ${code}${hint ? ` — ${hint}` : ''}`, code);
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
  }
}

/** Raised instead of a bare EPERM/EACCES when a method needs a privilege; says the way out. */
export class PermissionError extends PathMtuError {
  readonly needed: string;
  constructor(what: string, needed: string, wayOut: ErrorText) {
    super((name) => `${what} needs ${needed}. ${typeof wayOut === 'string' ? wayOut : wayOut(name)}`, 'ERR_PERMISSION');
    this.needed = needed;
  }
}

/** A host name that does not resolve, or an address of the wrong family. */
export class ResolveError extends PathMtuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_RESOLVE', options);
  }
}

/** The operation was aborted through its AbortSignal. */
export class AbortError extends PathMtuError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(message, 'ABORT_ERR', options);
  }
}

/** The lab could not be built (not root, missing tools, kernel refused). */
export class LabError extends PathMtuError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_LAB', options);
  }
}

/**
 * The native binding cannot be loaded here: another OS, a libc or CPU without a prebuilt binary,
 * or a source build that is missing or broken. The message names the platform and the way out.
 */
export class NativeUnavailableError extends PathMtuError {
  /** e.g. 'linux-riscv64 (glibc)', 'darwin-arm64'. */
  readonly platform: string;
  constructor(message: string, platform: string, options?: { cause?: unknown }) {
    super(message, 'ERR_NATIVE_UNAVAILABLE', options);
    this.platform = platform;
  }
}
