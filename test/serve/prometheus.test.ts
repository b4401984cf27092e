// pathmtu serve scraped by a real Prometheus (Debian's package), both inside the lab's client
// namespace: the multi-target relabelling pattern, targets = the lab server's v4 and v6 addresses.
// Prometheus' query API must return the lab's true PMTU for each, also behind a router that drops
// its PTBs (a black hole). The exporter runs in this process, entered into the client namespace.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { spawnIn } from '../../src/lab/netns.js';
import { buildConfig, Exporter } from '../../src/serve/index.js';
import { httpGet } from './http-get.js';

const EXPORTER = '127.0.0.1:11500';
const PROMETHEUS = '127.0.0.1:19090';

function scrapeConfig(targets: string[], interval: string): string {
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    'scrape_configs:',
    '  - job_name: pathmtu',
    '    metrics_path: /probe',
    '    params:',
    '      module: [default]',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '    relabel_configs:',
    '      - source_labels: [__address__]',
    '        target_label: __param_target',
    '      - source_labels: [__param_target]',
    '        target_label: instance',
    '      - target_label: __address__',
    `        replacement: ${EXPORTER}`,
    '',
  ].join('\n');
}

const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const missing = promtool ? undefined : process.env.CI === 'true' ? undefined : 'promtool/prometheus missing: run scripts/system-deps.sh';

async function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => (clearTimeout(t), resolve()));
  });
}

/** Serve + Prometheus in the client namespace until probe_pmtu_bytes shows `want` for v4 and v6. */
async function scrapedPmtus(lab: Lab, blackHole: boolean): Promise<void> {
  const want = { [lab.server.v4]: lab.expectedPmtu(4), [lab.server.v6]: lab.expectedPmtu(6) };
  const dir = mkdtempSync(join(tmpdir(), 'pathmtu-prom-'));
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, scrapeConfig(Object.keys(want), '1s'));
  const check = spawnSync('promtool', ['check', 'config', cfg], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  lab.enter('client');
  const exporter = new Exporter({ config: buildConfig({}, ['198.18.0.0/15', '2001:db8::/32']) });
  let prom: ChildProcess | undefined;
  let log = '';
  try {
    const [host, port] = EXPORTER.split(':');
    await exporter.listen(Number(port), host);
    prom = spawnIn(lab.nsName('client'), [
      'prometheus', `--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROMETHEUS}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    const deadline = Date.now() + 60_000;
    let seen: Record<string, string> = {};
    let last = '';
    while (Date.now() < deadline) {
      assert.equal(prom.exitCode, null, `prometheus exited: ${log}`);
      try {
        const r = await fetch(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent('{__name__=~"probe_pmtu_bytes|probe_pmtu_black_hole"}')}`);
        last = await r.text();
        const body = JSON.parse(last) as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        seen = {};
        for (const s of body.data?.result ?? []) seen[`${s.metric.__name__} ${s.metric.instance}`] = s.value[1];
        const done = Object.entries(want).every(([t, v]) => seen[`probe_pmtu_bytes ${t}`] === String(v) && seen[`probe_pmtu_black_hole ${t}`] === (blackHole ? '1' : '0'));
        if (done) break;
      } catch {
        // Prometheus not listening yet.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const [t, v] of Object.entries(want)) {
      assert.equal(seen[`probe_pmtu_bytes ${t}`], String(v), `probe_pmtu_bytes for ${t} in Prometheus: ${JSON.stringify(seen)} ${last.slice(0, 500)} ${log}`);
      assert.equal(seen[`probe_pmtu_black_hole ${t}`], blackHole ? '1' : '0', `black hole for ${t}: ${JSON.stringify(seen)}`);
    }
  } finally {
    prom?.kill('SIGTERM');
    if (prom) await waitExit(prom);
    await exporter.close();
    lab.leave();
    rmSync(dir, { recursive: true, force: true });
  }
}

const path = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };

if (missing) test('serve scraped by Prometheus', { skip: missing }, () => {});
else {
  labTest('Prometheus scrapes serve (relabelling): 1400 through 3 routers, v4 and v6', path, async (lab) => {
    assert.equal(lab.expectedPmtu(4), 1400);
    await scrapedPmtus(lab, false);
  }, { timeout: 120_000 });
  labTest('Prometheus scrapes serve: 1400 behind a router that drops its PTBs (black hole), v4 and v6',
    { routers: [{}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1400 }, {}] }, async (lab) => {
      assert.equal(lab.expectedPmtu(6), 1400);
      await scrapedPmtus(lab, true);
    }, { timeout: 120_000 });
  labTest('1,000 concurrent /probe requests: at most 16 probes at once, the rest 503, all answered, healthy after',
    { routers: [{}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1400 }, {}] }, async (lab) => {
      lab.enter('client');
      // No cache: every request wants its own probe of the black-holed path (each lasts a while).
      const exporter = new Exporter({ config: buildConfig({ modules: { hole: { method: 'icmp', timeout: 3 } } }, ['198.18.0.0/15']), cacheMs: 0 });
      try {
        await exporter.listen(0, '127.0.0.1');
        const a = exporter.server.address();
        assert.ok(typeof a === 'object' && a !== null);
        const url = `http://127.0.0.1:${a.port}/probe?target=${lab.server.v4}&module=hole`;
        const answers = await Promise.all(Array.from({ length: 1000 }, () => get(a.port, url)));
        const by = new Map<number, number>();
        for (const r of answers) by.set(r.status, (by.get(r.status) ?? 0) + 1);
        const statuses = JSON.stringify([...by]);
        assert.deepEqual([...by.keys()].sort(), [200, 503], statuses);
        assert.equal(exporter.peakInflight, 16, `peak probes at once ${exporter.peakInflight}: ${statuses}`);
        assert.ok(answers.filter((r) => r.status === 503).every((r) => /16 probes are running, the most at once/.test(r.body)));
        assert.ok(answers.filter((r) => r.status === 200).every((r) => /^probe_pmtu_bytes 1400$/m.test(r.body)), 'each probe that ran is right');
        const after = await get(a.port, url);
        assert.equal(after.status, 200, after.body);
        assert.match(after.body, /^probe_pmtu_black_hole 1$/m);
        assert.equal((await get(a.port, `http://127.0.0.1:${a.port}/metrics`)).status, 200);
      } finally {
        await exporter.close();
        lab.leave();
      }
    }, { timeout: 120_000 });
}

/** A GET of a full URL on the exporter (a fresh connection each: the requests really are concurrent). */
const get = (port: number, url: string) => httpGet(port, url.replace(/^http:\/\/[^/]+/, ''));
