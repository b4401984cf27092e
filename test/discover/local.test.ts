// A destination that is this host itself (route of type local: loopback, and this host's own
// addresses) has no routers: one probe at the largest size, delivered, is the exact answer — no
// scout, no plateau batch. Anything else (a firewall that drops the method on lo) still ends exact
// through the ordinary search and its fallbacks. A destination behind a router is not "local".
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { discover, type DiscoverEvent, type DiscoverResult } from '../../src/discover/index.js';
import { isLocalDestination } from '../../src/discover/local-route.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';

const cli = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
/** lo's MTU is 65536: IPv4's 16-bit total length caps a packet at 65535, IPv6 carries 40 + 65535. */
const LOOPBACK = { 4: 65535, 6: 65536 } as const;

async function inClient(lab: Lab, target: string, family: Family, events: DiscoverEvent[] = []): Promise<DiscoverResult> {
  lab.enter('client');
  try {
    return await discover(target, { family, onEvent: (e) => events.push(e) });
  } finally {
    lab.leave();
  }
}

labTest('local destinations (loopback, own addresses): one probe at the largest size, exact; a routed one is not local', { routers: [{}] }, async (lab) => {
  const cases: Array<[string, Family]> = [
    ['127.0.0.1', 4],
    ['127.0.0.2', 4], // 127/8 is all local, not only 127.0.0.1
    [lab.client.v4, 4],
    ['::1', 6],
    [lab.client.v6, 6],
  ];
  for (const [target, family] of cases) {
    lab.enter('client');
    try {
      assert.equal(isLocalDestination(target, family), true, `${target} is local`);
    } finally {
      lab.leave();
    }
    const events: DiscoverEvent[] = [];
    const r = await inClient(lab, target, family, events);
    const label = `${target}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, probes: r.probes, method: r.method, reason: r.reason })}`;
    assert.equal(r.pmtu, LOOPBACK[family], label);
    assert.equal(r.exact, true, label);
    assert.equal(r.probes, 1, label);
    assert.deepEqual(r.methodsTried, [{ method: r.method, outcome: 'answered' }], label);
    const sizes = events.filter((e) => e.type === 'probe').map((e) => (e.type === 'probe' ? e.size : 0));
    assert.deepEqual(sizes, [LOOPBACK[family]], `${label}: the only probe is the largest size`);
  }

  // Across a router: not local, the ordinary search runs (a control probe at the floor first).
  for (const family of [4, 6] as Family[]) {
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    lab.enter('client');
    try {
      assert.equal(isLocalDestination(server, family), false, `${server} is behind a router`);
    } finally {
      lab.leave();
    }
    const r = await inClient(lab, server, family);
    assert.equal(r.pmtu, lab.expectedPmtu(family));
    assert.equal(r.exact, true);
    assert.ok(r.probes > 1, `${server}: ${r.probes} probes`);
  }

  // The CLI says the same, v4 and v6.
  for (const [target, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
    const run = await lab.exec('client', [process.execPath, cli, '--json', target], { timeoutMs: 30_000 });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const j = JSON.parse(run.stdout) as DiscoverResult;
    assert.equal(j.pmtu, LOOPBACK[family]);
    assert.equal(j.exact, true);
    assert.equal(j.probes, 1);
    const text = await lab.exec('client', [process.execPath, cli, target], { timeoutMs: 30_000 });
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, new RegExp(`path MTU to ${target.replace(/\./g, '\\.')}: ${LOOPBACK[family]} bytes`));
    assert.match(text.stdout, /^ {2}1 probe in /m);
  }
});

labTest('local destination whose first method is dropped on lo: still exact, through the fallback', { routers: [{}] }, async (lab) => {
  // The client's own firewall drops echo requests arriving on lo: icmp's one large probe is lost,
  // the ordinary search and auto's scout find udp (port unreachable is not an echo).
  const rules = [
    'table inet pmtu_local_test {',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    iif "lo" icmp type echo-request drop',
    '    iif "lo" icmpv6 type echo-request drop',
    '  }',
    '}',
  ];
  const nft = await lab.exec('client', ['nft', '-f', '-'], { input: `${rules.join('\n')}\n` });
  assert.equal(nft.code, 0, nft.stderr);
  for (const [target, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
    const r = await inClient(lab, target, family);
    const label = `${target}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, probes: r.probes, method: r.method, tried: r.methodsTried, reason: r.reason })}`;
    assert.equal(r.pmtu, LOOPBACK[family], label);
    assert.equal(r.exact, true, label);
    assert.notEqual(r.method, 'icmp', label);
    assert.ok(r.probes > 1, label);
  }
});
