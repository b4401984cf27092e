// serve's watched targets in the lab: the config's watch: section is kept current by the watcher
// and exported on /metrics with labels target and module; a black-holed 1400 path reads 1400 and
// black_hole 1 (v4 and v6), a link MTU lowered mid-run shows within 2 intervals, an unreachable
// target reads up 0, scrapes cost no probes, and a reload retargets or replaces the watcher.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labTest } from '../../src/lab/testing.js';
import { buildConfig, Exporter, parseConfig } from '../../src/serve/index.js';
import type { WatchEvent } from '../../src/watch/types.js';
import { httpGet } from './http-get.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[2].matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of `name` for `target` on /metrics, undefined when absent. */
function read(all: Sample[], name: string, target: string): number | undefined {
  return all.find((s) => s.name === name && s.labels.target === target)?.value;
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

test('config: the watch section, its defaults, and errors that name the field', () => {
  const c = parseConfig('modules: {v6: {method: udp, family: 6}}\nallow: [198.18.0.0/15, lab.example]\nwatch: {targets: [198.18.3.2, lab.example, 198.18.3.2], module: v6, interval: 5}\n');
  assert.deepEqual(c.watch, { targets: ['198.18.3.2', 'lab.example'], module: 'v6', intervalS: 5, raiseS: 600 });
  assert.deepEqual(parseConfig('allow: [198.18.0.0/15]\nwatch: {targets: [198.18.3.2]}').watch, { targets: ['198.18.3.2'], module: 'default', intervalS: 60, raiseS: 600 });
  assert.equal(parseConfig('allow: [198.18.0.0/15]').watch, undefined);
  for (const [text, msg] of [
    ['allow: [198.18.0.0/15]\nwatch: {targets: [192.0.2.1]}', /watch\.targets: "192\.0\.2\.1" is not allowed: list it/],
    ['allow: [198.18.0.0/15]\nwatch: {targets: [198.18.3.2], module: nope}', /watch\.module: unknown module "nope" \(known: default\)/],
    ['allow: [198.18.0.0/15]\nwatch: {targets: [198.18.3.2], interval: 0.05}', /watch\.interval must be seconds, from 0\.1 to 86400/],
    ['allow: [198.18.0.0/15]\nwatch: {targets: [198.18.3.2], raise: x}', /watch\.raise must be seconds/],
    ['allow: [198.18.0.0/15]\nwatch: {targets: 198.18.3.2}', /watch\.targets must be a list/],
    ['allow: [198.18.0.0/15]\nwatch: {targets: [], every: 1}', /watch: unknown field every/],
    ['watch: [198.18.3.2]', /watch must be a mapping/],
  ] as const)
    assert.throws(() => parseConfig(text), (e: Error & { code?: string }) => e.code === 'ERR_SERVE_CONFIG' && msg.test(e.message), text);
});

// 1400 behind r2, which drops its PTBs: a black hole, v4 and v6.
const path = { routers: [{}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1400 }, {}] };

