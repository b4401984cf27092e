// Every tool publishes its probes and their outcomes on the 'pathmtu:probe' diagnostics_channel in
// one shape (src/probe/diagnostics.ts), and NODE_DEBUG=pathmtu logs them. Checked on the lab:
// client -> r1 -> r2 -> server, 1500 everywhere; trace, ping, check-server and inject run from the
// client namespace while a subscriber collects what they publish.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { checkServer } from '../../src/checkserver/index.js';
import { inject } from '../../src/inject/index.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import { ping } from '../../src/ping/index.js';
import { PROBE_CHANNEL, describeProbe, type ProbeMessage, type ProbeTool } from '../../src/probe/diagnostics.js';
import { trace } from '../../src/trace/index.js';
import { PORT, seedServer } from '../checkserver/servers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));

/** Collect every message published while fn runs in the client namespace. */
async function collect(lab: Lab, fn: () => Promise<unknown>): Promise<ProbeMessage[]> {
  const seen: ProbeMessage[] = [];
  const onMessage = (m: unknown): void => {
    seen.push(m as ProbeMessage);
  };
  subscribe(PROBE_CHANNEL, onMessage);
  lab.enter('client');
  try {
    await fn();
  } finally {
    lab.leave();
    unsubscribe(PROBE_CHANNEL, onMessage);
  }
  return seen;
}

/** The shape every message has, whatever the tool; outcomes answer a probe sent before them. */
function assertShape(messages: ProbeMessage[], tool: ProbeTool, target: string, family: 4 | 6): void {
  const ours = messages.filter((m) => m.tool === tool);
  assert.ok(ours.length > 0, `${tool} published nothing`);
  const sent = new Set<number>();
  let last = -Infinity;
  for (const m of ours) {
    assert.ok(m.type === 'probe' || m.type === 'outcome', JSON.stringify(m));
    assert.equal(m.target, target);
    assert.equal(m.family, family);
    assert.equal(typeof m.method, 'string');
    assert.ok(Number.isInteger(m.size) && m.size > 0, `size ${m.size}`);
    assert.ok(Number.isInteger(m.token), `token ${m.token}`);
    assert.ok(m.atMs >= last - 0.001 && m.atMs >= 0, 'atMs counts from the run start, in order');
    last = m.atMs;
    if (m.type === 'probe') sent.add(m.token);
    else {
      assert.ok(sent.has(m.token), `outcome for a token never sent: ${JSON.stringify(m)}`);
      assert.equal(typeof m.kind, 'string');
      if (m.outcome) assert.equal(m.outcome.kind, m.kind);
    }
    assert.ok(describeProbe(m).startsWith(`${tool} ${m.type} ${m.method} ${target} size=${m.size}`));
  }
}

const spec = { routers: [{}, {}] };

labTest('trace, ping, check-server and inject publish their probes and outcomes on pathmtu:probe', spec, async (lab) => {
  for (const family of [4, 6] as const) {
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const traced = await collect(lab, () => trace(server, { family }));
    assertShape(traced, 'trace', server, family);
    const rounds = traced.filter((m) => m.tool === 'trace');
    // TTL-limited probes: time exceeded from the routers, with the TTL in the message.
    const exceeded = rounds.filter((m) => m.type === 'outcome' && m.kind === 'timeExceeded');
    assert.ok(exceeded.length >= 2, `time exceeded from both routers: ${rounds.map(describeProbe).join('\n')}`);
    assert.ok(exceeded.every((m) => m.ttl !== undefined && m.ttl >= 1 && m.ttl <= 2));
    assert.ok(rounds.some((m) => m.type === 'probe' && m.ttl !== undefined));

    const pinged = await collect(lab, () => ping(server, { family, count: 2, intervalMs: 200, size: 1400 }));
    assertShape(pinged, 'ping', server, family);
    const p = pinged.filter((m) => m.tool === 'ping');
    assert.deepEqual(p.map((m) => m.type), ['probe', 'outcome', 'probe', 'outcome']);
    assert.ok(p.every((m) => m.size === 1400 && (m.method === 'icmp' || m.method === 'icmp-dgram')));
    assert.ok(p.filter((m) => m.type === 'outcome').every((m) => m.type === 'outcome' && m.kind === 'delivered' && m.outcome?.kind === 'delivered'));
  }

  // check-server: each PTB copy is a probe (method ptb, the announced MTU), its verdict the outcome.
  const srv = await seedServer(lab, 4);
  try {
    const checked = await collect(lab, () => checkServer(lab.server.v4, PORT, { rawStream: true }));
    assertShape(checked, 'check-server', lab.server.v4, 4);
    const c = checked.filter((m) => m.tool === 'check-server');
    assert.ok(c.filter((m) => m.type === 'probe').every((m) => m.method === 'ptb' && m.type === 'probe' && m.nextHopMtu === 1280 && m.size === 1500));
    const verdict = c.at(-1)!;
    assert.ok(verdict.type === 'outcome' && verdict.kind === 'success', describeProbe(verdict));
  } finally {
    srv.kill();
  }

  const injected = await collect(lab, () => inject({ target: lab.server.v4, about: lab.client.v4, mtu: 1400 }));
  assertShape(injected, 'inject', lab.server.v4, 4);
  const i = injected.filter((m) => m.tool === 'inject');
  assert.equal(i.length, 1);
  assert.ok(i[0]!.type === 'probe' && i[0]!.method === 'ptb' && i[0]!.nextHopMtu === 1400);

  // A request that times out: its outcome is 'lost' (the server drops echo requests for this).
  const nft = await lab.exec('server', ['nft', 'add table inet diag; add chain inet diag in { type filter hook input priority 0; }; add rule inet diag in icmp type echo-request drop']);
  assert.equal(nft.code, 0, nft.stderr);
  const lost = await collect(lab, () => ping(lab.server.v4, { count: 1, timeoutMs: 200 }));
  await lab.exec('server', ['nft', 'delete table inet diag']);
  assertShape(lost, 'ping', lab.server.v4, 4);
  assert.deepEqual(lost.filter((m) => m.tool === 'ping').map((m) => (m.type === 'outcome' ? m.kind : m.type)), ['probe', 'lost']);
}, { timeout: 40_000 });

labTest('NODE_DEBUG=pathmtu logs each probe and outcome on stderr; without it, nothing', spec, async (lab) => {
  const run = (env: Record<string, string>) =>
    lab.exec('client', [process.execPath, bin, 'ping', '-c', '2', '-i', '0.2', lab.server.v4], { env: { ...process.env, NO_COLOR: '1', ...env }, cwd: root, timeoutMs: 20_000 });
  const on = await run({ NODE_DEBUG: 'pathmtu' });
  assert.equal(on.code, 0, on.stderr);
  const lines = on.stderr.split('\n').filter((l) => /^PATHMTU \d+: /.test(l));
  const server = lab.server.v4.replace(/\./g, '\\.');
  assert.equal(lines.filter((l) => new RegExp(`: ping probe icmp(-dgram)? ${server} size=84 token=\\d+`).test(l)).length, 2, on.stderr);
  assert.equal(lines.filter((l) => new RegExp(`: ping outcome icmp(-dgram)? ${server} size=84 .* delivered from=${server} rtt=`).test(l)).length, 2, on.stderr);
  const off = await run({ NODE_DEBUG: '' });
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /PATHMTU/);
});
