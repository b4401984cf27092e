// `pathmtu check-server` on the command line: usage errors exit 2 before any socket is opened;
// in the lab, --json has the documented shape and the text names the verdict; without
// CAP_NET_RAW the error names the way out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/command.js';
import { labTest } from '../../src/lab/testing.js';
import { PORT, fromClient, seedServer } from './servers.js';
import { pathmtuAsUser } from '../unprivileged.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: Io = { stdout, stderr, env: {}, signal: new AbortController().signal };
  const code = await main(['check-server', ...argv], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

test('usage errors exit 2 and say what is wrong (no socket is opened for any of them)', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /missing <host>:<port>/],
    [['198.18.1.2'], /no port/],
    [['2001:db8:1::2'], /brackets/],
    [['198.18.1.2:0'], /port must be/],
    [['198.18.1.2:80', '--mtu', 'abc'], /--mtu must be a whole number/],
    [['198.18.1.2:80', '--mtu', '67'], /--mtu must be from 68/],
    [['[2001:db8:1::2]:80', '--mtu', '1000'], /at least 1280 for IPv6/],
    [['198.18.1.2:80', '--path', 'index.html'], /must start with '\/'/],
    [['198.18.1.2:80', '--raw-stream', '--path', '/x'], /--raw-stream sends no request/],
    [['198.18.1.2:80', '-W', '0'], /--timeout/],
    [['198.18.1.2:80', '-4', '-6'], /exclude each other/],
    [['198.18.1.2:80', '--bogus'], /bogus/],
    [['a:1', 'b:2'], /expected one/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, argv.join(' '));
    assert.equal(r.stdout, '');
  }
});

test('--help lists every verdict and the JSON fields', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  for (const v of ['success', 'ignored', 'cleared-df', 'no-df', 'no-data', 'error']) assert.match(r.stdout, new RegExp(`\\n  ${v} `));
  assert.match(r.stdout, /JSON fields: .*verdict/s);
});

labTest('--json: the documented shape, exit 0 on success; the text form over IPv6 names the verdict', { routers: [{}] }, async (lab) => {
  await seedServer(lab, 4);
  const r = await fromClient(lab, () => cli([`${lab.server.v4}:${PORT}`, '--raw-stream', '--json']));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.verdict, 'success');
  assert.ok(['success', 'ignored', 'cleared-df', 'no-df', 'no-data', 'error'].includes(j.verdict as string));
  for (const k of ['target', 'address', 'request', 'reason']) assert.equal(typeof j[k], 'string', k);
  for (const k of ['port', 'family', 'mtu', 'connectMs', 'elapsedMs', 'inFlight', 'captureDrops', 'firstAfterMs', 'firstFittingMs']) assert.equal(typeof j[k], 'number', k);
  assert.equal(j.family, 4);
  assert.equal(j.mtu, 1280);
  const ptb = j.ptb as Record<string, number>;
  for (const k of ['atMs', 'seq', 'quotedSize', 'copies']) assert.equal(typeof ptb[k], 'number', `ptb.${k}`);
  for (const phase of ['before', 'after'] as const) {
    const p = j[phase] as { segments: number; bytes: number; largest: number; withDf: number; sizes: Array<{ size: number; df: boolean; count: number }> };
    assert.ok(p.segments > 0, phase);
    assert.ok(Array.isArray(p.sizes) && p.sizes.length > 0, `${phase}.sizes`);
    for (const s of p.sizes) assert.deepEqual(Object.keys(s).sort(), ['count', 'df', 'size']);
    assert.equal(p.sizes.reduce((a, s) => a + s.count, 0), p.segments, `${phase}: the sizes account for every segment`);
    assert.equal(p.largest, p.sizes[0].size);
  }
  assert.equal((j.before as { largest: number }).largest, 1500);
  assert.ok((j.after as { largest: number }).largest <= 1280);

  await seedServer(lab, 6);
  const t = await fromClient(lab, () => cli([`[${lab.server.v6}]:${PORT}`, '--raw-stream']));
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^verdict: success — /m);
  assert.match(t.stdout, /before the PTB: \d+ segments, \d+ bytes, largest 1500/);
  assert.match(t.stdout, /PTB sent at .* packet too big, MTU 1280, quoting a 1500-byte segment/);
  assert.match(t.stdout, /after the PTB: \d+ segments, \d+ bytes, largest 1280/);
}, { timeout: 15_000 });

labTest('without CAP_NET_RAW: exit 1 and the way out, before any traffic', { routers: [] }, async (lab) => {
  const r = await pathmtuAsUser(lab, 'client', ['check-server', `${lab.server.v4}:${PORT}`], { timeoutMs: 10_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /needs CAP_NET_RAW \(root\)/);
  assert.match(r.stderr, /setcap cap_net_raw\+ep/);
}, { timeout: 15_000 });
