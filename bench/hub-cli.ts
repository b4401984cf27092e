// Many targets as a user runs them, whole processes on issue 8's hub (1,000 targets per family, 10%
// behind a router that drops its PTBs): `pathmtu -f list` beside a loop of single `pathmtu <t>`
// runs, scamper `trace -M` over the same list at the same packet rate, and nmap's path-mtu script
// over it (`-iL`, IPv4 only). Every run gets a fresh hub: the client's kernel caches each PMTU it
// learns for 10 minutes and the routers' ICMP budgets carry over, either of which would hand the
// next tool an answer (or a silence). Wall time of the whole process, medians of the reps; answers
// checked against the hub's truth; pathmtu's peak RSS (GNU time) and the most sockets it held at
// once (sampled from /proc every 10 ms, stdio excluded).
//
// npm run bench -- --only hub [--quick] [--reps N]    (bench/hub.ts calls runHubCliBench)
import { mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub } from '../src/lab/hub.js';
import type { HubSpec, HubTarget } from '../src/lab/hub-spec.js';
import { collect } from '../src/lab/netns.js';
import type { Family } from '../src/wire/facts.js';
import { parseNmapPathMtu, parseScamperTrace } from './lib/parse.js';
import { median, seconds } from './lib/stats.js';
import { table } from './lib/table.js';
import { ROOT } from './lib/tools.js';
import { spawnSync } from 'node:child_process';

const CLI = join(ROOT, 'bin', 'pathmtu.js');
const TIME = '/usr/bin/time';

export interface HubCliOptions {
  /** Targets per family (default 1000). */
  targets?: number;
  /** Runs of each tool per family, each on a fresh hub (default 3). */
  reps?: number;
  /** Runs of the slow peers (scamper, nmap) per family (default 1: minutes each). */
  peerReps?: number;
  /** Packets per second for pathmtu (--rate) and scamper (-p; scamper allows 1 to 10000). Default 10000. */
  ratePps?: number;
  /** Single `pathmtu <t>` runs in the loop, extrapolated to every target (default 50). */
  loopSample?: number;
  /**
   * Longest a run may take (default 300 s): past it, the tool is killed, its time is a lower bound
   * and only what it printed before counts (nmap prints per host group; over 1,000 targets it runs
   * every host's path-mtu.nse with a pcap of all ICMP to the client, and takes far longer).
   */
  timeoutMs?: number;
  families?: Family[];
  spec?: HubSpec;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
}

type ToolName = 'pathmtu -f' | 'pathmtu loop' | 'scamper' | 'nmap';

interface Run {
  wallMs: number;
  timedOut: boolean;
  /** Answers equal to the hub's truth (pathmtu: and exact), and how many were checked. */
  right: number;
  checked: number;
  wrong: string[];
  rssKb?: number;
  sockets?: number;
  /** The loop: measured on a sample, wall time scaled to every target. */
  extrapolatedFrom?: number;
}

function missing(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status !== 0;
}

/** Most socket fds (3 and up: stdio excluded) a process holds, sampled until stop() is called. */
function socketSampler(parentPid: number): { stop(): number } {
  let peak = 0;
  let pid: number | undefined;
  const sample = (): void => {
    try {
      // The process under /usr/bin/time is its only child.
      pid ??= Number(readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
      if (pid === undefined) return;
      let n = 0;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (Number(fd) < 3) continue;
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
        } catch {
          // closed meanwhile
        }
      }
      peak = Math.max(peak, n);
    } catch {
      // not started yet, or gone
    }
  };
  const timer = setInterval(sample, 10);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * Run argv in the hub's client namespace under GNU time: output, wall time, peak RSS, peak sockets.
 * Its own process group, killed as a whole at the deadline: killing GNU time alone would leave the
 * tool running (and holding the output pipes open).
 */
