// pathmtu serve's HTTP face: every bad request gets a clear status and reason, no probe is sent for
// a target outside the allow list, concurrency is bounded, and the exporter stays healthy after.
// Probes here go to loopback only (127.0.0.0/8). 1,000 concurrent requests: prometheus.test.ts (the
// lab gives probes that last long enough to overlap).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildConfig, Exporter, parseConfig } from '../../src/serve/index.js';
import { httpGet } from './http-get.js';

let exporter: Exporter;
let base: string;
let port: number;

before(async () => {
  exporter = new Exporter({ config: buildConfig({ modules: { fast: { method: 'icmp', timeout: 2 } } }, ['127.0.0.0/8']), concurrency: 4, cacheMs: 60_000 });
  await exporter.listen(0, '127.0.0.1');
  const a = exporter.server.address();
  assert.ok(typeof a === 'object' && a !== null);
  port = a.port;
  base = `http://127.0.0.1:${port}`;
});
after(() => exporter.close());

/** A raw GET: the path goes out byte for byte (fetch would normalise malformed escapes). */
const get = (path: string, method = 'GET', headers: Record<string, string> = {}) => httpGet(port, path, method, headers);

async function probesTotal(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(/^pathmtu_serve_probes_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

async function healthy(): Promise<void> {
  const r = await get('/probe?target=127.0.0.1&module=fast');
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /^probe_success 1$/m);
  assert.match(r.body, /^probe_pmtu_bytes \d+$/m);
  const m = await get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.body, /^process_resident_memory_bytes /m, 'default process metrics');
  assert.match(m.body, /^pathmtu_serve_build_info\{version="[^"]+"/m);
}

test('bad requests: each gets its status and reason, none probes', async () => {
  const before = await probesTotal();
  const cases: Array<[string, number, RegExp]> = [
    ['/probe', 400, /target parameter is missing/],
    ['/probe?target=', 400, /target parameter is missing/],
    ['/probe?target=127.0.0.1&module=nope', 400, /unknown module "nope" \(known: default, fast\)/],
    ['/probe?target=127.0.0.1&module=__proto__', 400, /unknown module/],
    [`/probe?target=${'a'.repeat(10_000)}`, 400, /at most 1024/],
    ['/probe?target=%zz', 400, /malformed query string/],
    ['/probe?target=127.0.0.1&target=127.0.0.2', 400, /once/],
    ['/probe?target=198.51.100.7', 403, /not allowed \(allowed: 127\.0\.0\.0\/8\)/],
    ['/probe?target=example.com', 403, /not allowed/],
    ['/nowhere', 404, /\/probe\?target=/],
  ];
  for (const [path, status, reason] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, `${path.slice(0, 60)}: ${r.body}`);
    assert.match(r.body, reason, path.slice(0, 60));
  }
  assert.equal((await get('/probe?target=127.0.0.1', 'POST')).status, 405);
  assert.equal((await get('/-/reload', 'POST')).status, 500, 'no config file to reload: an error, not a crash');
  assert.equal(await probesTotal(), before, 'no probe was run for any of them');
  await healthy();
});

test('with no allow list nothing is allowed, and the answer says how to allow', async () => {
  const bare = new Exporter({ config: buildConfig({}) });
  await bare.listen(0, '127.0.0.1');
  try {
    const a = bare.server.address();
    assert.ok(typeof a === 'object' && a !== null);
    const r = await fetch(`http://127.0.0.1:${a.port}/probe?target=127.0.0.1`);
    assert.equal(r.status, 403);
    assert.match(await r.text(), /no targets are allowed yet: .*--allow CIDR/);
  } finally {
    await bare.close();
  }
});

