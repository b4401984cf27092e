// pathmtu serve beside Debian's prometheus-blackbox-exporter (issue 10), both running as processes
// in a lab client namespace and scraped the same way Prometheus does (/probe?target=&module=), on
// the same lab targets: a 1400 bottleneck that sends its PTBs, and the same behind a router that
// drops them (a black hole), IPv4 and IPv6. blackbox_exporter gets the icmp modules its users
// write for this (dont_fragment: true, payload_size for a 1500- and a 1400-byte packet).
// Measured: what each answer says (a number vs pass/fail), the scrape time (median), and probes
// per scrape, counted by an nft counter on r1 (every packet the client sends through it).
// Then, with --hub (or --only serve without --quick): 1,000 watched targets (500 per family) in
// one `pathmtu serve` on issue 8's hub: time until all are known and right, steady probe rate per
// target, RSS, /metrics scrape time.
//
// npm run bench -- --only serve [--quick]    or alone: node --import tsx bench/serve.ts [--quick] [--hub-only] [--hub-targets N] [--interval S]
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../src/lab/lab.js';
import { Hub } from '../src/lab/hub.js';
import { linkAddress, type PathSpec } from '../src/lab/spec.js';
import type { Family } from '../src/wire/facts.js';
import { median } from './lib/stats.js';
import { table } from './lib/table.js';
import { ROOT } from './lib/tools.js';

const CLI = join(ROOT, 'bin', 'pathmtu.js');
const BLACKBOX = 'prometheus-blackbox-exporter';
const BB_ADDR = '127.0.0.1:9115';
const SERVE_ADDR = '127.0.0.1:11500';
/** serve reuses a (target, module) answer for 3 s: scrapes of one target are spaced wider. */
const CACHE_GAP_MS = 3200;

export interface ServeBenchOptions {
  reps?: number;
  /** Also run the 1,000-watched-targets part on the hub. */
  hub?: boolean;
  /** Watched targets per family on the hub (default 500: 1,000 in all). */
  hubTargets?: number;
  /** Watch interval on the hub in seconds (default 60). */
  hubIntervalS?: number;
}

