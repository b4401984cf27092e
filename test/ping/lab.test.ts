// pathmtu ping against real routers: client -> r1 -> r2 -> r3 -> server, the r2-r3 link 1400.
// Each test builds its own lab, so routers' ICMP rate limits (a burst of about 6 errors per
// destination) start fresh; no test asks one router for more than 6 errors per family.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';
import { ping, type PingResult } from '../../src/ping/index.js';
import { main } from '../../src/cli/main.js';
import { NOBODY, pathmtuAsUser } from '../unprivileged.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const path = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };
const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function cli(lab: Lab, args: string[], opts: { uid?: number; node?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NO_COLOR: '1' };
  // Another user may not be able to read this checkout: the helper runs a staged copy for them.
  if (opts.uid !== undefined) return pathmtuAsUser(lab, opts.node ?? 'client', ['ping', ...args], { uid: opts.uid, env });
  return lab.exec(opts.node ?? 'client', [process.execPath, bin, 'ping', ...args], { env, cwd: root, timeoutMs: 20_000 });
}

async function json(lab: Lab, args: string[], opts: { uid?: number } = {}): Promise<{ code: number; r: PingResult }> {
  const out = await cli(lab, [...args, '--json'], opts);
  assert.equal(out.stderr, '', out.stderr);
  return { code: out.code, r: JSON.parse(out.stdout) as PingResult };
}

async function inClient<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  lab.enter('client');
  try {
    return await fn();
  } finally {
    lab.leave();
  }
}

/** The summary must agree with the probes it summarises (recomputed here, iputils' formulas). */
function assertSummaryConsistent(r: PingResult): void {
  const main = r.probes.filter((p) => !p.duplicate);
  const replies = main.filter((p) => p.outcome === 'reply');
  assert.equal(r.summary.sent, main.length);
  assert.equal(r.summary.received, replies.length);
  assert.equal(r.summary.errors, main.filter((p) => p.outcome !== 'reply' && p.outcome !== 'lost').length);
  assert.equal(r.summary.duplicates, r.probes.length - main.length);
  assert.ok(Math.abs(r.summary.lossPercent - (100 * (main.length - replies.length)) / main.length) < 1e-9);
  assert.deepEqual(main.map((p) => p.seq), main.map((_, i) => i + 1), 'seq counts from 1 in sending order');
  if (replies.length === 0) return assert.equal(r.summary.rtt, null);
  const x = replies.map((p) => p.rttMs!);
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const mean2 = x.reduce((a, b) => a + b * b, 0) / x.length;
  const rtt = r.summary.rtt!;
  assert.equal(rtt.min, Math.min(...x));
  assert.equal(rtt.max, Math.max(...x));
  assert.ok(Math.abs(rtt.avg - mean) < 1e-9);
  assert.ok(Math.abs(rtt.mdev - Math.sqrt(Math.max(0, mean2 - mean * mean))) < 1e-9);
}

labTest('library: replies at 1400, PTB at 1401 with MTU 1400 from the bottleneck router, refused locally above 1500 (v4, v6)', path, async (lab) => {
  await inClient(lab, async () => {
    for (const f of families) {
      const dst = serverOf(lab, f);
      const seen: number[] = [];
      const ok = await ping(dst, { count: 3, size: 1400, intervalMs: 50, onReply: (p) => seen.push(p.seq) });
      assert.equal(ok.method, 'icmp', 'root gets the raw socket');
      assert.equal(ok.socket, 'raw');
      assert.equal(ok.family, f);
      assert.equal(ok.size, 1400);
      assert.equal(ok.payload, 1400 - (f === 4 ? 28 : 48));
      assert.deepEqual(seen, [1, 2, 3], 'onReply once per request');
      for (const p of ok.probes) {
        assert.equal(p.outcome, 'reply', JSON.stringify(p));
        assert.equal(p.from, dst);
        assert.equal(p.size, 1400);
        assert.equal(p.ttl, 64 - 3, 'the reply crossed three routers');
        assert.ok(p.rttMs! > 0 && p.rttMs! < 1000);
      }
      assert.equal(ok.summary.received, 3);
      assert.equal(ok.summary.lossPercent, 0);
      assert.equal(ok.ignored, 0);
      assertSummaryConsistent(ok);

      const big = await ping(dst, { count: 3, size: 1401, intervalMs: 50 });
      assert.equal(big.probes.length, 3);
      for (const p of big.probes) {
        assert.equal(p.outcome, 'tooBig', JSON.stringify(p));
        assert.equal(p.nextHopMtu, 1400);
        assert.equal(p.from, lab.bottleneckRouter(f));
        assert.equal(p.plausible, true);
      }
      assert.deepEqual([big.summary.received, big.summary.errors, big.summary.lossPercent], [0, 3, 100]);
      assertSummaryConsistent(big);

      const local = await ping(dst, { count: 1, size: 1501, intervalMs: 50 });
      assert.equal(local.probes[0].outcome, 'localTooBig', JSON.stringify(local.probes));
      assert.equal(local.probes[0].mtu, 1500);
      assert.equal(local.summary.errors, 1);
    }
  });
});

