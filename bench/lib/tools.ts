// The tools the peer benchmark runs, each as a whole process inside the lab's client namespace:
// pathmtu (discover and trace, via bin/pathmtu.js so process start counts, as a user feels it) and
// the peers from Debian's packages. Each turns its tool's output into what the bench compares.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/index.js';
import type { Family } from '../../src/wire/facts.js';
import type { HopSense } from './scenarios.js';
import { dfPingSearch, type Exec } from './dfping.js';
import { parseNmapPathMtu, parseScamperTrace, parseTracepath, type BlackHoleReport, type HopReport } from './parse.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'pathmtu.js');

export type ToolId = 'pathmtu' | 'pathmtu-trace' | 'tracepath' | 'df-ping' | 'nmap' | 'scamper';
export type Role = 'discover' | 'trace';

/** What one run of a tool said, before the bench judges it. */
export interface ToolOutput {
  pmtu: number | null;
  /** Short text of the answer as the tool gave it ("1400", "1006 <= PMTU < 1492", "no answer"). */
  said: string;
  /** Probes sent, when the tool tells (or we counted them); null otherwise. */
  probes: number | null;
  /** Per-hop MTUs and black-hole location, for tools in the trace rows. */
  hops?: HopReport[];
  blackHole?: BlackHoleReport | null;
}

export interface ToolContext {
  host: string;
  family: Family;
  /** Run argv in the client namespace; throws TimedOut when the tool's time is up. */
  exec: Exec;
}

export interface Tool {
  id: ToolId;
  label: string;
  roles: Role[];
  families: Family[];
  /** What its per-hop MTU means (trace tools). */
  hopSense?: HopSense;
  /** Takes a minute or more when packets vanish: run once in black-hole scenarios. */
  slowInBlackHoles: boolean;
  /** Why it cannot run here (with the fix), or undefined when it can. */
  unavailable(): string | undefined;
  run(ctx: ToolContext): Promise<ToolOutput>;
}

export class TimedOut extends Error {
  constructor(readonly afterMs: number) {
    super(`timed out after ${Math.round(afterMs / 1000)} s`);
  }
}

/** Runs commands in the lab's client namespace, all of them within one deadline (TimedOut past it). */
export function deadlineExec(lab: Lab, timeoutMs: number): Exec {
  const deadline = performance.now() + timeoutMs;
  return async (argv) => {
    const left = deadline - performance.now();
    if (left <= 0) throw new TimedOut(timeoutMs);
    const r = await lab.exec('client', argv, { timeoutMs: Math.ceil(left) });
    if (performance.now() >= deadline) throw new TimedOut(timeoutMs);
    return r;
  };
}

function missing(binary: string, pkg: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
  return r.status === 0 ? undefined : `${binary} not installed: apt-get install -y ${pkg} (or scripts/system-deps.sh)`;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.slice(0, 80) ?? '';
}

interface DiscoverJson {
  pmtu: number | null;
  probes: number;
  lowerBound?: number;
  upperBound?: number;
}

const pathmtu: Tool = {
  id: 'pathmtu',
  label: 'pathmtu',
  roles: ['discover'],
  families: [4, 6],
  slowInBlackHoles: false,
  unavailable: () => undefined,
  async run({ host, family, exec }) {
    const r = await exec([process.execPath, CLI, host, `-${family}`, '--json']);
    let j: DiscoverJson;
    try {
      j = JSON.parse(r.stdout) as DiscoverJson;
    } catch {
      return { pmtu: null, said: `exit ${r.code}, no JSON: ${firstLine(r.stderr)}`, probes: null };
    }
    const said = j.pmtu !== null ? String(j.pmtu) : `no answer (${j.lowerBound ?? '?'}..${j.upperBound ?? '?'})`;
    return { pmtu: j.pmtu, said, probes: j.probes };
  },
};

interface TraceJson {
  pmtu: number | null;
  probes?: number;
  hops: Array<{ ttl: number; address: string | null; mtu: number | null }>;
  blackHole: { afterTtl: number; uncertain?: boolean; afterTtlMax?: number } | null;
}