function get(addr: string, path: string, timeoutMs = 15_000): Promise<{ status: number; body: string; ms: number }> {
  const [host, port] = addr.split(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The value of an unlabelled (or first labelled) sample, undefined when absent. */
function sample(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

async function waitUp(addr: string, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${log()}`);
    try {
      if ((await get(addr, '/metrics', 1000)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer on ${addr}: ${log()}`);
}

function blackboxConfig(): string {
  // payload_size is the ICMP echo data: a whole packet is 28 (IPv4) or 48 (IPv6) bytes more.
  const mod = (proto: 'ip4' | 'ip6', size: number): string[] => [
    `  icmp_${proto}_df_${size}:`,
    '    prober: icmp',
    '    timeout: 5s',
    '    icmp:',
    `      preferred_ip_protocol: ${proto}`,
    '      ip_protocol_fallback: false',
    '      dont_fragment: true',
    `      payload_size: ${size - (proto === 'ip4' ? 28 : 48)}`,
  ];
  return ['modules:', ...mod('ip4', 1500), ...mod('ip4', 1400), ...mod('ip6', 1500), ...mod('ip6', 1400), ''].join('\n');
}

interface Scrape {
  ms: number;
  probes: number;
  success: number | undefined;
  pmtu?: number;
  blackHole?: number;
  error?: string;
  /** blackbox_exporter's own reason for a failure (its debug=true log). */
  why?: string;
  body?: string;
}

interface Row {
  scenario: string;
  family: Family;
  truth: number;
  exporter: string;
  scrapes: Scrape[];
}

/** An nft counter on r1 of every packet the client sends through it (probes of any method). */
async function counterOn(lab: Lab): Promise<{ reset: () => Promise<void>; read: () => Promise<number> }> {
  const rules = 'table inet pmtubench {\n counter probes {}\n chain from_client {\n  type filter hook forward priority -10; policy accept;\n  iifname "eth0" counter name "probes"\n }\n}\n';
  const r = await lab.exec('r1', ['nft', '-f', '-'], { input: rules });
  if (r.code !== 0) throw new Error(`nft on r1: ${r.stderr}`);
  return {
    reset: async () => void (await lab.exec('r1', ['nft', 'reset', 'counter', 'inet', 'pmtubench', 'probes'])),
    read: async () => {
      const out = await lab.exec('r1', ['nft', '-j', 'list', 'counter', 'inet', 'pmtubench', 'probes']);
      const j = JSON.parse(out.stdout) as { nftables: Array<{ counter?: { packets: number } }> };
      return j.nftables.find((x) => x.counter)?.counter?.packets ?? NaN;
    },
  };
}

async function scenario(name: string, spec: PathSpec, reps: number): Promise<Row[]> {
  const lab = await Lab.create(spec);
  const dir = mkdtempSync(join(tmpdir(), 'pathmtu-bench-serve-'));
  const children: ChildProcess[] = [];
  let logs = '';
  try {
    const bbCfg = join(dir, 'blackbox.yml');
    writeFileSync(bbCfg, blackboxConfig());
    const cfg = join(dir, 'pathmtu.yml');
    writeFileSync(cfg, 'allow: [198.18.0.0/15, 2001:db8::/32]\n');
    const counter = await counterOn(lab);
    const bb = lab.spawn('client', [BLACKBOX, `--config.file=${bbCfg}`, `--web.listen-address=${BB_ADDR}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const serve = lab.spawn('client', [process.execPath, CLI, 'serve', '--config.file', cfg, '--web.listen-address', SERVE_ADDR], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(bb, serve);
    for (const c of children) c.stderr!.on('data', (d: Buffer) => (logs = (logs + d.toString()).slice(-3000)));
    lab.enter('client');
    try {
      await waitUp(BB_ADDR, bb, 'blackbox_exporter', () => logs);
      await waitUp(SERVE_ADDR, serve, 'pathmtu serve', () => logs);
      const rows: Row[] = [];
      const row = (family: Family, exporter: string): Row => {
        let r = rows.find((x) => x.family === family && x.exporter === exporter);
        if (!r) rows.push((r = { scenario: name, family, truth: lab.expectedPmtu(family), exporter, scrapes: [] }));
        return r;
      };
      const scrape = async (addr: string, path: string): Promise<Scrape> => {
        await counter.reset();
        try {
          const r = await get(addr, path);
          const probes = await counter.read();
          if (r.status !== 200) return { ms: r.ms, probes, success: undefined, error: `HTTP ${r.status}` };
          return { ms: r.ms, probes, body: r.body, success: sample(r.body, 'probe_success'), pmtu: sample(r.body, 'probe_pmtu_bytes'), blackHole: sample(r.body, 'probe_pmtu_black_hole') };
        } catch (e) {
          return { ms: NaN, probes: await counter.read(), success: undefined, error: (e as Error).message };
        }
      };
      for (let i = 0; i < reps; i++) {
        const t0 = Date.now();
        for (const family of [4, 6] as const) {
          const target = family === 4 ? lab.server.v4 : lab.server.v6;
          const proto = family === 4 ? 'ip4' : 'ip6';
          const ours = await scrape(SERVE_ADDR, `/probe?target=${target}&module=default`);
          delete ours.body;
          row(family, 'pathmtu serve').scrapes.push(ours);
          for (const size of [1500, 1400]) {
            // debug=true: the same probe, answered with its log (the reason for a failure) and its metrics.
            const s = await scrape(BB_ADDR, `/probe?target=${target}&module=icmp_${proto}_df_${size}&debug=true`);
            if (s.success === 0) s.why = blackboxWhy(s.body ?? '');
            delete s.body;
            row(family, `blackbox icmp DF ${size}`).scrapes.push(s);
          }
        }
        const wait = CACHE_GAP_MS - (Date.now() - t0);
        if (wait > 0 && i < reps - 1) await new Promise((r) => setTimeout(r, wait));
      }
      return rows;
    } finally {
      lab.leave();
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The error blackbox_exporter logged for a failed probe: "message too long" (EMSGSIZE), "i/o timeout". */
function blackboxWhy(debug: string): string {
  const errs = [...debug.matchAll(/level=(?:warn|error) msg="[^"]*" err="([^"]*)"/g)];
  const last = errs.at(-1);
  return last ? last[1].replace(/^.*: /, '').slice(0, 40) : 'no reason given';
}

function said(r: Row): string {
  if (r.exporter === 'pathmtu serve') {
    const vals = [...new Set(r.scrapes.map((s) => (s.error ? s.error : s.pmtu === undefined ? 'no number' : `${s.pmtu}${s.blackHole ? ' black hole' : ''}`)))];
    return vals.join(', ');
  }
  // blackbox: the pass/fail sequence over the scrapes, e.g. "fail, pass, pass".
  const seq = r.scrapes.map((s) => (s.error ? s.error : s.success === 1 ? 'pass' : `fail${s.why ? ` (${s.why})` : ''}`));
  const same = seq.every((x) => x === seq[0]);
  return same ? `${seq[0]} x${seq.length}` : seq.join(', ');
}

function right(r: Row): string {
  if (r.exporter === 'pathmtu serve') return r.scrapes.every((s) => s.pmtu === r.truth) ? '✓ the number' : '✗';
  const size = Number(/(\d+)$/.exec(r.exporter)![1]);
  const truth = size <= r.truth; // a packet of this size crosses
  const ok = r.scrapes.filter((s) => (s.success === 1) === truth).length;
  return ok === r.scrapes.length ? `✓ ${truth ? 'passes' : 'fails'} (a bound only)` : `✗ ${r.scrapes.length - ok}/${r.scrapes.length} wrong`;
}

export function renderServe(rows: Row[]): string {
  const fmt = (ms: number): string => (ms < 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(0)} ms`);
  return table(
    ['path', 'IP', 'exporter (module)', 'says', 'right?', 'scrape (median)', 'probes/scrape (median, max)'],
    rows.map((r) => {
      const ok = r.scrapes.filter((s) => Number.isFinite(s.ms));
      const probes = r.scrapes.map((s) => s.probes);
      return [
        r.scenario, `v${r.family}`, r.exporter, said(r), right(r),
        ok.length ? fmt(median(ok.map((s) => s.ms))) : '-',
        `${median(probes)}, ${Math.max(...probes)}`,
      ];
    }),
  );
}

/** Watched targets (perFamily v4 + perFamily v6) in one serve process on the hub. */
async function hubPart(perFamily: number, intervalS: number): Promise<string> {
  const hub = await Hub.create({ targets: perFamily });
  const dir = mkdtempSync(join(tmpdir(), 'pathmtu-bench-hub-'));
  let child: ChildProcess | undefined;
  let logs = '';
  try {
    const targets = hub.targets();
    const cfg = join(dir, 'pathmtu.yml');
    writeFileSync(cfg, [
      'allow: [198.18.0.0/15, 2001:db8::/32]',
      `watch: {interval: ${intervalS}, targets: [${targets.map((t) => JSON.stringify(t.address)).join(', ')}]}`, '',
    ].join('\n'));
    const t0 = performance.now();
    child = hub.spawn('client', [process.execPath, CLI, 'serve', '--config.file', cfg, '--web.listen-address', SERVE_ADDR], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (logs = (logs + d.toString()).slice(-2000)));
    hub.enter('client');
    try {
      await waitUp(SERVE_ADDR, child, 'pathmtu serve', () => logs);
      const values = (text: string, name: string): Map<string, number> => {
        const m = new Map<string, number>();
        for (const x of text.matchAll(new RegExp(`^${name}\\{target="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) m.set(x[1], Number(x[2]));
        return m;
      };
      let text = '';
      let knownMs = NaN;
      const deadline = Date.now() + 600_000;
      while (Date.now() < deadline) {
        text = (await get(SERVE_ADDR, '/metrics', 30_000)).body;
        if (values(text, 'pathmtu_watch_pmtu_bytes').size >= targets.length) {
          knownMs = performance.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const pmtus = values(text, 'pathmtu_watch_pmtu_bytes');
      const right = targets.filter((t) => pmtus.get(t.address) === t.pmtu).length;
      const wrong = targets.filter((t) => pmtus.get(t.address) !== t.pmtu).slice(0, 3)
        .map((t) => `${t.address}: ${pmtus.get(t.address) ?? 'unknown'}, truth ${t.pmtu}${t.blackHole ? ' (black hole)' : ''}`);
      const holes = values(text, 'pathmtu_watch_black_hole');
      const holesRight = targets.filter((t) => (holes.get(t.address) === 1) === t.blackHole).length;
      // Steady state: probes over two intervals after every target is known.
      const sent = (t: string): number => [...values(t, 'pathmtu_watch_probes_sent_total').values()].reduce((s, v) => s + v, 0);
      const s0 = sent(text);
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, 2 * intervalS * 1000));
      // A change: one target's route MTU on r1 drops by 100; how long until /metrics shows it.
      const pick = targets.find((t) => t.family === 4 && !t.blackHole && t.pmtu >= 700)!;
      const lowered = pick.pmtu - 100;
      const c0 = performance.now();
      const ch = await hub.exec('r1', ['ip', 'route', 'change', `${pick.address}/32`, 'via', linkAddress(1, 4, 'right'), 'mtu', 'lock', String(lowered)]);
      if (ch.code !== 0) throw new Error(`ip route change on r1: ${ch.stderr}`);
      let changeMs = NaN;
      for (const end = c0 + 2 * intervalS * 1000 + 30_000; performance.now() < end; await new Promise((r) => setTimeout(r, 250))) {
        if (values((await get(SERVE_ADDR, '/metrics', 30_000)).body, 'pathmtu_watch_pmtu_bytes').get(pick.address) === lowered) {
          changeMs = performance.now() - c0;
          break;
        }
      }
      // Wall time of each scrape, and the exporter's CPU time over them (less disturbed by a busy
      // machine; it includes the little the watcher does meanwhile).
      const scrapes: number[] = [];
      const cpu0 = sample((await get(SERVE_ADDR, '/metrics', 30_000)).body, 'process_cpu_seconds_total') ?? NaN;
      for (let i = 0; i < 10; i++) {
        const r = await get(SERVE_ADDR, '/metrics', 30_000);
        scrapes.push(r.ms);
        text = r.body;
      }
      const cpuMs = (((sample(text, 'process_cpu_seconds_total') ?? NaN) - cpu0) * 1000) / 10;
      const pps = (sent(text) - s0) / ((performance.now() - w0) / 1000) / targets.length;
      const rss = sample(text, 'process_resident_memory_bytes') ?? NaN;
      return table(['watched targets', 'all known after', 'right (PMTU / black hole)', 'steady probes/s per target', 'RSS', '/metrics scrape (median of 10; CPU)', 'a change seen after', 'targets'], [[
        `${targets.length} (${perFamily} v4 + ${perFamily} v6), interval ${intervalS} s`,
        Number.isFinite(knownMs) ? `${(knownMs / 1000).toFixed(1)} s` : 'not within 600 s',
        `${right}/${targets.length} / ${holesRight}/${targets.length}`,
        pps.toFixed(3),
        `${(rss / 2 ** 20).toFixed(0)} MB`,
        `${median(scrapes).toFixed(1)} ms; ${cpuMs.toFixed(1)} ms`,
        Number.isFinite(changeMs) ? `${(changeMs / 1000).toFixed(1)} s` : `not within ${2 * intervalS + 30} s`,
        '≤ 1 pkt/s, ≤ 200 MB, ≤ 50 ms, a change within 2 intervals',
      ]]) + (wrong.length ? `\nnot right: ${wrong.join('; ')}` : '');
    } finally {
      hub.leave();
    }
  } finally {
    child?.kill('SIGTERM');
    await hub.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runServeBench(opts: ServeBenchOptions = {}): Promise<string> {
  const reps = opts.reps ?? 5;
  if (spawnSync('sh', ['-c', `command -v ${BLACKBOX}`], { stdio: 'ignore' }).status !== 0)
    return `skipped: ${BLACKBOX} not installed (apt-get install -y prometheus-blackbox-exporter, or scripts/system-deps.sh)`;
  const links = [{}, {}, { mtu: 1400 }, {}];
  const rows = [
    ...(await scenario('1400, PTBs sent', { routers: [{}, {}, {}], links }, reps)),
    ...(await scenario('1400, black hole', { routers: [{}, { dropPtb: true }, {}], links }, reps)),
  ];
  const out = [
    `Each exporter in the lab's client namespace, scraped /probe?target=&module= ${reps} times per target (same target ≥ ${CACHE_GAP_MS / 1000} s apart: serve's cache is 3 s).`,
    'blackbox modules: icmp, dont_fragment: true, payload_size for a whole packet of 1500 or 1400 bytes, scraped with debug=true',
    "for its reason on failure. Probes: every packet the client sent through r1 (nft counter), during the scrape.",
    '',
    renderServe(rows),
  ];
  if (opts.hub) out.push('', "Watched targets on issue 8's hub, one pathmtu serve:", '', await hubPart(opts.hubTargets ?? 500, opts.hubIntervalS ?? 60));
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Alone: [--quick] [--hub-only] [--hub-targets N] [--interval S]
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : Number(process.argv[i + 1]);
  };
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--hub-only')) console.log(await hubPart(arg('--hub-targets') ?? 500, arg('--interval') ?? 60));
  else console.log(await runServeBench({ reps: quick ? 3 : 5, hub: !quick, hubTargets: arg('--hub-targets'), hubIntervalS: arg('--interval') }));
}
