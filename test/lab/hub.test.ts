// The hub lab (issue 8's proving ground): many targets behind one router, each with its own path
// MTU, some behind a router that drops its PTBs. The truth the API states is checked against the
// kernel's own view (route lookups on the routers, DF pings from the client), every address is
// checked to answer, and today's discover() finds exactly the stated PMTU on a sample.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIPv4, isIPv6 } from 'node:net';
import { Hub } from '../../src/lab/hub.js';
import { planHub, type HubSpec, type HubTarget } from '../../src/lab/hub-spec.js';
import { labSkipReason } from '../../src/lab/testing.js';
import { LabError } from '../../src/errors.js';
import { discover } from '../../src/discover/index.js';
import { ProbeSocket, type ErrQueueEntry, type Message } from '../../src/sock/socket.js';
import type { Family } from '../../src/wire/facts.js';
import { PING_OVERHEAD } from './ping.js';

const families: Family[] = [4, 6];

// ---- the plan (pure) ----

test('planHub: 1,000 targets per family by default, exactly 10% black holes, spread out', () => {
  const plan = planHub();
  for (const f of families) {
    const ts = plan.targets[f];
    assert.equal(ts.length, 1000);
    assert.equal(ts.filter((t) => t.blackHole).length, 100);
    // Spread: every block of 100 consecutive targets holds 10 black holes.
    for (let b = 0; b < 10; b++) assert.equal(ts.slice(b * 100, b * 100 + 100).filter((t) => t.blackHole).length, 10);
    assert.equal(new Set(ts.map((t) => t.address)).size, 1000, 'addresses are unique');
    const floor = f === 4 ? 576 : 1280;
    for (const t of ts) {
      assert.ok(f === 4 ? isIPv4(t.address) && t.address.startsWith('198.19.') : isIPv6(t.address) && t.address.startsWith('2001:db8:100::'), t.address);
      assert.ok(t.pmtu >= floor && t.pmtu <= 1500, `${t.address} ${t.pmtu}`);
      if (t.blackHole) {
        assert.equal(t.pmtu, t.r2Mtu);
        assert.ok(t.r2Mtu! < t.r1Mtu, 'r1 lets more through than r2: the gap is the black hole');
        assert.equal(t.ptbFrom, undefined);
      } else {
        assert.equal(t.pmtu, t.r1Mtu);
        assert.equal(t.ptbFrom, f === 4 ? '198.18.0.2' : '2001:db8::2');
      }
    }
    // Many different PMTUs, not a handful.
    assert.ok(new Set(ts.map((t) => t.pmtu)).size > (f === 4 ? 500 : 150));
  }
});

test('planHub: the same seed gives the same hub, another seed another one', () => {
  assert.deepEqual(planHub({ targets: 50, seed: 7 }), planHub({ targets: 50, seed: 7 }));
  const a = planHub({ targets: 50, seed: 7 }).targets[4].map((t) => t.pmtu);
  const b = planHub({ targets: 50, seed: 8 }).targets[4].map((t) => t.pmtu);
  assert.notDeepEqual(a, b);
});

test('planHub: nonsense is a LabError that says what is wrong', () => {
  const bad: Array<[HubSpec, RegExp]> = [
    [{ targets: 0 }, /targets/],
    [{ targets: 1.5 }, /targets/],
    [{ targets: 100_000 }, /targets/],
    [{ blackHoles: 0.9 }, /blackHoles/],
    [{ blackHoles: Number.NaN }, /blackHoles/],
    [{ seed: 0.5 }, /seed/],
    [{ minMtu: { 6: 1200 } }, /IPv6/],
    [{ minMtu: { 4: 1500 } }, /IPv4/],
  ];
  for (const [spec, re] of bad) assert.throws(() => planHub(spec), (e) => e instanceof LabError && re.test(e.message), JSON.stringify(spec));
  assert.equal(planHub({ blackHoles: 0 }).targets[4].filter((t) => t.blackHole).length, 0);
});

// ---- the real hub ----

/** Like labTest, for a hub: skips with the reason without root, except under CI=true. */
function hubTest(name: string, spec: HubSpec, fn: (hub: Hub) => Promise<void>): void {
  const skip = labSkipReason();
  if (skip !== undefined) {
    test(name, { skip }, () => {});
    return;
  }
  test(name, { timeout: 120_000 }, async () => {
    const hub = await Hub.create(spec);
    try {
      await fn(hub);
    } finally {
      await hub.destroy();
    }
  });
}

/** `ip route get` for many addresses in one batch: address -> [next hop, route MTU]. */
async function routeGet(hub: Hub, node: 'r1' | 'r2', addresses: string[]): Promise<Map<string, { via: string; mtu: number }>> {
  const r = await hub.exec(node, ['ip', '-batch', '-'], { input: addresses.map((a) => `route get ${a}`).join('\n') + '\n' });
  assert.equal(r.code, 0, r.stderr);
  const out = new Map<string, { via: string; mtu: number }>();
  // v4: "198.19.1.1 via 198.18.1.2 dev eth1 ... \n    cache mtu lock 1062"; v6 on one line: "... via X dev eth1 ... mtu lock 1314 ...".
  for (const m of r.stdout.matchAll(/^(\S+) (?:from \S+ )?via (\S+) dev \S+[^\n]*(?:\n\s+cache)? mtu lock (\d+)/gm)) {
    out.set(m[1], { via: m[2], mtu: Number(m[3]) });
  }
  return out;
}

