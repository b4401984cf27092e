// The operators' kit in examples/: promtool checks the Prometheus config (with its rule file) and
// runs the alert rules' unit tests; the Grafana dashboard is JSON whose queries, like the rules',
// name only metrics a running exporter really exports (read from its /metrics and /probe, with a
// watched target, on loopback).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildConfig, Exporter } from '../../src/serve/index.js';
import { httpGet } from './http-get.js';

const examples = new URL('../../examples/', import.meta.url);
const file = (name: string): string => new URL(name, examples).pathname;
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const missing = promtool || process.env.CI === 'true' ? undefined : 'promtool missing: run scripts/system-deps.sh';

function promtoolRun(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: examples.pathname });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('promtool check config: examples/prometheus.yml and the rule file it loads', { skip: missing }, () => {
  const r = promtoolRun(['check', 'config', 'prometheus.yml']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /Checking pathmtu-rules\.yml\s+SUCCESS: 5 rules found/, r.out);
});

test('promtool check rules and test rules: examples/pathmtu-rules.yml', { skip: missing }, () => {
  const check = promtoolRun(['check', 'rules', 'pathmtu-rules.yml']);
  assert.equal(check.status, 0, check.out);
  const t = promtoolRun(['test', 'rules', 'pathmtu-rules.test.yml']);
  assert.equal(t.status, 0, t.out);
  assert.match(t.out, /SUCCESS/);
});

/** Metric names a PromQL expression uses: ours and Prometheus' `up` (label values and strings removed). */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set([...bare.matchAll(/\b(probe_[a-z_]+|pathmtu_[a-z_]+|up)\b(?!\s*\()/g)].map((m) => m[1]))];
}

/** Every sample name a live exporter serves: /metrics with a watched target, and a /probe answer. */
async function exportedNames(): Promise<Set<string>> {
  const config = buildConfig({ modules: { icmp: { method: 'icmp', timeout: 2 } }, watch: { targets: ['127.0.0.1'], module: 'icmp', interval: 3600 } }, ['127.0.0.0/8']);
  const exporter = new Exporter({ config });
  try {
    await exporter.listen(0, '127.0.0.1');
    const a = exporter.server.address();
    assert.ok(typeof a === 'object' && a !== null);
    // A /probe first, so its counters have samples on /metrics too.
    const probe = await httpGet(a.port, '/probe?target=127.0.0.1&module=icmp');
    assert.equal(probe.status, 200);
    let metrics = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      metrics = (await httpGet(a.port, '/metrics')).body;
      if (/^pathmtu_watch_pmtu_bytes\{/m.test(metrics)) break;
    }
    assert.match(metrics, /^pathmtu_watch_pmtu_bytes\{target="127\.0\.0\.1",module="icmp"\} \d+$/m);
    const names = new Set(['up']);
    for (const line of `${metrics}\n${probe.body}`.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
      if (m) names.add(m[1]);
    }
    return names;
  } finally {
    await exporter.close();
  }
}

test('the dashboard and the rules query only metrics the exporter exports', async () => {
  const exported = await exportedNames();
  for (const n of ['probe_pmtu_bytes', 'probe_pmtu_black_hole', 'pathmtu_watch_pmtu_bytes', 'pathmtu_watch_up', 'pathmtu_watch_black_hole',
    'pathmtu_watch_changes_total', 'pathmtu_watch_last_change_timestamp_seconds', 'pathmtu_watch_probes_sent_total'])
    assert.ok(exported.has(n), `${n} is exported`);

  const dash = JSON.parse(readFileSync(file('grafana-dashboard.json'), 'utf8')) as {
    title: string;
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ definition?: string }> };
  };
  assert.ok(dash.panels.length >= 4, 'panels');
  const titles = dash.panels.map((p) => p.title).join(' | ');
  for (const want of [/Path MTU per watched target/, /Black holes/, /changes/i]) assert.match(titles, want);
  const exprs: Array<[string, string]> = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as [string, string]));
  for (const v of dash.templating.list) if (v.definition) exprs.push(['variable', v.definition]);
  const rules = parseYaml(readFileSync(file('pathmtu-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const r of rules.groups.flatMap((g) => g.rules)) exprs.push([`rule ${r.alert}`, r.expr]);
  for (const [where, expr] of exprs) {
    const used = metricNames(expr);
    assert.ok(used.length > 0, `${where}: ${expr} names no metric of ours`);
    for (const n of used) assert.ok(exported.has(n), `${where}: ${n} is not exported (${expr})`);
  }
  // Every watch metric is shown somewhere on the dashboard or alerted on.
  const all = exprs.map(([, e]) => e).join('\n');
  for (const n of [...exported].filter((x) => x.startsWith('pathmtu_watch_'))) assert.match(all, new RegExp(`\\b${n}\\b`), `${n} is used`);
});