async function timed(hub: Hub, argv: string[], timeoutMs: number, dir: string): Promise<{ code: number; stdout: string; stderr: string; wallMs: number; timedOut: boolean; rssKb?: number; sockets: number }> {
  const rssFile = join(dir, `rss-${process.pid}-${Date.now()}`);
  const t0 = performance.now();
  const child = hub.spawn('client', [TIME, '-o', rssFile, '-f', '%M', ...argv], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const sampler = socketSampler(child.pid!);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  const r = await collect(child).finally(() => clearTimeout(timer));
  const wallMs = performance.now() - t0;
  const sockets = sampler.stop();
  let rssKb: number | undefined;
  try {
    rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) || undefined;
    rmSync(rssFile, { force: true });
  } catch {
    // killed before GNU time wrote it
  }
  return { ...r, wallMs, timedOut, ...(rssKb !== undefined ? { rssKb } : {}), sockets };
}

const measured = (r: Awaited<ReturnType<typeof timed>>): Pick<Run, 'wallMs' | 'timedOut' | 'rssKb' | 'sockets'> => ({
  wallMs: r.wallMs,
  timedOut: r.timedOut,
  sockets: r.sockets,
  ...(r.rssKb !== undefined ? { rssKb: r.rssKb } : {}),
});

/** `pathmtu -f list --json --rate R`: NDJSON checked against the truth. */
async function pathmtuList(hub: Hub, family: Family, list: string, o: Required<Pick<HubCliOptions, 'ratePps' | 'timeoutMs'>>, dir: string): Promise<Run> {
  const r = await timed(hub, [process.execPath, CLI, '-f', list, `-${family}`, '--json', '--rate', String(o.ratePps)], o.timeoutMs, dir);
  const run: Run = { ...measured(r), right: 0, checked: hub.targets(family).length, wrong: [] };
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    let j: { target?: string; address?: string; pmtu?: number | null; exact?: boolean; error?: { message: string }; reason?: string };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      run.wrong.push(`not JSON: ${line.slice(0, 60)}`);
      continue;
    }
    const t = hub.target(j.address ?? j.target ?? '');
    if (j.exact && j.pmtu === t.pmtu) run.right++;
    else if (run.wrong.length < 5) run.wrong.push(`${t.address}${t.blackHole ? ' (hole)' : ''}: ${j.error?.message ?? `${j.pmtu}${j.exact ? '' : ' not exact'}`} (truth ${t.pmtu})${j.reason ? `, ${j.reason}` : ''}`);
  }
  if (r.code !== 0 && r.code !== 1) run.wrong.unshift(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
  return run;
}

/** One `pathmtu <t> --json` process after another, over a sample spread through the list. */
async function pathmtuLoop(hub: Hub, family: Family, sample: readonly HubTarget[], timeoutMs: number): Promise<Run> {
  const run: Run = { wallMs: 0, timedOut: false, right: 0, checked: sample.length, wrong: [], extrapolatedFrom: sample.length };
  const t0 = performance.now();
  for (const t of sample) {
    const r = await hub.exec('client', [process.execPath, CLI, t.address, `-${family}`, '--json'], { timeoutMs });
    let j: { pmtu?: number | null; exact?: boolean } = {};
    try {
      j = JSON.parse(r.stdout) as typeof j;
    } catch {
      // counted wrong below
    }
    if (j.exact && j.pmtu === t.pmtu) run.right++;
    else if (run.wrong.length < 5) run.wrong.push(`${t.address}: ${j.pmtu ?? `exit ${r.code}`} (truth ${t.pmtu})`);
  }
  run.wallMs = ((performance.now() - t0) * hub.targets(family).length) / sample.length;
  return run;
}

/** scamper trace -M over the list at the same rate: one trace per target, the PMTU at the destination. */
async function scamperList(hub: Hub, family: Family, list: string, o: Required<Pick<HubCliOptions, 'ratePps' | 'timeoutMs'>>, dir: string): Promise<Run> {
  // IPv6: as in bench/lib/tools.ts, scamper's default UDP-paris probes get no answer in our lab; plain UDP works.
  const command = family === 6 ? 'trace -M -P udp' : 'trace -M';
  const r = await timed(hub, ['scamper', '-c', command, '-p', String(Math.min(o.ratePps, 10_000)), '-f', list], o.timeoutMs, dir);
  const run: Run = { ...measured(r), right: 0, checked: hub.targets(family).length, wrong: [] };
  for (const chunk of r.stdout.split(/^(?=traceroute from )/m)) {
    const s = parseScamperTrace(chunk);
    if (s.destination === null) continue;
    const t = hub.target(s.destination);
    if (s.pmtu === t.pmtu) run.right++;
    else if (run.wrong.length < 5) run.wrong.push(`${t.address}${t.blackHole ? ' (hole)' : ''}: ${s.pmtu ?? 'no answer'} (truth ${t.pmtu})`);
  }
  return run;
}

