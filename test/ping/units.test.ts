// ping's pure parts (sizes, statistics, sweep rows, rendering) and its usage errors, which must
// come before any socket is opened or packet sent (loopback targets all the same). No root needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { AbortError, UsageError } from '../../src/errors.js';
import { renderHeader, renderProbe, renderSummary } from '../../src/cli/commands/ping.js';
import { minSize, packetSize, parseSweep, ping, rttStats, summarize, sweepReport, sweepRows, sweepSizes, type PingHeader, type PingProbe, type PingResult } from '../../src/ping/index.js';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));

test('sizes: whole packet by default, payload + 28 (IPv4) / + 48 (IPv6), the minimum named', () => {
  assert.deepEqual(packetSize({}, 4), { size: 84, unit: 'packet' }, "ping's 56-byte payload");
  assert.deepEqual(packetSize({}, 6), { size: 104, unit: 'packet' });
  assert.deepEqual(packetSize({ size: 1400 }, 4), { size: 1400, unit: 'packet' });
  assert.deepEqual(packetSize({ payload: 1372 }, 4), { size: 1400, unit: 'payload' });
  assert.deepEqual(packetSize({ payload: 1352 }, 6), { size: 1400, unit: 'payload' });
  assert.equal(minSize(4), 36);
  assert.equal(minSize(6), 56);
  assert.deepEqual(packetSize({ size: 36 }, 4), { size: 36, unit: 'packet' });
  assert.throws(() => packetSize({ size: 35 }, 4), (e: Error) => e instanceof UsageError && /minimum of 36 bytes for IPv4/.test(e.message));
  assert.throws(() => packetSize({ size: 55 }, 6), /minimum of 56 bytes for IPv6/);
  assert.throws(() => packetSize({ payload: 7 }, 4), /payload 7 is below the minimum of 8 bytes/);
  assert.throws(() => packetSize({ payload: 65508 }, 4), /above the largest IP packet, 65535/);
  assert.throws(() => packetSize({ size: 1400, payload: 1372 }, 4), /not both/);
  assert.throws(() => packetSize({ size: 1400.5 }, 4), /whole number/);
});

test('sweep: A:B[:step] parsed, sizes listed, backwards / too small / too long refused', () => {
  assert.deepEqual(parseSweep('1396:1404'), { from: 1396, to: 1404 });
  assert.deepEqual(parseSweep('1200:1500:50'), { from: 1200, to: 1500, step: 50 });
  for (const bad of ['1396', '1396-1404', 'a:b', '1:2:3:4', '']) assert.throws(() => parseSweep(bad), UsageError, bad);
  // The library names its own option; the CLI shows it as --sweep (tested through the binary below).
  assert.throws(() => parseSweep('x'), /^UsageError: sweep must look like A:B/);
  assert.deepEqual(sweepSizes({ from: 1396, to: 1404 }, 4).sizes, [1396, 1397, 1398, 1399, 1400, 1401, 1402, 1403, 1404]);
  assert.deepEqual(sweepSizes({ from: 1200, to: 1300, step: 40 }, 4), { range: { from: 1200, to: 1300, step: 40 }, sizes: [1200, 1240, 1280] });
  assert.throws(() => sweepSizes({ from: 1404, to: 1396 }, 4), /runs backwards/);
  assert.throws(() => sweepSizes({ from: 40, to: 100 }, 6), /sweep start 40 is below the minimum of 56/);
  assert.throws(() => sweepSizes({ from: 100, to: 200, step: 0 }, 4), /step/);
  assert.throws(() => sweepSizes({ from: 36, to: 65535 }, 4), /at most 10000/);
});

test('rtt statistics: mdev is sqrt(mean(x²) − mean(x)²), as iputils', () => {
  assert.equal(rttStats([]), null);
  assert.deepEqual(rttStats([2]), { min: 2, avg: 2, max: 2, mdev: 0 });
  const s = rttStats([1, 2, 3, 4])!;
  assert.deepEqual([s.min, s.avg, s.max], [1, 2.5, 4]);
  assert.ok(Math.abs(s.mdev - Math.sqrt(1.25)) < 1e-12);
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.001, max: 5000, noNaN: true }), { minLength: 1, maxLength: 50 }), (xs) => {
      const r = rttStats(xs)!;
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      return r.min <= r.avg + 1e-9 && r.avg <= r.max + 1e-9 && r.mdev >= 0 && Math.abs(r.mdev - sd) <= 1e-6 * Math.max(1, r.max);
    }),
  );
});

const reply = (seq: number, rttMs: number, extra: Partial<PingProbe> = {}): PingProbe => ({ seq, size: 1400, outcome: 'reply', rttMs, from: '198.18.3.2', ttl: 61, ...extra });