labTest('watched targets on /metrics: black-holed 1400 (v4, v6), a lowered link within 2 intervals, unreachable, reload', path, async (lab) => {
  const v4 = lab.server.v4;
  const v6 = lab.server.v6;
  const nowhere = '198.18.250.1'; // allowed, routed nowhere: r1 answers "unreachable"
  const allow = ['198.18.0.0/15', '2001:db8::/32'];
  const INTERVAL = 1;
  let config = buildConfig({ modules: { icmp: { method: 'icmp', timeout: 5 } }, watch: { targets: [v4, v6, nowhere], module: 'icmp', interval: INTERVAL } }, allow);
  const changes: WatchEvent[] = [];
  lab.enter('client');
  const exporter = new Exporter({ config, load: () => config, onWatchChange: (e) => changes.push(e) });
  try {
    await exporter.listen(0, '127.0.0.1');
    const a = exporter.server.address();
    assert.ok(typeof a === 'object' && a !== null);
    const metrics = async (): Promise<Sample[]> => {
      const r = await httpGet(a.port, '/metrics');
      assert.equal(r.status, 200);
      return samples(r.body);
    };
    const known = await until('both targets known', 20_000, async () => {
      const m = await metrics();
      return read(m, 'pathmtu_watch_pmtu_bytes', v4) !== undefined && read(m, 'pathmtu_watch_pmtu_bytes', v6) !== undefined ? m : undefined;
    });
    for (const t of [v4, v6]) {
      assert.equal(read(known, 'pathmtu_watch_pmtu_bytes', t), 1400, t);
      assert.equal(read(known, 'pathmtu_watch_black_hole', t), 1, t);
      assert.equal(read(known, 'pathmtu_watch_up', t), 1, t);
      assert.equal(read(known, 'pathmtu_watch_changes_total', t), 1, `${t}: the first PMTU known is the first change event`);
      assert.ok(read(known, 'pathmtu_watch_probes_sent_total', t)! > 0, t);
      assert.ok(Math.abs(read(known, 'pathmtu_watch_last_change_timestamp_seconds', t)! - Date.now() / 1000) < 30, t);
      assert.equal(known.find((s) => s.name === 'pathmtu_watch_pmtu_bytes' && s.labels.target === t)!.labels.module, 'icmp');
    }
    const dead = await until('the unreachable target reads up 0', 20_000, async () => {
      const m = await metrics();
      return read(m, 'pathmtu_watch_up', nowhere) === 0 && changes.some((e) => e.target === nowhere) ? m : undefined;
    });
    assert.equal(read(dead, 'pathmtu_watch_pmtu_bytes', nowhere), undefined, 'no PMTU for a target that does not answer');
    assert.deepEqual(changes.filter((e) => e.target === v4).map((e) => [e.reason, e.pmtu, e.previous]), [['initial', 1400, null]]);

    // The bottleneck link r2-r3 drops to 1300 on both ends: seen within 2 intervals (+ one search).
    const lowered = Date.now();
    for (const [node, dev] of [['r2', 'eth1'], ['r3', 'eth0']] as const)
      assert.equal((await lab.exec(node, ['ip', 'link', 'set', 'dev', dev, 'mtu', '1300'])).code, 0);
    const after = await until('1300 on /metrics for v4 and v6', 2 * INTERVAL * 1000 + 8_000, async () => {
      const m = await metrics();
      return read(m, 'pathmtu_watch_pmtu_bytes', v4) === 1300 && read(m, 'pathmtu_watch_pmtu_bytes', v6) === 1300 ? m : undefined;
    });
    const seenS = (Date.now() - lowered) / 1000;
    for (const t of [v4, v6]) {
      assert.equal(read(after, 'pathmtu_watch_changes_total', t), 2, `${t}: one more event, the drop`);
      assert.ok(read(after, 'pathmtu_watch_last_change_timestamp_seconds', t)! >= lowered / 1000 - 1, t);
    }
    const drop = changes.find((e) => e.target === v4 && e.pmtu === 1300)!;
    assert.equal(drop.previous, 1400);
    assert.equal(drop.reason, 'black-hole', `no PTB crosses r2: ${JSON.stringify(drop)}`);
    assert.ok(seenS < 2 * INTERVAL + 8, `seen after ${seenS} s`);

    // Reload with a long interval: a new watcher (settings changed); once it knows the targets, a
    // burst of scrapes sends no probe.
    config = buildConfig({ modules: { icmp: { method: 'icmp', timeout: 5 } }, watch: { targets: [v4, v6], module: 'icmp', interval: 3600 } }, allow);
    assert.equal((await httpGet(a.port, '/-/reload', 'POST')).status, 200);
    const fresh = await until('the new watcher knows both', 20_000, async () => {
      const m = await metrics();
      return read(m, 'pathmtu_watch_pmtu_bytes', v4) === 1300 && read(m, 'pathmtu_watch_pmtu_bytes', v6) === 1300 ? m : undefined;
    });
    assert.equal(read(fresh, 'pathmtu_watch_up', nowhere), undefined, 'the target left the config, and /metrics');
    const sent = (m: Sample[]): number => read(m, 'pathmtu_watch_probes_sent_total', v4)! + read(m, 'pathmtu_watch_probes_sent_total', v6)!;
    const before = sent(fresh);
    for (let i = 0; i < 20; i++) await metrics();
    assert.equal(sent(await metrics()), before, 'scrapes read the watcher, they do not probe');

    // Same settings, fewer targets: setTargets on the running watcher.
    config = buildConfig({ modules: { icmp: { method: 'icmp', timeout: 5 } }, watch: { targets: [v4], module: 'icmp', interval: 3600 } }, allow);
    assert.equal((await httpGet(a.port, '/-/reload', 'POST')).status, 200);
    const one = await metrics();
    assert.equal(read(one, 'pathmtu_watch_pmtu_bytes', v4), 1300, 'kept its state: the same watcher');
    assert.equal(read(one, 'pathmtu_watch_pmtu_bytes', v6), undefined);
    assert.equal(read(one, 'pathmtu_watch_probes_sent_total', v4), read(fresh, 'pathmtu_watch_probes_sent_total', v4));
  } finally {
    await exporter.close();
    lab.leave();
  }
}, { timeout: 120_000 });
