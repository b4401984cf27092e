// Loads the native binding and types its surface. Every native call returns a negative errno on
// failure; check() turns that into SystemCallError.
//
// Where the binary comes from (node-gyp-build's rules, in order): build/Release/ (a source build,
// `npm run build:native`), then prebuilds/<platform>-<arch>/ shipped in the package (linux-x64 and
// linux-arm64, glibc, one Node-API version for every Node >= 20). No install script runs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { nameErrnos, NativeUnavailableError, SystemCallError } from '../errors.js';
import { packageRoot } from '../package.js';

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

// A require bound to this file (not the bare global, which a bundler would try to resolve itself).
const require = createRequire(import.meta.url);

interface NodeGypBuild {
  (dir: string): unknown;
  /** The file load() would require; throws when no build or prebuild fits this platform. */
  resolve(dir: string): string;
}

/** The platforms a prebuilt binary ships for (scripts/prebuild.mjs builds them). */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64'] as const;

/** This process's platform as the loader matches it: node-gyp-build honours npm_config_arch and LIBC. */
function platformName(): string {
  const os = `${process.platform}-${process.env.npm_config_arch || process.arch}`;
  if (process.platform !== 'linux') return os;
  return `${os} (${libcName()})`;
}

function libcName(): string {
  if (process.env.LIBC) return process.env.LIBC;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : existsSync('/etc/alpine-release') ? 'musl' : 'a libc other than glibc';
}

function fromSource(root: string): string {
  return (
    `To build it from source (a C++ compiler, make and python3 needed): cd '${root}' && npm run build:native`
  );
}

/**
 * Load the binding from the package at `root` (default: this package). Throws
 * NativeUnavailableError, naming the platform and the way out, when no binary fits or loads.
 */
export function loadNative(root: string = packageRoot()): NativeBinding {
  // The platform's name is for the error messages only: finding the libc asks for a whole
  // diagnostic report (process.report.getReport(), 5-10 ms, as much as the rest of a loopback run).
  if (process.platform !== 'linux') {
    const platform = platformName();
    throw new NativeUnavailableError(
      `pathmtu works on Linux only (this is ${platform}): it relies on Linux socket options ` +
        `(IP_RECVERR error queues, IP_PMTUDISC_PROBE) that other systems do not have`,
      platform,
    );
  }
  const load = require('node-gyp-build') as NodeGypBuild;
  let file: string;
  try {
    file = load.resolve(root);
  } catch (err) {
    const platform = platformName();
    const shipped = PREBUILT_PLATFORMS.some((p) => platform === `${p} (glibc)`);
    const why = shipped
      ? `neither ${root}/prebuilds nor ${root}/build holds one (an incomplete install, or a checkout not built yet)`
      : `prebuilt binaries ship for ${PREBUILT_PLATFORMS.join(' and ')} (glibc) only`;
    throw new NativeUnavailableError(`no native binding for ${platform}: ${why}. ${fromSource(root)}`, platform, {
      cause: err,
    });
  }
  try {
    return require(file) as NativeBinding;
  } catch (err) {
    const platform = platformName();
    const why = String((err as Error).message ?? err).split('\n')[0];
    throw new NativeUnavailableError(
      `the native binding ${file} does not load on ${platform}: ${why}. ${fromSource(root)}`,
      platform,
      { cause: err },
    );
  }
}

let loaded: NativeBinding | undefined;

/** The binding, loaded on first use so that pure modules never need it. */
export function native(): NativeBinding {
  if (loaded === undefined) {
    loaded = loadNative();
    nameErrnos({ EHOSTDOWN: loaded.constants.EHOSTDOWN!, ENONET: loaded.constants.ENONET! });
  }
  return loaded;
}

/** Constant from the system headers, e.g. c('IP_MTU_DISCOVER'). Throws on a typo. */
export function c(name: string): number {
  const v = native().constants[name];
  if (v === undefined) {
    // A typo, or a checkout's build/Release compiled before native/binding.cc exported the name.
    throw new Error(`unknown native constant ${name} (a build older than native/binding.cc? npm test, or npm run build:native, rebuilds it)`);
  }
  return v;
}

/** Throw SystemCallError for a negative return; pass other values through. */
export function check<T>(syscall: string, result: T | number): T {
  if (typeof result === 'number' && result < 0) throw new SystemCallError(syscall, -result);
  return result as T;
}
