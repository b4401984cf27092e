// Readers for the peers' text output. Each returns what the tool said, in the bench's terms:
// a path MTU (or a range), and per hop the largest packet that reached it.

/** One hop as a tool reports it: `mtu` is the largest packet that reached this hop (scamper's and tracepath's sense). */
export interface HopReport {
  ttl: number;
  address: string | null;
  mtu: number | null;
}

/** Where a tool says large packets vanish: after hop `afterTtl` (which still answers) and before the next. */
export interface BlackHoleReport {
  afterTtl: number;
}

export interface TracepathReport {
  pmtu: number | null;
  reached: boolean;
  hops: HopReport[];
}

/**
 * iputils tracepath: "N?: [LOCALHOST] pmtu 1500" gives the start, a hop line "N: addr 0.1ms pmtu 1400"
 * is a PTB from addr (the MTU changes from there on), "Resume: pmtu N" the final answer.
 */
export function parseTracepath(out: string): TracepathReport {
  let current: number | null = null;
  const hops = new Map<number, HopReport>();
  let pmtu: number | null = null;
  let reached = false;
  for (const line of out.split('\n')) {
    const resume = /Resume: pmtu (\d+)/.exec(line);
    if (resume) {
      pmtu = Number(resume[1]);
      continue;
    }
    const m = /^\s*(\d+)(\??):\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const ttl = Number(m[1]);
    const said = /pmtu (\d+)/.exec(m[4]);
    if (said) current = Number(said[1]);
    if (m[3] === '[LOCALHOST]') continue;
    if (/reached/.test(m[4])) reached = true;
    const address = m[3] === 'no' ? null : m[3];
    const prev = hops.get(ttl);
    // A PTB line names the router that sent it, not necessarily hop ttl: prefer a plain reply's address.
    const keepPrev = prev?.address != null && said !== null;
    hops.set(ttl, { ttl, address: keepPrev ? prev!.address : (address ?? prev?.address ?? null), mtu: current });
  }
  return { pmtu, reached, hops: [...hops.values()].sort((a, b) => a.ttl - b.ttl) };
}

export interface ScamperReport {
  destination: string | null;
  /** The MTU shown at the hop that is the destination; null when the destination never answered. */
  pmtu: number | null;
  hops: HopReport[];
  blackHole: BlackHoleReport | null;
}

/**
 * scamper trace -M text output: "N  addr  rtt ms [mtu: M]". "[*mtu: M]" means the size M reached the
 * hop but no router said so (scamper printed the size it inferred, not a PTB's MTU): the first such hop
 * is the first one beyond a black hole.
 */
export function parseScamperTrace(out: string): ScamperReport {
  const destination = /^traceroute from \S+ to (\S+)/m.exec(out)?.[1] ?? null;
  const hops: HopReport[] = [];
  let blackHole: BlackHoleReport | null = null;
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const ttl = Number(m[1]);
    const mtu = /\[(\*?)mtu: (\d+)/.exec(m[3]);
    if (mtu?.[1] === '*' && blackHole === null) blackHole = { afterTtl: ttl - 1 };
    hops.push({ ttl, address: m[2] === '*' ? null : m[2], mtu: mtu ? Number(mtu[2]) : null });
  }
  const last = hops.find((h) => h.address !== null && h.address === destination);
  return { destination, pmtu: last?.mtu ?? null, hops, blackHole };
}

export type NmapReport =
  | { kind: 'exact'; pmtu: number }
  | { kind: 'range'; low: number; below: number }
  | { kind: 'atLeast'; low: number }
  | { kind: 'none'; why: string };

/** nmap's path-mtu.nse: "PMTU == N", "A <= PMTU < B" or "PMTU >= N"; nothing when it did not run or got no reply. */
export function parseNmapPathMtu(out: string): NmapReport {
  const line = /path-mtu: (.*)$/m.exec(out)?.[1]?.trim();
  if (line === undefined) return { kind: 'none', why: /Host seems down/.test(out) ? 'host seems down' : 'script printed nothing' };
  let m = /^PMTU == (\d+)/.exec(line);
  if (m) return { kind: 'exact', pmtu: Number(m[1]) };
  m = /^(\d+) <= PMTU < (\d+)/.exec(line);
  if (m) return { kind: 'range', low: Number(m[1]), below: Number(m[2]) };
  m = /^PMTU >= (\d+)/.exec(line);
  if (m) return { kind: 'atLeast', low: Number(m[1]) };
  return { kind: 'none', why: line };
}
