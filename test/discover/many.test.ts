// discoverMany() on the engine: the contract beyond "every answer right" (test/engine/hub.test.ts):
// leaving the loop early aborts what runs and lets go of the sockets; back-pressure holds the number
// of targets in progress to `concurrency`; a bad target is a result, not the end of the run; the
// caller's signal stops the run with partial results; bad options are usage errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Hub } from '../../src/lab/hub.js';
import { labSkipReason } from '../../src/lab/testing.js';
import { discoverMany, type ManyResult } from '../../src/discover/index.js';
import { AbortError, UsageError } from '../../src/errors.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PROBE_CHANNEL, type ProbeMessage } from '../../src/probe/diagnostics.js';
import { socketCount } from '../fds.js';

const skip = labSkipReason();


test('bad options are usage errors before anything is sent; an aborted signal rejects at once', async () => {
  const drain = async (it: AsyncIterable<ManyResult>): Promise<void> => {
    for await (const _ of it);
  };
  await assert.rejects(drain(discoverMany(['127.0.0.1'], { concurrency: 0 })), UsageError);
  await assert.rejects(drain(discoverMany(['127.0.0.1'], { concurrency: 1.5 })), UsageError);
  await assert.rejects(drain(discoverMany(['127.0.0.1'], { ratePps: 0 })), UsageError);
  await assert.rejects(drain(discoverMany(['127.0.0.1'], { ratePps: Number.NaN })), UsageError);
  await assert.rejects(drain(discoverMany(['127.0.0.1'], { signal: AbortSignal.abort() })), AbortError);
});

test('discoverMany on a small hub', { skip, timeout: 120_000 }, async (t) => {
  const hub = await Hub.create({ targets: 60 });
  const addresses = hub.targets(4).map((x) => x.address);
  const inClient = async <T>(fn: () => Promise<T>): Promise<T> => {
    hub.enter('client');
    try {
      return await fn();
    } finally {
      hub.leave();
    }
  };
  try {
    await t.test('a bad target is a result of its own; the others are answered, in any order, indexed as given', async () => {
      const input = [addresses[0]!, 'no-such-host.invalid', '::ffff:1.2.3.4', addresses[1]!];
      const out = await inClient(async () => {
        const rs: ManyResult[] = [];
        for await (const r of discoverMany(input, { family: 4, method: 'icmp' })) rs.push(r);
        return rs;
      });
      assert.equal(out.length, 4);
      const byIndex = new Map(out.map((r) => [r.index, r]));
      for (const i of [0, 3]) {
        const r = byIndex.get(i)!;
        assert.ok(r.ok, `${input[i]}`);
        assert.equal(r.target, input[i]);
        assert.equal(r.ok && r.result.pmtu, hub.expectedPmtu(input[i]!));
      }
      for (const i of [1, 2]) {
        const r = byIndex.get(i)!;
        assert.equal(r.ok, false, `${input[i]} is no target`);
        assert.ok(!r.ok && r.error.message.length > 0);
      }
    });

    await t.test("every target's probes and outcomes on pathmtu:probe, in the shape all tools share", async () => {
      const seen: ProbeMessage[] = [];
      const listener = (m: unknown): void => void seen.push(m as ProbeMessage);
      subscribe(PROBE_CHANNEL, listener);
      const picked = addresses.slice(0, 3);
      try {
        await inClient(async () => {
          for await (const r of discoverMany(picked, { family: 4, method: 'icmp' })) assert.ok(r.ok);
        });
      } finally {
        unsubscribe(PROBE_CHANNEL, listener);
      }
      for (const a of picked) {
        const mine = seen.filter((m) => m.target === a);
        const probes = mine.filter((m) => m.type === 'probe');
        const outcomes = mine.filter((m) => m.type === 'outcome');
        assert.ok(probes.length > 0 && outcomes.length > 0, a);
        for (const m of mine) {
          assert.equal(m.tool, 'discover');
          assert.equal(m.method, 'icmp');
          assert.equal(m.family, 4);
        }
        // Each outcome pairs with a probe of the same target by token, the same size.
        for (const o of outcomes) assert.ok(probes.some((p) => p.token === o.token && p.size === o.size), `${a} outcome token ${o.token}`);
        assert.ok(outcomes.some((o) => o.type === 'outcome' && o.kind === 'delivered' && o.size === hub.expectedPmtu(a)));
      }
    });

    await t.test('break after 3 results: the running targets are aborted and every socket is let go before the loop exits', async () => {
      const before = socketCount();
      const t0 = performance.now();
      let got = 0;
      await inClient(async () => {
        for await (const r of discoverMany(addresses, { family: 4, method: 'icmp', concurrency: 20 })) {
          assert.ok(r.ok);
          if (++got === 3) break;
        }
      });
      assert.equal(got, 3);
      assert.equal(socketCount(), before, 'no socket left open');
      // 60 targets take several hundred ms; stopping after 3 does not wait for the other 17 running.
      assert.ok(performance.now() - t0 < 5000);
    });

    await t.test('back-pressure: never more than `concurrency` targets started and not yet consumed', async () => {
      const started = new Set<number>();
      let consumed = 0;
      let worst = 0;
      await inClient(async () => {
        const it = discoverMany(addresses.slice(0, 20), {
          family: 4,
          method: 'icmp',
          concurrency: 4,
          onEvent: (i) => {
            started.add(i);
            worst = Math.max(worst, started.size - consumed);
          },
        });
        for await (const r of it) {
          assert.ok(r.ok);
          consumed++;
          // A slow consumer: finished results must wait, not pile up new targets.
          await new Promise((res) => setTimeout(res, 20));
        }
      });
      assert.equal(consumed, 20);
      assert.ok(worst <= 4, `${worst} targets in progress or unread at once`);
    });

    await t.test('the caller aborts mid-run: no new target starts; the running ones come back partial or are dropped', async () => {
      const ac = new AbortController();
      const out: ManyResult[] = [];
      await inClient(async () => {
        let first = true;
        for await (const r of discoverMany(addresses, { family: 4, method: 'icmp', concurrency: 10, signal: ac.signal })) {
          out.push(r);
          if (first) {
            first = false;
            ac.abort();
          }
        }
      });
      assert.ok(out.length < addresses.length, `${out.length} results after the abort`);
      assert.ok(out.length <= 1 + 10 * 2, 'at most what was started or waiting');
      for (const r of out.slice(1)) assert.ok(r.ok && (r.result.aborted || r.result.exact));
    });
  } finally {
    await hub.destroy();
  }
});