/** Sample of targets: every black hole among the first `n`, and the others around them. */
function sample(ts: readonly HubTarget[], n: number): HubTarget[] {
  return ts.filter((t, i) => i % Math.max(1, Math.floor(ts.length / n)) === 0 || t.blackHole).slice(0, n);
}

const rateLimitsOff: HubSpec = { routers: { icmpRateLimitMs: 0 }, targetHost: { icmpRateLimitMs: 0 } };

hubTest('the kernel agrees: r1 (and r2 for black holes) route every target with the stated MTU', { targets: 200, ...rateLimitsOff }, async (hub) => {
  for (const f of families) {
    const ts = hub.targets(f);
    assert.equal(ts.length, 200);
    assert.equal(ts.filter((t) => t.blackHole).length, 20);
    const r1 = await routeGet(hub, 'r1', ts.map((t) => t.address));
    const holes = ts.filter((t) => t.blackHole);
    const r2 = await routeGet(hub, 'r2', holes.map((t) => t.address));
    assert.equal(r1.size, 200, 'r1 has a route for every target');
    assert.equal(r2.size, 20, 'r2 has a route for every black hole');
    for (const t of ts) {
      const a = r1.get(t.address)!;
      assert.equal(a.via, t.blackHole ? hub.routerAddress('r2', f) : f === 4 ? '198.18.1.2' : '2001:db8:1::2', t.address);
      const kernelPmtu = t.blackHole ? Math.min(a.mtu, r2.get(t.address)!.mtu) : a.mtu;
      assert.equal(kernelPmtu, hub.expectedPmtu(t.address), t.address);
    }
  }
});

/** DF ping from the client with whole IP packets of `size` bytes. */
async function dfPing(hub: Hub, t: HubTarget, size: number): Promise<{ received: boolean; ptb?: { from: string; mtu: number }; out: string }> {
  const argv = ['ping', `-${t.family}`, '-n', '-c', '1', '-W', '0.5', '-M', 'do', '-s', String(size - PING_OVERHEAD[t.family]), t.address];
  const r = await hub.exec('client', argv, { timeoutMs: 10_000 });
  const out = r.stdout + r.stderr;
  const tb = /From (\S+) icmp_seq=\d+ (?:Frag needed and DF set \(mtu = (\d+)\)|Packet too big: mtu=(\d+))/.exec(out);
  return { received: /\b1 received/.test(out), ptb: tb ? { from: tb[1], mtu: Number(tb[2] ?? tb[3]) } : undefined, out };
}

hubTest('DF pings agree: pmtu passes, pmtu + 1 draws a PTB from r1 or, for a black hole, nothing', { targets: 200, ...rateLimitsOff }, async (hub) => {
  for (const f of families) {
    const picked = sample(hub.targets(f), 16);
    assert.ok(picked.some((t) => t.blackHole) && picked.some((t) => !t.blackHole));
    for (const t of picked) {
      const fits = await dfPing(hub, t, t.pmtu);
      assert.ok(fits.received, `${t.address} ${t.pmtu} should pass:\n${fits.out}`);
      const over = await dfPing(hub, t, t.pmtu + 1);
      assert.equal(over.received, false, over.out);
      if (t.blackHole) assert.equal(over.ptb, undefined, `black hole ${t.address} must stay silent:\n${over.out}`);
      else assert.deepEqual(over.ptb, { from: t.ptbFrom, mtu: t.pmtu }, `${t.address}:\n${over.out}`);
    }
  }
});

/**
 * Send one small datagram to every address from the client, paced under the targets' global ICMP
 * budget (icmp_msgs_per_sec 1000, burst 50), and collect who answered: echo replies on a ping
 * socket, port unreachables on a UDP socket's error queue (which names the original destination).
 */
async function whoAnswers(hub: Hub, family: Family, addresses: string[], kind: 'echo' | 'udp'): Promise<Set<string>> {
  const seen = new Set<string>();
  hub.enter('client');
  let sock: ProbeSocket;
  try {
    sock = ProbeSocket.open(kind === 'echo' ? 'icmp-dgram' : 'udp', family);
  } finally {
    hub.leave();
  }
  try {
    if (kind === 'udp') sock.receiveErrors(true);
    sock.on('message', (m: Message) => seen.add(m.from));
    sock.on('errqueue', (e: ErrQueueEntry) => {
      // ECONNREFUSED: a port unreachable, sent by the target itself.
      if (e.destination !== null && e.errno === 111 && e.offender === e.destination) seen.add(e.destination);
    });
    sock.start();
    for (const [i, address] of addresses.entries()) {
      // Echo request (type 8 / 128), id and checksum filled in by the ping socket.
      const data = kind === 'echo' ? Buffer.from([family === 4 ? 8 : 128, 0, 0, 0, 0, 0, i >> 8, i & 255]) : Buffer.from('hub');
      // sendProbe: a send may return the pending error an earlier port unreachable left; it drains and retries.
      const sent = sock.sendProbe(data, { address, port: kind === 'udp' ? 33434 : 0 });
      assert.ok(sent.ok, `send to ${address}: ${JSON.stringify(sent)}`);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 25));
    }
    const until = Date.now() + 2000;
    while (seen.size < addresses.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  } finally {
    sock.close();
  }
  return seen;
}

