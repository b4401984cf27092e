// The engine's scheduler: one timer for every job's wake-ups (run in time order), the global rate
// cap, wake() superseding a pending wake-up, remove() ending a job, the router mirror; and the heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from '../../src/engine/heap.js';
import { Scheduler, type Job, type JobHandle } from '../../src/engine/scheduler.js';
import { prng } from '../../src/search/prng.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('heap: pops in (at, seq) order whatever the push order', () => {
  const rand = prng(3);
  const h = new MinHeap<{ at: number; seq: number }>();
  const items = Array.from({ length: 500 }, (_, seq) => ({ at: Math.floor(rand() * 50), seq }));
  for (const i of items) h.push(i);
  const out: Array<{ at: number; seq: number }> = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
  const sorted = [...items].sort((a, b) => a.at - b.at || a.seq - b.seq);
  assert.deepEqual(out, sorted);
  assert.equal(h.size, 0);
});

test('wake-ups run in time order, from one timer, and a removed job never runs again', async () => {
  const s = new Scheduler({ ratePps: 1e6 });
  const order: string[] = [];
  const t0 = s.now();
  // Each job: first step at once (sends nothing), then asks to run again at t0 + its delay.
  for (const [name, delay] of [['c', 60], ['a', 20], ['b', 40], ['gone', 30]] as const) {
    let steps = 0;
    let h: JobHandle | undefined;
    const job: Job = {
      step: (now) => {
        steps++;
        if (steps === 1) return { sent: 0, wakeAt: t0 + delay };
        order.push(name);
        assert.ok(now >= t0 + delay - 1, `${name} ran early: ${now - t0} ms`);
        s.remove(h!);
        return { sent: 0, wakeAt: null };
      },
    };
    h = s.add(job);
    if (name === 'gone') setTimeout(() => s.remove(h!), 5);
  }
  await sleep(120);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.equal(s.jobs, 0);
});

test('wake() runs a job again soon and supersedes its pending wake-up', async () => {
  const s = new Scheduler({ ratePps: 1e6 });
  const runs: number[] = [];
  const t0 = s.now();
  const h = s.add({
    step: (now) => {
      runs.push(Math.round(now - t0));
      // Always ask for a wake-up 1 s out: only wake() brings it back sooner.
      return { sent: 0, wakeAt: now + 1000 };
    },
  });
  await sleep(20);
  s.wake(h);
  await sleep(20);
  assert.equal(runs.length, 2, `runs at ${runs}`);
  assert.ok(runs[1]! < 500);
  s.remove(h);
  await sleep(10);
  assert.equal(runs.length, 2);
});

test('the rate cap: 400 jobs of one probe each at 2,000 pps take ~0.2 s, never faster than the bucket allows', async () => {
  const s = new Scheduler({ ratePps: 2000, burst: 10 });
  const sentAt: number[] = [];
  const t0 = s.now();
  await new Promise<void>((resolve) => {
    let left = 400;
    for (let i = 0; i < 400; i++) {
      const h = s.add({
        step: (now) => {
          sentAt.push(now - t0);
          s.remove(h);
          if (--left === 0) resolve();
          return { sent: 1, wakeAt: null };
        },
      });
    }
  });
  const span = sentAt[sentAt.length - 1]! - sentAt[0]!;
  // 400 probes, 10 in the first burst, 390 more at 2 per ms: at least 195 ms.
  assert.ok(span >= 190, `400 probes in ${span.toFixed(1)} ms`);
  // In any window of 100 ms, at most 200 probes plus the burst.
  for (let i = 0, j = 0; i < sentAt.length; i++) {
    while (sentAt[i]! - sentAt[j]! > 100) j++;
    assert.ok(i - j + 1 <= 200 + 10 + 1, `${i - j + 1} probes within 100 ms`);
  }
});

test('a step that throws ends that job only (fail is told), the others go on', async () => {
  const s = new Scheduler({ ratePps: 1e6 });
  let failed: unknown;
  let other = 0;
  s.add({
    step: () => {
      throw new Error('boom');
    },
    fail: (e) => (failed = e),
  });
  const h = s.add({ step: () => (other++ < 2 ? { sent: 0, wakeAt: s.now() + 5 } : (s.remove(h), { sent: 0, wakeAt: null })) });
  await sleep(50);
  assert.match(String(failed), /boom/);
  assert.equal(other, 3);
  assert.equal(s.jobs, 0);
});

test('router mirror: a Linux-like router is exhausted after its burst; one that keeps answering is not limited', () => {
  let now = 0;
  const s = new Scheduler({ ratePps: 1000, clock: () => now });
  for (let i = 0; i < 6; i++) s.routerError('r-limited', now);
  assert.equal(s.routerExhausted('r-limited', now), true, 'six errors spend the mirrored budget');
  now += 1500;
  assert.equal(s.routerExhausted('r-limited', now), false, 'a token back after a second');
  // A router that keeps sending far past its mirrored budget (Linux frag-needed is not limited).
  for (let i = 0; i < 30; i++) s.routerError('r-free', now);
  assert.equal(s.routerExhausted('r-free', now), false);
  assert.equal(s.routerExhausted('never-heard', now), false);
});

test('after(): one-shot deadlines on the same timer, in order, cancellable, not held back by the rate cap', async () => {
  const s = new Scheduler({ ratePps: 10, burst: 1 });
  const fired: string[] = [];
  // A job that spends the cap: the bucket stays in debt for seconds.
  const h = s.add({ step: () => ({ sent: 100, wakeAt: null }) });
  s.after(30, () => fired.push('b'));
  s.after(10, () => fired.push('a'));
  const c = s.after(20, () => fired.push('cancelled'));
  c.cancel();
  await sleep(80);
  assert.deepEqual(fired, ['a', 'b']);
  s.remove(h);
  assert.equal(s.jobs, 0);
});
