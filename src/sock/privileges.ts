// Giving up root once the sockets are open, as ping does (seed 003; iputils since 2001): started
// through sudo, a command that needs root only to open raw sockets keeps the open sockets and runs
// the rest of its work — decoding every packet that reaches those sockets, resolving names,
// printing — as the user who ran sudo. Once dropped, root cannot come back (real, effective and
// saved ids all change, and the kernel clears the capabilities).
//
// The library never changes the process's identity on its own: discover/trace/ping call an
// `onSocketsOpen` hook, and the CLI passes dropPrivileges there.
import { SystemCallError, UsageError } from '../errors.js';

export interface UserIds {
  uid: number;
  gid: number;
}

/** The ids the process runs with now (for output that says who ran the probing). */
export interface RunningAs extends UserIds {
  groups: number[];
}

/**
 * The user to become: SUDO_UID/SUDO_GID when this process runs as root (euid 0) and sudo set them
 * for someone other than root; null when there is nobody to drop to. Malformed values are refused
 * rather than guessed at.
 */
export function sudoUser(env: NodeJS.ProcessEnv): UserIds | null {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) return null;
  const { SUDO_UID: u, SUDO_GID: g } = env;
  if (u === undefined && g === undefined) return null;
  const id = (name: string, v: string | undefined): number => {
    // 2^32-1 is (uid_t)-1, "no change" to setresuid: never a real user.
    if (v === undefined || !/^\d{1,10}$/.test(v) || Number(v) >= 0xffffffff) {
      throw new UsageError(`${name}=${v === undefined ? '(unset)' : `'${v}'`} is not a user or group id: cannot give up root for the user who ran sudo`);
    }
    return Number(v);
  };
  const ids = { uid: id('SUDO_UID', u), gid: id('SUDO_GID', g) };
  return ids.uid === 0 ? null : ids;
}

/**
 * Become `to` for good: no supplementary groups, then the group, then the user (in that order: the
 * group and groups can only be changed while still root). Throws SystemCallError when the kernel
 * refuses (e.g. an id not mapped in this user namespace), and if any id did not take.
 */
export function dropPrivileges(to: UserIds): void {
  const step = (syscall: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new SystemCallError(syscall, typeof e.errno === 'number' ? e.errno : 1, `cannot give up root for uid ${to.uid} gid ${to.gid}`);
    }
  };
  step('setgroups', () => process.setgroups!([]));
  step('setgid', () => process.setgid!(to.gid));
  step('setuid', () => process.setuid!(to.uid));
  const now = runningAs();
  if (now.uid !== to.uid || process.geteuid!() !== to.uid || now.gid !== to.gid || process.getegid!() !== to.gid || now.groups.some((g) => g !== to.gid)) {
    throw new SystemCallError('setuid', 1, `still running as ${JSON.stringify(now)} after giving up root`);
  }
}

/** The process's real uid and gid and its groups (Node includes the effective gid in groups). */
export function runningAs(): RunningAs {
  return { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
}

/**
 * What a CLI command adds for sudo: `hook` (the onSocketsOpen option that gives up root for the user
 * who ran sudo; empty when not root through sudo) and, for --json, `report()` — `{ runAs }` with the
 * ids the process ran as once it had given up root, or nothing when it did not.
 */
export function sudoDrop(env: NodeJS.ProcessEnv): { hook: { onSocketsOpen?: () => void }; report(): { runAs?: RunningAs } } {
  const to = sudoUser(env);
  let dropped = false;
  if (to === null) return { hook: {}, report: () => ({}) };
  return {
    hook: {
      onSocketsOpen: () => {
        dropPrivileges(to);
        dropped = true;
      },
    },
    report: () => (dropped ? { runAs: runningAs() } : {}),
  };
}
