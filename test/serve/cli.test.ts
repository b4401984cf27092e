// `pathmtu serve` as a user runs it: --config.check's exit codes, a bad flag, and a running exporter
// that re-reads its config file on SIGHUP and on POST /-/reload (a bad file keeps the old config),
// prints each watched target's change and adds a watched target on reload.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pathmtu-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--config.check: 0 and the modules for a good file, 2 and the field for a bad one, no stack trace', () => {
  const good = join(dir, 'good.yml');
  writeFileSync(good, 'modules:\n  v6: {method: udp, family: 6}\nallow: [198.18.0.0/15]\nwatch: {targets: [198.18.3.2, 198.18.3.3], module: v6, interval: 30}\n');
  const ok = spawnSync(process.execPath, [bin, 'serve', '--config.file', good, '--config.check'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /v6: \{"method":"udp","timeout":10,"family":6\}/);
  assert.match(ok.stdout, /allow: 198\.18\.0\.0\/15/);
  assert.match(ok.stdout, /^watch: 2 targets, module v6, interval 30 s, raise 600 s$/m);
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, 'modules:\n  v6: {method: udp, family: 5}\n');
  const no = spawnSync(process.execPath, [bin, 'serve', '--config.file', bad, '--config.check'], { encoding: 'utf8' });
  assert.equal(no.status, 2);
  assert.match(no.stderr, /bad config .*bad\.yml: module v6: family must be 4 or 6/);
  assert.doesNotMatch(no.stderr, /\n\s+at /);
  const missing = spawnSync(process.execPath, [bin, 'serve', '--config.file', join(dir, 'none.yml'), '--config.check'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*none\.yml: ENOENT/);
  const help = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /default 127\.0\.0\.1:11500;/, 'the default port, outside the exporters\' full 9100-9999 range');
  const flag = spawnSync(process.execPath, [bin, 'serve', '--web.listen-address', 'nonsense'], { encoding: 'utf8' });
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /--web.listen-address must be HOST:PORT/);
});

test('a running serve reloads its config on SIGHUP and POST /-/reload', async () => {
  const file = join(dir, 'live.yml');
  writeFileSync(file, 'modules: {}\nallow: [127.0.0.0/8]\nwatch: {targets: [127.0.0.1], interval: 3600}\n');
  const child = spawn(process.execPath, [bin, 'serve', '--config.file', file, '--web.listen-address', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    while (!/listening on (http:\/\/\S+)\//.test(err)) {
      assert.equal(child.exitCode, null, err);
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = /listening on (http:\/\/\S+)\//.exec(err)![1];
    const waitErr = async (re: RegExp): Promise<void> => {
      for (const deadline = Date.now() + 15_000; !re.test(err); await new Promise((r) => setTimeout(r, 50)))
        assert.ok(Date.now() < deadline, `no ${re} on stderr within 15 s: ${err}`);
    };
    // The watched target: its first PMTU is a line on stderr and a series on /metrics.
    await waitErr(/ 127\.0\.0\.1 - -> \d+ \(initial: /);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^pathmtu_watch_pmtu_bytes\{target="127\.0\.0\.1",module="default"\} \d+$/m);
    const status = async (module: string): Promise<number> => (await fetch(`${base}/probe?target=127.0.0.1&module=${module}`)).status;
    assert.equal(await status('later'), 400);
    writeFileSync(file, 'modules: {later: {method: icmp}}\nallow: [127.0.0.0/8]\nwatch: {targets: [127.0.0.1, 127.0.0.2], interval: 3600}\n');
    child.kill('SIGHUP');
    while (!/config reloaded/.test(err)) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await status('later'), 200);
    await waitErr(/ 127\.0\.0\.2 - -> \d+ \(initial: /);
    writeFileSync(file, 'modules: {again: {method: icmp}}\nallow: [127.0.0.0/8]\n');
    assert.equal((await fetch(`${base}/-/reload`, { method: 'POST' })).status, 200);
    assert.equal(await status('again'), 200);
    writeFileSync(file, 'modules: {again: {method: nope}}\n');
    const r = await fetch(`${base}/-/reload`, { method: 'POST' });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /previous config stays: module again: method must be one of/);
    assert.equal(await status('again'), 200, 'the previous config still serves');
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^pathmtu_serve_config_reloads_total\{result="failure"\} 1$/m);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  assert.equal(child.exitCode, 0, err);
});
