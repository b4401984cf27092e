// The seeds' method, as a peer to measure against: a sequential binary search with one DF ping at a
// time (iputils `ping -M do -c 1 -W 1 -s <payload>`), between the family's floor and the outgoing
// interface's MTU. Each probe is a whole `ping` process; a lost or refused probe costs up to 1 s.
import type { Family } from '../../src/wire/facts.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
export type Exec = (argv: string[]) => Promise<Run>;

export interface DfPingResult {
  pmtu: number | null;
  /** ping processes started (each sends one echo request). */
  probes: number;
  interfaceMtu: number | null;
  tried: Array<{ size: number; ok: boolean }>;
}

const FLOOR: Record<Family, number> = { 4: 68, 6: 1280 };
/** IPv4 20 + ICMP 8, IPv6 40 + ICMPv6 8: ping's -s is the payload after these. */
const HEADERS: Record<Family, number> = { 4: 28, 6: 48 };

/** The MTU of the interface the route to host leaves by, read with iproute2 where exec runs. */
export async function routeInterfaceMtu(exec: Exec, host: string): Promise<number | null> {
  const route = await exec(['ip', '-o', 'route', 'get', host]);
  const dev = /\bdev (\S+)/.exec(route.stdout)?.[1];
  if (dev === undefined) return null;
  const link = await exec(['ip', '-o', 'link', 'show', 'dev', dev]);
  const mtu = /\bmtu (\d+)/.exec(link.stdout)?.[1];
  return mtu === undefined ? null : Number(mtu);
}

/** Largest size (whole IP packet) that one DF ping gets an answer for, by bisection. */
export async function dfPingSearch(exec: Exec, host: string, family: Family): Promise<DfPingResult> {
  const interfaceMtu = await routeInterfaceMtu(exec, host);
  const tried: DfPingResult['tried'] = [];
  const ping = async (size: number): Promise<boolean> => {
    const r = await exec(['ping', '-n', `-${family}`, '-M', 'do', '-c', '1', '-W', '1', '-s', String(size - HEADERS[family]), host]);
    tried.push({ size, ok: r.code === 0 });
    return r.code === 0;
  };
  if (interfaceMtu === null) return { pmtu: null, probes: 0, interfaceMtu, tried };
  // Invariant: every size <= lo is assumed to pass (the floor must), every size > hi fails.
  let lo = FLOOR[family];
  let hi = interfaceMtu;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await ping(mid)) lo = mid;
    else hi = mid - 1;
  }
  // Nothing above the floor answered: check the floor itself rather than assume it.
  const anyOk = tried.some((t) => t.ok);
  const pmtu = anyOk || (await ping(lo)) ? lo : null;
  return { pmtu, probes: tried.length, interfaceMtu, tried };
}
