// check-server against real Linux servers in the lab (client -> r1 -> server, 1500 everywhere):
// seed 004's server (a loop of 1600-byte sends) honouring the PTB, ignoring it because its
// namespace drops incoming ICMP, never setting DF (IP_PMTUDISC_DONT), clearing DF below Linux's
// min_pmtu, and a real nginx. Each verdict is checked against the server kernel's own view:
// `ip route get <client>` shows the PMTU it cached from our PTB (or shows none).
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { rmSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { checkServer, type CheckServerResult } from '../../src/checkserver/index.js';
import { labTest } from '../../src/lab/testing.js';
import { Engine } from '../../src/engine/engine.js';
import { AbortError } from '../../src/errors.js';
import { PORT, fromClient, seedServer, serverCachedMtu, startNginx } from './servers.js';

const TEST_TIMEOUT = 15_000;

/** What was measured, in the test output. */
function note(t: TestContext, r: CheckServerResult): void {
  const sizes = (p: CheckServerResult['before']): string => p.sizes.slice(0, 3).map((x) => `${x.size}${x.df ? '' : '(no DF)'}x${x.count}`).join(' ');
  t.diagnostic(
    `${r.verdict}: connect ${r.connectMs?.toFixed(1) ?? '-'} ms, PTB at ${r.ptb?.atMs.toFixed(0) ?? '-'} ms, ` +
      `first after ${r.firstAfterMs?.toFixed(1) ?? '-'} ms, total ${r.elapsedMs.toFixed(0)} ms; ` +
      `before ${r.before.segments} [${sizes(r.before)}], after ${r.after.segments} [${sizes(r.after)}]` +
      `${r.repeatedRequest ? ', request repeated' : ''}`,
  );
}

for (const family of [4, 6] as const) {
  labTest(`IPv${family}: a Linux server lowers its segments to the announced MTU -> success`, { routers: [{}] }, async (lab, t) => {
    await seedServer(lab, family);
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    assert.equal(await serverCachedMtu(lab, family), null, 'a fresh lab has no cached PMTU');
    const r = await fromClient(lab, () => checkServer(server, PORT, { rawStream: true }));
    note(t, r);
    assert.equal(r.verdict, 'success', r.reason);
    assert.equal(r.mtu, 1280);
    assert.equal(r.gsoAware, true);
    // Before: full-sized 1500-byte segments (our SYN offered MSS 1460), never the 1652-byte
    // super-packet of one 1600-byte send.
    assert.equal(r.before.largest, 1500);
    assert.equal(r.before.withDf, r.before.segments, 'Linux sets DF on TCP (IPv6: never fragments)');
    assert.ok(r.ptb !== null && r.ptb.quotedSize === 1500);
    assert.ok(r.after.segments > 0);
    assert.equal(r.after.largest, 1280, 'the server fills the new MTU exactly');
    assert.ok(r.firstFittingMs !== null && r.firstFittingMs >= 0);
    assert.deepEqual(await serverCachedMtu(lab, family), { mtu: 1280, locked: false }, 'the server kernel took our PTB');
  }, { timeout: TEST_TIMEOUT });

  labTest(`IPv${family}: a server whose namespace drops incoming ICMP keeps sending 1500 -> ignored`, { routers: [{}], server: { dropIcmpIn: true } }, async (lab, t) => {
    await seedServer(lab, family);
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const r = await fromClient(lab, () => checkServer(server, PORT, { rawStream: true }));
    note(t, r);
    assert.equal(r.verdict, 'ignored', r.reason);
    assert.ok(r.ptb !== null);
    assert.equal(r.before.largest, 1500);
    assert.equal(r.after.largest, 1500, 'still full-sized after the PTB');
    assert.equal(await serverCachedMtu(lab, family), null, 'the PTB never reached the server kernel');
  }, { timeout: TEST_TIMEOUT });
}

// With IP_MTU_DISCOVER = IP_PMTUDISC_DONT Linux never sets DF on the socket's packets at all, so
// the truthful answer is "no-df" (there is no DF to clear): routers would fragment its segments,
// PMTUD does not apply, and we send no PTB.
labTest('IPv4: a server with IP_PMTUDISC_DONT never sets DF -> no-df, and is sent no PTB', { routers: [{}] }, async (lab, t) => {
  await seedServer(lab, 4, 's.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT');
  const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true }));
  note(t, r);
  assert.equal(r.verdict, 'no-df', r.reason);
  assert.equal(r.before.withDf, 0);
  assert.equal(r.before.largest, 1500);
  assert.equal(r.ptb, null);
  assert.equal(await serverCachedMtu(lab, 4), null);
}, { timeout: TEST_TIMEOUT });

