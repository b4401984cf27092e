// Reading the host as this process sees it: /proc/sys (which follows the network namespace of the
// reading thread), /proc/thread-self, and other tools' own machine-readable output. Every sysctl
// under net/ is per network namespace, so doctor reports the namespace it ran in.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** A sysctl by its dotted name, trimmed; undefined when it does not exist (e.g. IPv6 disabled at boot). */
export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Effective capability set of this thread (bit numbers per linux/capability.h). */
export function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export const CAP_NET_ADMIN = 12n;
export const CAP_NET_RAW = 13n;

export function hasCap(caps: bigint | undefined, bit: bigint): boolean | undefined {
  return caps === undefined ? undefined : ((caps >> bit) & 1n) === 1n;
}

/** The network namespace this thread is in: its inode, and its `ip netns` name when it has one. */
export function currentNetns(): { inode: number; name: string | null } {
  const inode = statSync('/proc/thread-self/ns/net').ino;
  let name: string | null = null;
  try {
    for (const n of readdirSync('/run/netns')) {
      try {
        if (statSync(`/run/netns/${n}`).ino === inode) {
          name = n;
          break;
        }
      } catch {
        // a namespace file we may not stat
      }
    }
  } catch {
    // no named namespaces
  }
  return { inode, name };
}

/** Addresses on interfaces (IPv6), from /proc/thread-self/net/if_inet6: [address hex, device]. */
export function ipv6Addresses(): Array<{ hex: string; device: string }> | undefined {
  try {
    return readFileSync('/proc/thread-self/net/if_inet6', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 6)
      .map((f) => ({ hex: f[0]!, device: f[5]! }));
  } catch {
    return undefined;
  }
}

export interface ToolResult {
  /** False when the tool is not installed. */
  found: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a tool (no shell) and collect its output; never throws. The child is forked from this
 * thread, so it runs in the network namespace this thread is in.
 */
export function runTool(file: string, args: string[], timeoutMs = 5000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && e.code === 'ENOENT') {
        resolve({ found: false, code: 127, stdout: '', stderr: '' });
        return;
      }
      const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
      resolve({ found: true, code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The tool by name, searched in PATH and the sbin directories a non-root PATH often lacks. */
export function toolPath(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      if (statSync(`${d}/${name}`).isFile()) return `${d}/${name}`;
    } catch {
      // not there
    }
  }
  return name;
}