labTest('CLI: reply lines, "packet too big" with MTU and router, summary, exit 0 / 1; --payload counts as ping -s does', path, async (lab) => {
  const dst = lab.server.v4;
  const ok = await cli(lab, [dst, '-c', '2', '-i', '0.05', '-s', '1400']);
  assert.equal(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trimEnd().split('\n');
  assert.match(lines[0], new RegExp(`^PING ${re(dst)}: size 1400 \\(1372 payload \\+ 28\\), whole IP packet, DF set, raw ICMP socket$`));
  for (const seq of [1, 2]) assert.match(lines[seq], new RegExp(`^1400 bytes from ${re(dst)}: seq=${seq} ttl=61 time=\\d+\\.\\d+ ms$`));
  assert.equal(lines[3], `--- ${dst} ping statistics ---`);
  assert.match(lines[4], /^2 packets transmitted, 2 received, 0% packet loss, time \d+ms$/);
  assert.match(lines[5], /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/);

  // --payload 1373 is the 1401-byte packet: iputils' unit, said so in the header.
  const big = await cli(lab, [dst, '-c', '2', '-i', '0.05', '--payload', '1373']);
  assert.equal(big.code, 1, 'no reply: exit 1');
  assert.match(big.stdout, /: payload 1373 \(as ping -s\), whole IP packet 1401 \(1373 payload \+ 28\), DF set/);
  const router = lab.bottleneckRouter(4)!;
  assert.match(big.stdout, new RegExp(`^From ${re(router)} seq=1: packet too big, next-hop MTU 1400$`, 'm'));
  assert.match(big.stdout, new RegExp(`^From ${re(router)} seq=2: packet too big, next-hop MTU 1400$`, 'm'));
  assert.match(big.stdout, /^2 packets transmitted, 0 received, \+2 errors, 100% packet loss/m);
  assert.doesNotMatch(big.stdout, /^rtt /m);

  const q = await cli(lab, [dst, '-c', '2', '-i', '0.05', '-q']);
  assert.equal(q.code, 0);
  assert.equal(q.stdout.split('\n').filter((l) => l.includes('bytes from')).length, 0, '-q: no per-reply lines');
  assert.match(q.stdout, /2 packets transmitted, 2 received/);

  const v6 = await json(lab, ['-6', lab.server.v6, '-c', '2', '-i', '0.05', '-s', '1401']);
  assert.equal(v6.code, 1);
  assert.equal(v6.r.family, 6);
  assert.equal(v6.r.sizeUnit, 'packet');
  assert.deepEqual([v6.r.size, v6.r.payload, v6.r.overhead, v6.r.df, v6.r.method], [1401, 1353, 48, true, 'icmp']);
  for (const p of v6.r.probes) {
    assert.deepEqual([p.outcome, p.size, p.nextHopMtu, p.from], ['tooBig', 1401, 1400, lab.bottleneckRouter(6)]);
  }
  assertSummaryConsistent(v6.r);
});

labTest('--sweep 1396:1404: a table of sizes that pass and that get a PTB, and the largest that passed (v4, v6)', path, async (lab) => {
  for (const f of families) {
    const dst = serverOf(lab, f);
    const r = await cli(lab, [dst, '--sweep', '1396:1404', '-i', '0.05', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const oh = f === 4 ? 28 : 48;
    const table = r.stdout.slice(r.stdout.indexOf('--- sweep'));
    assert.match(table, /^ {2}1396\.\.1400 +reply \([\d.]+(\.\.[\d.]+)? ms\)$/m, table);
    assert.match(table, new RegExp(`^  1401\\.\\.1404 +packet too big from ${re(lab.bottleneckRouter(f)!)}, next-hop MTU 1400$`, 'm'), table);
    assert.match(table, new RegExp(`^largest that passed: 1400 \\(${1400 - oh} payload \\+ ${oh}\\)$`, 'm'));
    assert.match(r.stdout, /^9 packets transmitted, 5 received, \+4 errors, 44\.4% packet loss/m);
  }
});

labTest('--sweep --json: per probe size, outcome, nextHopMtu and from; sweepReport (v4, v6)', path, async (lab) => {
  for (const f of families) {
    const { code, r } = await json(lab, [serverOf(lab, f), '--sweep', '1396:1404:2', '-i', '0.05']);
    assert.equal(code, 0);
    assert.deepEqual(r.sweep, { from: 1396, to: 1404, step: 2 });
    assert.deepEqual(r.probes.map((p) => p.size), [1396, 1398, 1400, 1402, 1404]);
    assert.deepEqual(r.probes.map((p) => p.outcome), ['reply', 'reply', 'reply', 'tooBig', 'tooBig']);
    for (const p of r.probes.slice(3)) assert.deepEqual([p.nextHopMtu, p.from], [1400, lab.bottleneckRouter(f)]);
    assert.deepEqual(r.sweepReport, { from: 1396, to: 1404, step: 2, largestPassed: 1400, smallestFailed: 1402 });
    assert.equal(r.summary.lossPercent, 40);
    assertSummaryConsistent(r);
  }
});

labTest('--no-df: 1401 gets replies over IPv4 (routers fragment it); IPv6 fragments at the source once it learns 1400', path, async (lab) => {
  const v4 = await json(lab, [lab.server.v4, '-c', '3', '-i', '0.05', '-s', '1401', '--no-df']);
  assert.equal(v4.code, 0);
  assert.equal(v4.r.df, false);
  assert.deepEqual(v4.r.probes.map((p) => [p.outcome, p.size, p.from]), Array(3).fill(['reply', 1401, lab.server.v4]));
  // The same size with DF (the default) does not get through: the replies above came fragmented.
  const df = await json(lab, [lab.server.v4, '-c', '1', '-i', '0.05', '-s', '1401', '--df']);
  assert.equal(df.r.probes[0].outcome, 'tooBig');

  const human = await cli(lab, [lab.server.v4, '-c', '1', '-s', '1401', '--no-df']);
  assert.match(human.stdout, /DF clear \(may be fragmented\)/);

  // IPv6 routers never fragment: the first request draws a PTB, the kernel learns 1400 and
  // fragments later ones itself (the server too, for its 1401-byte reply, after its own PTB).
  const v6 = await json(lab, [lab.server.v6, '-c', '4', '-i', '0.05', '-W', '0.5', '-s', '1401', '--no-df']);
  assert.equal(v6.r.probes[0].outcome, 'tooBig', JSON.stringify(v6.r.probes));
  assert.equal(v6.r.probes[0].nextHopMtu, 1400);
  assert.equal(v6.r.probes[3].outcome, 'reply', JSON.stringify(v6.r.probes));
  assert.equal(v6.code, 0);
});

labTest('-t 1: time exceeded from r1 (v4, v6)', path, async (lab) => {
  for (const f of families) {
    const r1 = lab.routerAddress(1, f, 'in');
    const human = await cli(lab, [serverOf(lab, f), '-c', '1', '-t', '1']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, new RegExp(`^From ${re(r1)} seq=1: ${f === 4 ? 'time to live' : 'hop limit'} exceeded$`, 'm'));
    const { r } = await json(lab, [serverOf(lab, f), '-c', '2', '-i', '0.05', '-t', '1']);
    assert.equal(r.ttl, 1);
    assert.deepEqual(r.probes.map((p) => [p.outcome, p.from]), [['timeExceeded', r1], ['timeExceeded', r1]]);
    assert.deepEqual([r.summary.received, r.summary.errors], [0, 2]);
  }
});

labTest('a server that drops echo requests: every request counted, 100% loss, exit 1', { ...path, server: { dropEcho: true } }, async (lab) => {
  const human = await cli(lab, [lab.server.v4, '-c', '3', '-i', '0.05', '-W', '0.3']);
  assert.equal(human.code, 1);
  for (const seq of [1, 2, 3]) assert.match(human.stdout, new RegExp(`^seq=${seq}: no answer within 0\\.3 s$`, 'm'));
  assert.match(human.stdout, /^3 packets transmitted, 0 received, 100% packet loss, time \d+ms$/m);
  const { code, r } = await json(lab, [lab.server.v6, '-c', '2', '-i', '0.05', '-W', '0.3']);
  assert.equal(code, 1);
  assert.deepEqual(r.probes.map((p) => p.outcome), ['lost', 'lost']);
  assert.deepEqual([r.summary.sent, r.summary.received, r.summary.errors, r.summary.lossPercent, r.summary.rtt], [2, 0, 0, 100, null]);
  // Each wait is the timeout, not more: two requests 50 ms apart, 0.3 s each.
  assert.ok(r.summary.elapsedMs >= 300 && r.summary.elapsedMs < 2000, `elapsed ${r.summary.elapsedMs}`);
});

labTest('duplicated replies are duplicates, not replies (v4, v6)', path, async (lab) => {
  // The server's firewall sends every echo reply twice (nft dup to its next hop).
  const rules = [
    'table ip dupt {\n chain out {\n type filter hook output priority 0;\n icmp type echo-reply dup to 198.18.3.1\n }\n}',
    'table ip6 dupt {\n chain out {\n type filter hook output priority 0;\n icmpv6 type echo-reply dup to 2001:db8:3::1\n }\n}',
  ];
  const nft = await lab.exec('server', ['nft', '-f', '-'], { input: `${rules.join('\n')}\n` });
  assert.equal(nft.code, 0, nft.stderr);
  await inClient(lab, async () => {
    for (const f of families) {
      const r = await ping(serverOf(lab, f), { count: 3, size: 1400, intervalMs: 50 });
      assert.deepEqual([r.summary.sent, r.summary.received, r.summary.duplicates, r.summary.lossPercent], [3, 3, 3, 0], JSON.stringify(r.probes));
      assert.deepEqual(r.probes.filter((p) => p.duplicate).map((p) => p.seq).sort(), [1, 2, 3]);
      assertSummaryConsistent(r);
    }
  });
  const human = await cli(lab, [lab.server.v4, '-c', '2', '-i', '0.05']);
  assert.equal(human.stdout.split('\n').filter((l) => l.endsWith('(DUP!)')).length, 2, human.stdout);
  assert.match(human.stdout, /^2 packets transmitted, 2 received, \+2 duplicates, 0% packet loss/m);
});

labTest('a stray ping from another process at the same time is not counted as ours (v4, v6)', path, async (lab) => {
  for (const f of families) {
    const dst = serverOf(lab, f);
    // Another process pinging the same server with another size; its replies reach our host, and
    // our raw socket's BPF program (our echo id only) drops them in the kernel.
    const hasPing = spawnSync('ping', ['-V'], { stdio: 'ignore' }).error === undefined;
    const argv = hasPing
      ? ['ping', `-${f}`, '-c', '60', '-i', '0.01', '-s', '1000', dst]
      : [process.execPath, bin, 'ping', '-c', '60', '-i', '0.01', '-s', '1000', dst];
    const other = lab.spawn('client', argv, { stdio: ['ignore', 'pipe', 'ignore'] });
    let otherOut = '';
    other.stdout!.on('data', (d: Buffer) => (otherOut += d.toString()));
    const started = new Promise<void>((resolve) => other.stdout!.once('data', () => resolve()));
    const ended = new Promise<void>((resolve) => other.once('exit', () => resolve()));
    try {
      await started;
      const r = await inClient(lab, () => ping(dst, { count: 8, size: 1400, intervalMs: 30 }));
      assert.deepEqual([r.summary.sent, r.summary.received, r.summary.duplicates, r.summary.errors], [8, 8, 0, 0], JSON.stringify(r.probes));
      assert.ok(r.probes.every((p) => p.size === 1400 && p.from === dst));
      const otherReplies = otherOut.split('\n').filter((l) => l.includes('bytes from')).length;
      assert.ok(otherReplies > 5, `the other ping got its replies meanwhile (${otherReplies})`);
      assert.equal(r.ignored, 0, "the other ping's replies never reached our socket");
    } finally {
      other.kill('SIGINT');
      await ended;
    }
  }
});

labTest('unprivileged (nobody): falls back to the ping socket; fast intervals refused', path, async (lab) => {
  for (const f of families) {
    const dst = serverOf(lab, f);
    const ok = await json(lab, [dst, '-c', '2', '-i', '0.2', '-s', '1400'], { uid: NOBODY });
    assert.equal(ok.code, 0);
    assert.deepEqual([ok.r.method, ok.r.socket], ['icmp-dgram', 'ping']);
    assert.deepEqual(ok.r.probes.map((p) => [p.outcome, p.from]), [['reply', dst], ['reply', dst]]);
    const big = await json(lab, [dst, '-c', '1', '-s', '1401'], { uid: NOBODY });
    assert.deepEqual([big.r.probes[0].outcome, big.r.probes[0].nextHopMtu, big.r.probes[0].from], ['tooBig', 1400, lab.bottleneckRouter(f)]);
  }
  const human = await cli(lab, [lab.server.v4, '-c', '1'], { uid: NOBODY });
  assert.match(human.stdout, /, ping socket$/m);
  const fast = await cli(lab, [lab.server.v4, '-c', '2', '-i', '0.05'], { uid: NOBODY });
  assert.equal(fast.code, 2);
  assert.match(fast.stderr, /below 0\.2 s needs root/);
});

labTest('neither a raw socket nor a ping socket: exit 1 naming both ways out', { ...path, clientPingGroup: false }, async (lab) => {
  const r = await cli(lab, [lab.server.v4, '-c', '1'], { uid: NOBODY });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /CAP_NET_RAW/);
  assert.match(r.stderr, /ping_group_range/);
  assert.match(r.stderr, /Run it as root/);
  assert.match(r.stderr, /sysctl -w net\.ipv4\.ping_group_range=/);
});

labTest('Ctrl-C (the signal): the summary of what was sent, exit 0 when any reply came', path, async (lab) => {
  const chunks: string[] = [];
  const stdout = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  const stderr = new Writable({ write(_c, _e, cb) { cb(); } });
  const ac = new AbortController();
  // No -c: endless, like ping, until "Ctrl-C" after the third reply.
  let replies = 0;
  const watch = new Writable({
    write(c, _e, cb) {
      stdout.write(c);
      if (/bytes from/.test(String(c)) && ++replies === 3) ac.abort();
      cb();
    },
  });
  const code = await inClient(lab, () => main(['ping', lab.server.v4, '-i', '0.05'], { stdout: watch, stderr, env: { NO_COLOR: '1' }, signal: ac.signal }));
  const out = chunks.join('');
  assert.equal(code, 0, out);
  assert.match(out, /^3 packets transmitted, 3 received, 0% packet loss/m);
  assert.match(out, /^\(interrupted\)$/m);

  // The library returns what it has, aborted: true; an aborted-before-start signal throws.
  const ac2 = new AbortController();
  const r = await inClient(lab, () => ping(lab.server.v6, { intervalMs: 50, signal: ac2.signal, onReply: (p) => p.seq === 2 && ac2.abort() }));
  assert.equal(r.aborted, true);
  assert.equal(r.count, null);
  assert.deepEqual([r.summary.sent, r.summary.received], [2, 2]);
});