const pathmtuTrace: Tool = {
  id: 'pathmtu-trace',
  label: 'pathmtu trace',
  roles: ['trace'],
  families: [4, 6],
  hopSense: 'reached', // src/trace/types.ts: "the largest packet that reaches it"
  slowInBlackHoles: false,
  unavailable: () => undefined,
  async run({ host, family, exec }) {
    const argv = [process.execPath, CLI, 'trace', host, `-${family}`, '-n', '--json'];
    const r = await exec(argv);
    let j: TraceJson;
    try {
      j = JSON.parse(r.stdout) as TraceJson;
    } catch {
      return { pmtu: null, said: `exit ${r.code}, no JSON: ${firstLine(r.stderr)}`, probes: null };
    }
    return {
      pmtu: j.pmtu,
      said: j.pmtu === null ? 'no answer' : String(j.pmtu),
      probes: j.probes ?? null,
      hops: (j.hops ?? []).map((h) => ({ ttl: h.ttl, address: h.address, mtu: h.mtu })),
      // A bracket is not a place: it counts as located only when pinned to one link.
      blackHole: j.blackHole ? { afterTtl: j.blackHole.uncertain ? -1 : j.blackHole.afterTtl } : null,
    };
  },
};

const tracepath: Tool = {
  id: 'tracepath',
  label: 'tracepath',
  roles: ['discover', 'trace'],
  families: [4, 6],
  hopSense: 'reached',
  slowInBlackHoles: true,
  unavailable: () => missing('tracepath', 'iputils-tracepath'),
  async run({ host, family, exec }) {
    const r = await exec(['tracepath', '-n', `-${family}`, host]);
    const t = parseTracepath(r.stdout);
    const said = t.pmtu === null ? `no answer: ${firstLine(r.stderr || r.stdout)}` : `${t.pmtu}${t.reached ? '' : ' (not reached)'}`;
    // tracepath never names a black hole: it has no way to tell one from a path that ends.
    return { pmtu: t.reached ? t.pmtu : null, said, probes: null, hops: t.hops, blackHole: null };
  },
};

const dfPing: Tool = {
  id: 'df-ping',
  label: 'DF-ping search',
  roles: ['discover'],
  families: [4, 6],
  slowInBlackHoles: false,
  unavailable: () => missing('ping', 'iputils-ping'),
  async run({ host, family, exec }) {
    const r = await dfPingSearch(exec, host, family);
    const said = r.pmtu === null ? (r.interfaceMtu === null ? 'no route/interface MTU' : 'no answer') : String(r.pmtu);
    return { pmtu: r.pmtu, said, probes: r.probes };
  },
};

const nmap: Tool = {
  id: 'nmap',
  label: 'nmap path-mtu',
  roles: ['discover'],
  families: [4], // path-mtu.nse's hostrule: "is IPv4 compatible only"
  slowInBlackHoles: false,
  unavailable: () => missing('nmap', 'nmap'),
  async run({ host, exec }) {
    // Not -sn: the script's hostrule needs a TCP port seen open or closed (or UDP closed) to probe;
    // a SYN scan of one closed port gives it a RST to wait for.
    const r = await exec(['nmap', '-n', '-Pn', '-sS', '-p', '80', '--script', 'path-mtu', host]);
    const n = parseNmapPathMtu(r.stdout);
    switch (n.kind) {
      case 'exact':
        return { pmtu: n.pmtu, said: String(n.pmtu), probes: null };
      case 'range':
        return { pmtu: null, said: `range ${n.low} <= PMTU < ${n.below}`, probes: null };
      case 'atLeast':
        return { pmtu: null, said: `PMTU >= ${n.low}`, probes: null };
      default:
        return { pmtu: null, said: `no answer (${n.why})`, probes: null };
    }
  },
};

const scamper: Tool = {
  id: 'scamper',
  label: 'scamper trace -M',
  roles: ['discover', 'trace'],
  families: [4, 6],
  hopSense: 'reached',
  slowInBlackHoles: true,
  unavailable: () => missing('scamper', 'scamper'),
  async run({ host, family, exec }) {
    // IPv6: scamper 20211212's default UDP-paris probes get no answer at all in our lab (every hop
    // '*', 50 s), and -M refuses ICMP; plain UDP works. IPv4 keeps the default, as in DESIGN.md.
    const command = family === 6 ? 'trace -M -P udp' : 'trace -M';
    const r = await exec(['scamper', '-c', command, '-i', host]);
    const s = parseScamperTrace(r.stdout);
    const said = s.pmtu === null ? `no answer: ${firstLine(r.stderr || r.stdout)}` : String(s.pmtu);
    return { pmtu: s.pmtu, said, probes: null, hops: s.hops, blackHole: s.blackHole };
  },
};

export const TOOLS: Tool[] = [pathmtu, tracepath, dfPing, nmap, scamper, pathmtuTrace];
