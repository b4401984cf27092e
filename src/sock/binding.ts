// Loads the native binding (built by node-gyp at install, or a prebuild) and types its surface.
// Every native call returns a negative errno on failure; check() turns that into SystemCallError.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SystemCallError } from '../errors.js';

export interface RecvResult {
  data: Buffer;
  /** Real datagram length (may exceed data.length when truncated). */
  length: number;
  /** Raw sockaddr of the sender (for MSG_ERRQUEUE: the original destination). */
  name: Buffer;
  flags: number;
  control: Array<{ level: number; type: number; data: Buffer }>;
}

export interface NativePoller {
  start(events: number): number;
  stop(): number;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface NativeBinding {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  bind(fd: number, sockaddr: Buffer): number;
  connect(fd: number, sockaddr: Buffer): number;
  setsockopt(fd: number, level: number, name: number, value: number | Buffer): number;
  getsockopt(fd: number, level: number, name: number, maxLength: number): Buffer | number;
  getsockname(fd: number): Buffer | number;
  sendmsg(
    fd: number,
    data: Buffer,
    sockaddr: Buffer | null,
    control: Array<[number, number, Buffer]> | null,
    flags?: number,
  ): number;
  recvmsg(fd: number, maxData: number, maxControl: number, flags: number): RecvResult | number;
  setns(fd: number, nstype: number): number;
  ifNameToIndex(name: string): number;
  Poller: new (fd: number, callback: (status: number, events: number) => void) => NativePoller;
  constants: Record<string, number>;
}

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

let loaded: NativeBinding | undefined;

/** The binding, loaded on first use so that pure modules never need it. */
export function native(): NativeBinding {
  if (loaded === undefined) {
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    loaded = load(root);
  }
  return loaded;
}

/** Constant from the system headers, e.g. c('IP_MTU_DISCOVER'). Throws on a typo. */
export function c(name: string): number {
  const v = native().constants[name];
  if (v === undefined) throw new Error(`unknown native constant ${name}`);
  return v;
}

/** Throw SystemCallError for a negative return; pass other values through. */
export function check<T>(syscall: string, result: T | number): T {
  if (typeof result === 'number' && result < 0) throw new SystemCallError(syscall, -result);
  return result as T;
}