/** nmap's path-mtu.nse over the list (IPv4 only). A SYN scan of one closed port gives its hostrule a port. */
async function nmapList(hub: Hub, list: string, timeoutMs: number, dir: string): Promise<Run> {
  const r = await timed(hub, ['nmap', '-n', '-Pn', '-sS', '-p', '80', '--script', 'path-mtu', '-iL', list], timeoutMs, dir);
  const run: Run = { ...measured(r), right: 0, checked: hub.targets(4).length, wrong: [] };
  for (const chunk of r.stdout.split(/^(?=Nmap scan report for )/m)) {
    const address = /^Nmap scan report for (\S+)/.exec(chunk)?.[1];
    if (address === undefined) continue;
    const t = hub.target(address);
    const n = parseNmapPathMtu(chunk);
    if (n.kind === 'exact' && n.pmtu === t.pmtu) run.right++;
    else if (run.wrong.length < 5) run.wrong.push(`${address}${t.blackHole ? ' (hole)' : ''}: ${n.kind === 'exact' ? n.pmtu : n.kind === 'range' ? `${n.low}..${n.below - 1}` : n.kind === 'atLeast' ? `>= ${n.low}` : n.why} (truth ${t.pmtu})`);
  }
  return run;
}

/** A fresh hub for one run, torn down after it. */
async function onFreshHub<T>(spec: HubSpec, family: Family, dir: string, fn: (hub: Hub, list: string) => Promise<T>): Promise<T> {
  const hub = await Hub.create(spec);
  try {
    const list = join(dir, `targets-v${family}.txt`);
    writeFileSync(list, `${hub.targets(family).map((t) => t.address).join('\n')}\n`);
    return await fn(hub, list);
  } finally {
    await hub.destroy();
  }
}