// "Cleared DF" is what Linux itself does below its min_pmtu (552): it caches 552 with the MTU
// locked and stops setting DF (RFC 1191 allows either answer), so an MTU of 500 shows it.
labTest('IPv4: below min_pmtu a Linux server sends 552-byte segments without DF -> cleared-df', { routers: [{}] }, async (lab, t) => {
  await seedServer(lab, 4);
  const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true, mtu: 500 }));
  note(t, r);
  assert.equal(r.verdict, 'cleared-df', r.reason);
  assert.equal(r.before.withDf, r.before.segments);
  assert.equal(r.after.largest, 552);
  assert.equal(r.after.withDf, 0);
  assert.deepEqual(await serverCachedMtu(lab, 4), { mtu: 552, locked: true });
}, { timeout: TEST_TIMEOUT });

labTest('nobody listening: verdict error naming the refusal, quickly', { routers: [] }, async (lab, t) => {
  const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT));
  note(t, r);
  assert.equal(r.verdict, 'error');
  assert.match(r.reason, /ECONNREFUSED/);
  assert.equal(r.ptb, null);
  assert.ok(r.elapsedMs < 2500, 'a refused connection ends the check, no step timeout (3 s) is waited out');
}, { timeout: TEST_TIMEOUT });

labTest('an AbortSignal stops the check at once with what is known (verdict error, aborted); before the start it rejects; no listener left', { routers: [{}] }, async (lab, t) => {
  await seedServer(lab, 4);
  const engine = new Engine({ poolOptions: {} });
  // Aborted before the connection is attempted: AbortError, as every job on the engine.
  await assert.rejects(fromClient(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true, signal: AbortSignal.abort(), engine })), AbortError);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 60);
  const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true, signal: ac.signal, engine }));
  note(t, r);
  assert.equal(r.aborted, true);
  assert.equal(r.verdict, 'error');
  assert.match(r.reason, /interrupted/);
  assert.ok(r.connectMs !== null, 'the abort came mid-run, after the connection');
  assert.ok(r.elapsedMs < 2500, `stopped by the abort, not by a 3 s step timeout (${r.elapsedMs} ms)`);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'no abort listener left on the signal');
  assert.equal(engine.scheduler.jobs, 0, 'no wake-up left on the scheduler');
}, { timeout: TEST_TIMEOUT });

// A small answer (nothing above the MTU) is no test at all: "no-data", and no PTB is sent.
labTest('IPv4: a server that sends only small segments -> no-data, no PTB', { routers: [{}] }, async (lab, t) => {
  const py = [
    'import socket, time',
    's = socket.socket()',
    `s.bind(('${lab.server.v4}', ${PORT}))`,
    's.listen(5)',
    "print('ready', flush=True)",
    'c, _ = s.accept()',
    'for i in range(20):',
    "    c.sendall(b'x' * 1000)",
    '    time.sleep(0.01)',
    'time.sleep(5)',
  ].join('\n');
  const child = lab.spawn('server', ['python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout!.once('data', r));
  const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true }));
  note(t, r);
  assert.equal(r.verdict, 'no-data', r.reason);
  assert.equal(r.ptb, null);
  assert.ok(r.before.segments >= 1 && r.before.largest <= 1280 && r.before.largest > 1000);
}, { timeout: TEST_TIMEOUT });

labTest('nginx (Debian package, default-like config, 200 KB file): success over IPv4 and IPv6', { routers: [{}] }, async (lab, t) => {
  const { dir, child } = await startNginx(lab);
  try {
    for (const family of [4, 6] as const) {
      const server = family === 4 ? lab.server.v4 : lab.server.v6;
      const r = await fromClient(lab, () => checkServer(server, PORT, { path: '/big.bin' }));
      note(t, r);
      assert.equal(r.verdict, 'success', `IPv${family}: ${r.reason}`);
      assert.equal(r.request, 'GET /big.bin');
      assert.equal(r.before.largest, 1500);
      assert.equal(r.after.largest, 1280);
      assert.deepEqual(await serverCachedMtu(lab, family), { mtu: 1280, locked: false });
    }
    // A response that fits in our window has been delivered whole when the PTB goes out: the
    // request is repeated on the same (keep-alive) connection and the answer to that is judged.
    await lab.exec('server', ['ip', '-4', 'route', 'flush', 'cache']);
    assert.equal(await serverCachedMtu(lab, 4), null, 'the server forgot the PMTU it had cached');
    const r = await fromClient(lab, () => checkServer(lab.server.v4, PORT, { path: '/mid.bin' }));
    note(t, r);
    assert.equal(r.verdict, 'success', r.reason);
    assert.equal(r.repeatedRequest, true);
    assert.ok(r.before.bytes >= 20 * 1024 && r.after.bytes >= 20 * 1024, 'the whole file before and again after');
    assert.equal(r.after.largest, 1280);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeout: TEST_TIMEOUT });