test('a probe answers in the Prometheus format; debug shows the log and the module; cache reuses', async () => {
  const r = await get('/probe?target=127.0.0.3&module=fast');
  assert.equal(r.status, 200);
  for (const name of ['probe_success', 'probe_duration_seconds', 'probe_ip_protocol', 'probe_pmtu_bytes', 'probe_pmtu_lower_bound_bytes',
    'probe_pmtu_upper_bound_bytes', 'probe_pmtu_local_mtu_bytes', 'probe_pmtu_ptb_received', 'probe_pmtu_black_hole', 'probe_pmtu_probes_sent', 'probe_pmtu_tcp_mss_bytes'])
    assert.match(r.body, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
  assert.match(r.body, /^probe_ip_protocol 4$/m);
  assert.match(r.body, /^probe_pmtu_info\{method="icmp",direction="[a-z-]+",verdict="exact"\} 1$/m);
  const pmtu = Number(/^probe_pmtu_bytes (\d+)$/m.exec(r.body)![1]);
  assert.match(r.body, new RegExp(`^probe_pmtu_tcp_mss_bytes ${pmtu - 40}$`, 'm'));
  const n = await probesTotal();
  const again = await get('/probe?target=127.0.0.3&module=fast');
  assert.equal(/^probe_pmtu_probes_sent (\d+)$/m.exec(again.body)![1], /^probe_pmtu_probes_sent (\d+)$/m.exec(r.body)![1]);
  const d = await get('/probe?target=127.0.0.3&module=fast&debug=true');
  assert.equal(d.status, 200);
  assert.match(d.body, /^Module fast: \{"method":"icmp","timeout":2\}$/m);
  assert.match(d.body, /"type":"probe"/, 'the probe log');
  assert.match(d.body, /^probe_pmtu_bytes /m);
  assert.equal(await probesTotal(), n + 2, 'the cached answer and the debug run are both counted');
  // The timeout: Prometheus' scrape timeout less 0.5 s, never above the module's (2 s here).
  const timeout = async (h: Record<string, string>): Promise<string> => /^Timeout: (\S+) s$/m.exec((await get('/probe?target=127.0.0.3&module=fast&debug=true', 'GET', h)).body)![1];
  assert.equal(await timeout({ 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' }), '1');
  assert.equal(await timeout({ 'X-Prometheus-Scrape-Timeout-Seconds': '10' }), '2');
  assert.equal(await timeout({ 'X-Prometheus-Scrape-Timeout-Seconds': 'junk' }), '2');
  assert.equal(await timeout({}), '2');
});

test('config: YAML modules and allow list; errors name the field', () => {
  const c = parseConfig('modules:\n  v6: {method: udp, family: 6, min: 1280, max: 1500, timeout: 5}\nallow: [198.18.0.0/15, 2001:db8::/32, lab.example]\n');
  assert.deepEqual(c.modules.v6, { method: 'udp', family: 6, min: 1280, max: 1500, timeout: 5 });
  assert.deepEqual(c.modules.default, { method: 'auto', timeout: 10 });
  assert.equal(c.allowed('198.19.255.1'), true);
  assert.equal(c.allowed('198.20.0.1'), false);
  assert.equal(c.allowed('2001:db8:5::1'), true);
  assert.equal(c.allowed('2001:db9::1'), false);
  assert.equal(c.allowed('LAB.example.'), true);
  assert.equal(c.allowed('other.example'), false);
  for (const [text, msg] of [
    ['modules: {x: {method: raw}}', /module x: method must be one of/],
    ['modules: {x: {min: 1500, max: 1400}}', /module x: max 1400 is below min 1500/],
    ['modules: {x: {timeout: -1}}', /module x: timeout/],
    ['modules: {x: {rate: 1}}', /unknown field rate/],
    ['allow: [10.0.0.0/33]', /prefix length must be 0 to 32/],
    ['allow: ["not a name"]', /neither a CIDR/],
    ['targets: []', /unknown top-level field targets/],
    ['modules: [', /not valid YAML/],
  ] as const)
    assert.throws(() => parseConfig(text), (e: Error & { code?: string }) => e.code === 'ERR_SERVE_CONFIG' && msg.test(e.message), text);
});
