// The icmp, icmp-dgram and tcp methods against real routers (lab), IPv4 and IPv6: a probe that fits
// is delivered, one byte more gets the bottleneck router's frag-needed/PTB, TTL 1 gets the first
// router's time-exceeded, and a probe above the client's interface MTU is refused locally.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import { createProber } from '../../src/probe/index.js';
import type { MethodName } from '../../src/probe/outcome.js';
import { bottleneckPath, CLIENT_MTU, families, methods, PATH_MTU, probeAll, serverOf } from './helpers.js';

const DIRECTION: Record<MethodName, string> = { icmp: 'round-trip', 'icmp-dgram': 'round-trip', tcp: 'forward', udp: 'forward' };

for (const method of methods) {
  labTest(`${method}: delivered at the path MTU, tooBig one byte above, timeExceeded at TTL 1, localTooBig above the interface`, bottleneckPath, async (lab) => {
    lab.enter('client');
    try {
      for (const f of families) {
        const prober = createProber(method, f);
        try {
          assert.equal(prober.method, method);
          assert.equal(prober.direction, DIRECTION[method]);
          const dst = serverOf(lab, f);
          const { tokens, outcomes } = await probeAll(prober, [
            { to: dst, size: PATH_MTU },
            { to: dst, size: PATH_MTU + 1 },
            { to: dst, size: 1300, ttl: 1 },
            { to: dst, size: CLIENT_MTU + 1 },
          ]);
          const [fits, tooBig, ttl1, local] = tokens.map((t) => outcomes.get(t) ?? []);
          const where = `${method} IPv${f}`;
          for (const list of [fits, tooBig, ttl1, local]) assert.equal(list.length, 1, `${where}: one outcome per probe, got ${JSON.stringify(list)}`);

          const d = fits[0];
          assert.equal(d.kind, 'delivered', `${where}: ${JSON.stringify(d)}`);
          assert.equal(d.size, PATH_MTU);
          assert.equal(d.destination, dst);
          assert.ok(d.kind === 'delivered' && d.from === dst && d.rttMs > 0);
          // The answer crossed the three routers: 64 - 3.
          assert.equal(d.kind === 'delivered' && d.replyTtl, 64 - lab.spec.routers.length);

          const b = tooBig[0];
          assert.equal(b.kind, 'tooBig', `${where}: ${JSON.stringify(b)}`);
          assert.ok(b.kind === 'tooBig');
          assert.equal(b.nextHopMtu, PATH_MTU);
          assert.equal(b.from, lab.bottleneckRouter(f));
          assert.equal(b.plausible, true);
          assert.equal(b.size, PATH_MTU + 1);

          const te = ttl1[0];
          assert.equal(te.kind, 'timeExceeded', `${where}: ${JSON.stringify(te)}`);
          assert.equal(te.kind === 'timeExceeded' && te.from, lab.routerAddress(1, f, 'in'));
          assert.equal(te.ttl, 1);

          const l = local[0];
          assert.equal(l.kind, 'localTooBig', `${where}: ${JSON.stringify(l)}`);
          assert.equal(l.kind === 'localTooBig' && l.mtu, CLIENT_MTU);

          assert.deepEqual([...prober.ignoredCounts], [], `${where}: nothing ignored on a clean lab`);
        } finally {
          prober.close();
        }
      }
    } finally {
      lab.leave();
    }
  });
}

labTest('tcp: a listening port answers SYN-ACK (delivered) and no handshake ever completes', { routers: [{}], links: [{}, { mtu: 1400 }] }, async (lab) => {
  const port = 8443;
  const listener = lab.spawn('server', [
    process.execPath,
    '-e',
    `const s = require('node:net').createServer((c) => { console.log('accepted'); c.destroy(); });
     s.listen(${port}, '::', () => console.log('ready'));`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  listener.stdout!.on('data', (d) => (out += d));
  try {
    const ready = Date.now() + 5000;
    while (!out.includes('ready') && Date.now() < ready) await new Promise((r) => setTimeout(r, 10));
    assert.ok(out.includes('ready'), 'listener started');
    lab.enter('client');
    try {
      for (const f of families) {
        const prober = createProber('tcp', f, { port });
        try {
          const dst = serverOf(lab, f);
          const { tokens, outcomes } = await probeAll(prober, [{ to: dst, size: 1400 }, { to: dst, size: 1200 }, { to: dst, size: 1000 }]);
          for (const t of tokens) {
            const o = outcomes.get(t) ?? [];
            assert.ok(o.length >= 1 && o.every((x) => x.kind === 'delivered' && x.from === dst), `IPv${f}: ${JSON.stringify(o)}`);
          }
        } finally {
          prober.close();
        }
      }
    } finally {
      lab.leave();
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!out.includes('accepted'), 'the listener never accepted a connection');
  } finally {
    listener.kill();
  }
});

labTest('every method reaches loopback (127.0.0.1 and ::1)', { routers: [{}] }, async (lab) => {
  lab.enter('client');
  try {
    for (const method of methods) {
      for (const f of families) {
        const dst = f === 4 ? '127.0.0.1' : '::1';
        const prober = createProber(method, f);
        try {
          const { tokens, outcomes } = await probeAll(prober, [{ to: dst, size: 1500 }, { to: dst, size: 9000 }]);
          for (const t of tokens) {
            const o = outcomes.get(t) ?? [];
            assert.equal(o.length, 1, `${method} IPv${f}: ${JSON.stringify(o)}`);
            assert.ok(o[0].kind === 'delivered' && o[0].from === dst, `${method} IPv${f}: ${JSON.stringify(o)}`);
          }
        } finally {
          prober.close();
        }
      }
    }
  } finally {
    lab.leave();
  }
});