test('summary: duplicates and errors apart from replies; loss counts everything unanswered', () => {
  const probes: PingProbe[] = [
    reply(1, 1),
    reply(1, 9, { duplicate: true }),
    { seq: 2, size: 1400, outcome: 'tooBig', from: '198.18.1.2', nextHopMtu: 1300, rttMs: 0.5 },
    { seq: 3, size: 1400, outcome: 'lost' },
    reply(4, 3),
  ];
  const s = summarize(probes, 1, 1234);
  assert.deepEqual([s.sent, s.received, s.errors, s.duplicates, s.late, s.lossPercent, s.elapsedMs], [4, 2, 1, 1, 1, 50, 1234]);
  assert.deepEqual(s.rtt, rttStats([1, 3]), 'the duplicate and the PTB do not enter the RTT');
  assert.equal(summarize([], 0, 0).lossPercent, 0);
});

test('sweep rows: consecutive sizes with the same fate grouped; largest passed / smallest failed', () => {
  const p = (size: number, outcome: PingProbe['outcome'], extra: Partial<PingProbe> = {}): PingProbe => ({ seq: size - 1395, size, outcome, ...extra });
  const probes = [
    p(1396, 'reply', { rttMs: 0.3, from: 's' }),
    p(1397, 'reply', { rttMs: 0.2, from: 's' }),
    p(1398, 'tooBig', { from: 'r2', nextHopMtu: 1397 }),
    p(1399, 'tooBig', { from: 'r2', nextHopMtu: 1397 }),
    p(1399, 'reply', { rttMs: 5, from: 's', duplicate: true }),
    p(1400, 'tooBig', { from: 'r9', nextHopMtu: 1397 }),
    p(1401, 'lost'),
  ];
  const rows = sweepRows(probes);
  assert.deepEqual(
    rows.map((r) => [r.from, r.to, r.count, r.outcome, r.router, r.nextHopMtu]),
    [
      [1396, 1397, 2, 'reply', undefined, undefined],
      [1398, 1399, 2, 'tooBig', 'r2', 1397],
      [1400, 1400, 1, 'tooBig', 'r9', 1397],
      [1401, 1401, 1, 'lost', undefined, undefined],
    ],
  );
  assert.deepEqual([rows[0].rttMinMs, rows[0].rttMaxMs], [0.2, 0.3]);
  assert.deepEqual(sweepReport({ from: 1396, to: 1401, step: 1 }, probes), { from: 1396, to: 1401, step: 1, largestPassed: 1397, smallestFailed: 1398 });
  assert.deepEqual(sweepReport({ from: 1, to: 2, step: 1 }, [p(1398, 'lost')]).largestPassed, null);
});

const header: PingHeader = {
  target: 'server', address: '198.18.3.2', family: 4, method: 'icmp', socket: 'raw', sizeUnit: 'packet', size: 1400, payload: 1372, overhead: 28,
  df: true, ttl: null, intervalMs: 1000, timeoutMs: 1000, count: 3, sweep: null,
};

test('rendering: header says the unit, one line per fate, summary like ping', () => {
  assert.equal(renderHeader(header), 'PING server (198.18.3.2): size 1400 (1372 payload + 28), whole IP packet, DF set, raw ICMP socket');
  assert.equal(
    renderHeader({ ...header, sizeUnit: 'payload', family: 6, overhead: 48, size: 1420, df: false, socket: 'ping', ttl: 3 }),
    'PING server (198.18.3.2): payload 1372 (as ping -s), whole IP packet 1420 (1372 payload + 48), fragmentation allowed, hop limit 3, ping socket',
  );
  assert.equal(renderProbe(reply(1, 0.2134), header), '1400 bytes from 198.18.3.2: seq=1 ttl=61 time=0.213 ms');
  assert.equal(renderProbe(reply(1, 12.5, { duplicate: true }), header), '1400 bytes from 198.18.3.2: seq=1 ttl=61 time=12.50 ms (DUP!)');
  assert.equal(renderProbe({ seq: 3, size: 1401, outcome: 'tooBig', from: '198.18.1.1', nextHopMtu: 1400, plausible: true }, header), 'From 198.18.1.1 seq=3: packet too big, next-hop MTU 1400');
  assert.equal(
    renderProbe({ seq: 3, size: 1401, outcome: 'tooBig', from: '198.18.1.1', nextHopMtu: 0, plausible: false, reason: 'next-hop MTU is 0' }, header),
    'From 198.18.1.1 seq=3: packet too big, next-hop MTU 0 (implausible: next-hop MTU is 0)',
  );
  assert.equal(renderProbe({ seq: 1, size: 1400, outcome: 'timeExceeded', from: '198.18.0.2' }, header), 'From 198.18.0.2 seq=1: time to live exceeded');
  assert.equal(renderProbe({ seq: 1, size: 1400, outcome: 'timeExceeded', from: '2001:db8::2' }, { ...header, family: 6 }), 'From 2001:db8::2 seq=1: hop limit exceeded');
  assert.equal(renderProbe({ seq: 2, size: 1400, outcome: 'unreachable', from: '198.18.1.2', reason: 'host unreachable' }, header), 'From 198.18.1.2 seq=2: destination unreachable: host unreachable');
  assert.equal(renderProbe({ seq: 4, size: 1501, outcome: 'localTooBig', mtu: 1500 }, header), 'seq=4: local error: 1501 bytes exceed the interface MTU 1500 (not sent)');
  assert.equal(renderProbe({ seq: 5, size: 1400, outcome: 'lost' }, { ...header, timeoutMs: 300 }), 'seq=5: no answer within 0.3 s');
  assert.equal(renderProbe({ seq: 5, size: 1402, outcome: 'lost' }, { ...header, sweep: { from: 1400, to: 1410, step: 2 } }), 'seq=5: no answer within 1 s (1402 bytes)');

  const probes = [reply(1, 1), reply(1, 2, { duplicate: true }), { seq: 2, size: 1400, outcome: 'lost' as const }, reply(3, 3)];
  const result: PingResult = { ...header, probes, summary: summarize(probes, 0, 2003.4), sweepReport: null, ignored: 2, aborted: true };
  assert.equal(
    renderSummary(result),
    [
      '--- server ping statistics ---',
      '3 packets transmitted, 2 received, +1 duplicates, 33.3% packet loss, time 2003ms',
      'rtt min/avg/max/mdev = 1.000/2.000/3.000/1.000 ms',
      "2 answer(s) ignored: not ours (another ping's, or quoting no request we sent)",
      '(interrupted)',
      '',
    ].join('\n'),
  );
});