export async function runHubCliBench(opts: HubCliOptions = {}): Promise<string> {
  const targets = opts.targets ?? 1000;
  const reps = opts.reps ?? 3;
  const peerReps = opts.peerReps ?? 1;
  const o = { ratePps: opts.ratePps ?? 10_000, timeoutMs: opts.timeoutMs ?? 300_000 };
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const spec: HubSpec = { ...opts.spec, targets };
  const dir = join(ROOT, '.bench-tmp', 'hub-cli');
  mkdirSync(dir, { recursive: true });
  const rows: string[][] = [];
  const notes: string[] = [];
  const skipped: string[] = [];
  if (missing(TIME)) skipped.push(`GNU time (${TIME}) missing: apt-get install -y time (or scripts/system-deps.sh); no peak RSS`);

  for (const family of opts.families ?? ([4, 6] as const)) {
    const runs = new Map<ToolName, Run[]>();
    const add = (tool: ToolName, r: Run, rep: number): void => {
      runs.set(tool, [...(runs.get(tool) ?? []), r]);
      log(`[hub-cli] IPv${family} ${tool} ${rep}: ${r.right}/${r.checked} right in ${seconds(r.wallMs)}${r.timedOut ? ' (timed out)' : ''}${r.rssKb ? `, ${Math.round(r.rssKb / 1024)} MB` : ''}`);
    };
    for (let rep = 1; rep <= reps; rep++) {
      add('pathmtu -f', await onFreshHub(spec, family, dir, (hub, list) => pathmtuList(hub, family, list, o, dir)), rep);
      const n = Math.min(opts.loopSample ?? 50, targets);
      add('pathmtu loop', await onFreshHub(spec, family, dir, (hub) => {
        const all = hub.targets(family);
        // Spread through the list, so the sample holds its share of black holes.
        return pathmtuLoop(hub, family, Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!), o.timeoutMs);
      }), rep);
    }
    for (let rep = 1; rep <= peerReps; rep++) {
      if (!missing('scamper')) add('scamper', await onFreshHub(spec, family, dir, (hub, list) => scamperList(hub, family, list, o, dir)), rep);
      if (family === 4 && !missing('nmap')) add('nmap', await onFreshHub(spec, family, dir, (hub, list) => nmapList(hub, list, o.timeoutMs, dir)), rep);
    }

    const ours = median((runs.get('pathmtu -f') ?? []).map((r) => r.wallMs));
    const label: Record<ToolName, string> = {
      'pathmtu -f': `pathmtu -f list --rate ${o.ratePps}`,
      'pathmtu loop': 'loop of `pathmtu <t>`',
      scamper: `scamper trace -M -p ${Math.min(o.ratePps, 10_000)} -f list`,
      nmap: 'nmap --script path-mtu -iL list',
    };
    for (const [tool, rs] of runs) {
      const wall = median(rs.map((r) => r.wallMs));
      const timedOut = rs.some((r) => r.timedOut);
      const right = rs.map((r) => r.right);
      const checked = rs[0]!.checked;
      const rss = rs.map((r) => r.rssKb).filter((x): x is number => x !== undefined);
      const sockets = rs.map((r) => r.sockets).filter((x): x is number => x !== undefined);
      rows.push([
        `IPv${family}`,
        label[tool],
        `${timedOut ? '≥' : ''}${seconds(wall)}${rs[0]!.extrapolatedFrom ? ` (${rs[0]!.extrapolatedFrom} runs × ${targets / rs[0]!.extrapolatedFrom})` : ''}`,
        tool === 'pathmtu -f' ? '1x' : `${timedOut ? '≥' : ''}${(wall / ours).toFixed(wall / ours >= 10 ? 0 : 1)}x`,
        `${Math.min(...right) === Math.max(...right) ? right[0] : `${Math.min(...right)}-${Math.max(...right)}`}/${checked}${rs[0]!.extrapolatedFrom ? ' (sample)' : ''}`,
        rss.length ? `${Math.round(Math.max(...rss) / 1024)} MB` : '-',
        sockets.length ? String(Math.max(...sockets)) : '-',
        String(rs.length),
      ]);
      for (const r of rs) for (const w of r.wrong) if (notes.length < 30) notes.push(`  IPv${family} ${label[tool]}: ${w}`);
    }
    if (missing('scamper')) skipped.push('scamper not installed: apt-get install -y scamper (or scripts/system-deps.sh)');
    if (family === 4 && missing('nmap')) skipped.push('nmap not installed: apt-get install -y nmap (or scripts/system-deps.sh)');
  }
  rmSync(dir, { recursive: true, force: true });

  return [
    `many targets, whole processes, on a fresh hub per run (${targets} targets per family, ${Math.floor(targets / 10)} behind a router that drops its PTBs;`,
    `kernel-default ICMP rate limits). Wall time: median of the runs, cut off at ${seconds(o.timeoutMs)} (≥: killed there); ratios are`,
    'to `pathmtu -f list`. Right: the exact PMTU the hub states (pathmtu: exact and equal; nmap: "PMTU == n"; scamper: the',
    'MTU at the destination hop). Peak RSS: GNU time %M of the process; sockets: the most socket fds it held at once',
    '(sampled every 10 ms, stdio excluded). The loop runs a sample spread through the list and scales its time to all.',
    `Issue 8's targets: 1,000 targets in <= 5 s per family, peak RSS <= 150 MB, <= 8 probe sockets.`,
    '',
    table(['family', 'run', 'wall', 'vs pathmtu -f', 'right', 'peak RSS', 'sockets', 'runs'], rows),
    ...(skipped.length ? ['', ...[...new Set(skipped)].map((s) => `not run: ${s}`)] : []),
    ...(notes.length ? ['', 'first wrong or inexact answers:', ...notes] : []),
  ].join('\n');
}