hubTest('every target address answers echo and sends port unreachable, v4 and v6', { targets: 200, ...rateLimitsOff }, async (hub) => {
  for (const f of families) {
    const all = hub.targets(f).map((t) => t.address);
    for (const kind of ['echo', 'udp'] as const) {
      const seen = await whoAnswers(hub, f, all, kind);
      const missing = all.filter((a) => !seen.has(a));
      assert.deepEqual(missing, [], `IPv${f} ${kind}: ${missing.length} of ${all.length} silent`);
      assert.ok([...seen].every((a) => all.includes(a)), 'answers come from target addresses only');
    }
  }
});

hubTest("today's discover(), one target at a time: exact and equal to the API, black holes included", { targets: 200, ...rateLimitsOff }, async (hub) => {
  for (const f of families) {
    const picked = sample(hub.targets(f), 20);
    assert.equal(picked.length, 20);
    assert.ok(picked.filter((t) => t.blackHole).length >= 5);
    const kinds = new Set(picked.map((t, k) => `${t.blackHole}/${Math.floor(k / 2) % 2}`));
    assert.equal(kinds.size, 4, 'icmp and udp each on plain targets and black holes');
    for (const [k, t] of picked.entries()) {
      // The sample alternates plain targets and black holes; pairs of them alternate methods, so
      // both methods meet both kinds.
      const method = Math.floor(k / 2) % 2 === 0 ? 'icmp' : 'udp';
      hub.enter('client');
      let r;
      try {
        r = await discover(t.address, { family: f, method });
      } finally {
        hub.leave();
      }
      const label = `IPv${f} ${method} ${t.address}${t.blackHole ? ' (black hole)' : ''}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, reason: r.reason })}`;
      assert.equal(r.pmtu, hub.expectedPmtu(t.address), label);
      assert.equal(r.exact, true, label);
      assert.equal(r.blackHole, t.blackHole, label);
    }
  }
});

hubTest('teardown leaves nothing behind; the API refuses foreign addresses', { targets: 10 }, async (hub) => {
  assert.throws(() => hub.expectedPmtu('198.18.0.1'), LabError);
  assert.equal(hub.expectedPmtu('2001:0db8:0100:0:0:0:0:1'), hub.targets(6)[0].pmtu, 'any IPv6 spelling');
  const names = hub.nodes.map((n) => hub.nsName(n));
  await hub.destroy();
  const { listNetns } = await import('../../src/lab/netns.js');
  assert.deepEqual(listNetns().filter((n) => names.includes(n)), []);
  assert.throws(() => hub.enter('client'), LabError);
});

// Hygiene as for the path lab (test/lab/hygiene.test.ts): a hub's namespaces go with its owner.
const skip = labSkipReason();

test('a hub whose process exits without destroy is torn down by the exit handler; a SIGKILLed one by the next sweep', { skip }, async () => {
  const { spawnSync } = await import('node:child_process');
  const { listNetns, sweepStale } = await import('../../src/lab/netns.js');
  const hubModule = JSON.stringify(new URL('../../src/lab/hub.ts', import.meta.url).href);
  const run = (end: string): number => {
    const code = `import { Hub } from ${hubModule}; await Hub.create({ targets: 20 }); console.log(process.pid); ${end}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0, r.stderr);
    return pid;
  };
  const left = (pid: number): string[] => listNetns().filter((n) => n.startsWith(`pmtu-${pid}-`));
  assert.deepEqual(left(run('process.exit(0);')), []);
  const killed = run("process.kill(process.pid, 'SIGKILL');");
  assert.equal(left(killed).length, 4, 'client, r1, r2, targets');
  await sweepStale();
  assert.deepEqual(left(killed), []);
});

test('no hub interface or address ever appears in the root namespace', { skip }, async () => {
  const { spawnSync } = await import('node:child_process');
  // Lifetimes (valid_lft/preferred_lft) count down by themselves: compare without them.
  const rootAddrs = (): string[] =>
    spawnSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.replace(/\\?\s*valid_lft.*$/, ''))
      .sort();
  const before = rootAddrs();
  const hub = await Hub.create({ targets: 10 });
  let during: string[];
  try {
    during = rootAddrs();
  } finally {
    await hub.destroy();
  }
  assert.deepEqual(during.filter((l) => !before.includes(l)), [], 'new root interfaces or addresses while the hub lived');
});
