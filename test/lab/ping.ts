// iputils ping run inside a lab node, its output reduced to what the tests ask about.
import type { Lab } from '../../src/lab/lab.js';
import type { Family } from '../../src/wire/facts.js';

export interface PingResult {
  received: number;
  /** A router's frag-needed / packet-too-big, as ping printed it. */
  tooBig?: { from: string; mtu: number };
  /** The local stack refused the size ("message too long"). */
  localMtu?: number;
  output: string;
}

/** Header bytes ping adds to -s: IP + ICMP echo. */
export const PING_OVERHEAD: Record<Family, number> = { 4: 28, 6: 48 };

/**
 * Ping `to` from `node` with whole IP packets of `size` bytes, DF set (-M do; this iputils has no
 * -M probe). A PTB is cached by the kernel, after which bigger sizes fail locally: probe the size
 * that fits before the one that does not.
 */
export async function ping(
  lab: Lab,
  node: string,
  family: Family,
  to: string,
  size: number,
  opts: { count?: number; ttl?: number; waitS?: number } = {},
): Promise<PingResult> {
  const count = opts.count ?? 1;
  const argv = ['ping', `-${family}`, '-n', '-c', String(count), '-i', '0.05', '-W', String(opts.waitS ?? 0.5)];
  argv.push('-M', 'do', '-s', String(size - PING_OVERHEAD[family]));
  if (opts.ttl !== undefined) argv.push('-t', String(opts.ttl));
  argv.push(to);
  const r = await lab.exec(node, argv, { timeoutMs: 15_000 });
  const output = r.stdout + r.stderr;
  const received = Number(/(\d+) received/.exec(output)?.[1] ?? 0);
  const res: PingResult = { received, output };
  const tb = /From (\S+) icmp_seq=\d+ (?:Frag needed and DF set \(mtu = (\d+)\)|Packet too big: mtu=(\d+))/.exec(output);
  if (tb) res.tooBig = { from: tb[1], mtu: Number(tb[2] ?? tb[3]) };
  const local = /message too long, mtu[=:] ?(\d+)/i.exec(output);
  if (local) res.localMtu = Number(local[1]);
  return res;
}