test('library: usage errors before any socket is opened', async () => {
  await assert.rejects(ping('127.0.0.1', {}), /give a count/);
  await assert.rejects(ping('127.0.0.1', { count: 0 }), /count must be/);
  await assert.rejects(ping('127.0.0.1', { count: 1, sweep: { from: 100, to: 200 } }), /count does not apply/);
  await assert.rejects(ping('127.0.0.1', { sweep: { from: 100, to: 200 }, size: 100 }), /size\/payload do not apply/);
  await assert.rejects(ping('127.0.0.1', { count: 1, ttl: 0 }), /ttl must be 1..255/);
  await assert.rejects(ping('127.0.0.1', { count: 1, size: 20 }), /minimum of 36/);
  await assert.rejects(ping('127.0.0.1', { count: 1, method: 'udp' as never }), /method must be/);
  // The library names its own option; the CLI says -4 (test/cli/input.test.ts).
  await assert.rejects(ping('::1', { count: 1, family: 4 }), /is an IPv6 address, but family 4 was asked for/);
  await assert.rejects(ping('127.0.0.1', { count: 1, signal: AbortSignal.abort() }), AbortError);
});

test('CLI: bad sizes and options exit 2 with the reason, nothing on stdout', () => {
  const cases: Array<[string[], RegExp]> = [
    [['127.0.0.1', '-c', '1', '-s', '20'], /size 20 is below the minimum of 36 bytes for IPv4/],
    [['::1', '-c', '1', '-s', '1279', '--sweep', '1:2'], /--sweep sets the sizes itself/],
    [['::1', '-c', '1', '-s', '50'], /minimum of 56 bytes for IPv6/],
    [['127.0.0.1', '-c', '1', '--payload', '4'], /payload 4 is below the minimum of 8 bytes/],
    [['127.0.0.1', '-c', '1', '-s', '70000'], /--size must be from 1 to 65535/],
    [['127.0.0.1', '-c', '1', '-s', '1400', '--payload', '1372'], /exclude each other/],
    [['127.0.0.1', '--sweep', '1404:1396'], /runs backwards/],
    [['127.0.0.1', '--sweep', '1396-1404'], /--sweep must look like A:B/],
    [['127.0.0.1', '--sweep', '10:100'], /sweep start 10 is below the minimum/],
    [['127.0.0.1', '-c', '1', '--df', '--no-df'], /--df and --no-df exclude each other/],
    [['127.0.0.1', '-c', 'x'], /-c must be a whole number/],
    [['127.0.0.1', '-c', '1', '-t', '256'], /-t must be from 1 to 255/],
    [['127.0.0.1', '-c', '1', '-W', '0'], /-W must be from 0\.001 to 600 seconds, got 0/],
    [['127.0.0.1', '-c', '1', '-m', 'udp'], /--method must be auto, icmp or icmp-dgram/],
    [['-c', '1'], /missing <host>/],
  ];
  for (const [args, re] of cases) {
    const r = spawnSync(process.execPath, [bin, 'ping', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  const h = spawnSync(process.execPath, [bin, 'ping', '--help'], { encoding: 'utf8' });
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage:\n {2}pathmtu ping <host>/);
  assert.match(h.stdout, /--payload N +ICMP payload/);
  const top = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.match(top.stdout, /^ {2}ping +ping with DF set/m);
});
