// Runs rounds of worker threads (worker-sockets.mjs) that hold open, polled sockets of every kind,
// and terminates each one: as soon as its sockets are open, mid-traffic (a random 0-10 ms after
// every socket has received something), or at a random moment 0-30 ms after it started (while it
// may still be opening them). Run as a child process by worker.test.ts, so that a crash of the
// process — the segfault in uv__finish_close when a poll handle outlives the unloaded addon —
// is seen as its exit signal. This process polls a socket of its own and checks at the end that it
// still works: with `during`, that socket is open through every round (the addon stays loaded and
// polled on the main thread while workers die); with `after`, this process loads the binding only
// once the rounds are over, so each terminated worker is the addon's last user and Node unloads it
// (dlclose) with the worker — the case where a poll handle left open crashes.
// Prints one JSON line: {rounds, modes, open, failed, flowing, parentOk}.
// Usage: node worker-child.mjs ROUNDS during|after
import { Worker } from 'node:worker_threads';

const rounds = Number(process.argv[2] ?? 30);
const parentSocket = process.argv[3] ?? 'during';
if (parentSocket !== 'during' && parentSocket !== 'after') throw new Error(`parent socket 'during' or 'after', not ${parentSocket}`);
const MODES = ['open', 'traffic', 'random'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The promise's value, or null after ms (the timer does not outlive the answer). */
function within(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms, null)))]).finally(() => clearTimeout(timer));
}

const received = [];
async function openMine() {
  const { ProbeSocket } = await import('../../dist/sock/socket.js');
  const s = ProbeSocket.open('udp', 4).bind('127.0.0.1', 0);
  s.on('message', (m) => received.push(m.data.toString()));
  return s.start();
}
let mine = parentSocket === 'during' ? await openMine() : undefined;

const modes = { open: 0, traffic: 0, random: 0 };
let open = [];
const failed = new Set();
let flowing = 0;
for (let i = 0; i < rounds; i++) {
  const mode = MODES[i % MODES.length];
  modes[mode]++;
  const w = new Worker(new URL('./worker-sockets.mjs', import.meta.url));
  const errors = [];
  w.on('error', (e) => errors.push(e));
  const opened = new Promise((resolve) => w.on('message', (m) => m.open && resolve(m)));
  const flows = new Promise((resolve) => w.on('message', (m) => m.flowing && resolve(m)));
  if (mode === 'random') {
    await sleep(Math.random() * 30);
  } else {
    const m = await within(opened, 10_000);
    if (m === null) throw new Error(`round ${i}: the worker never opened its sockets`);
    open = m.open;
    for (const f of m.failed) failed.add(f);
    if (mode === 'traffic') {
      const f = await within(flows, 5_000);
      if (f === null) throw new Error(`round ${i}: traffic never reached every socket`);
      flowing++;
      await sleep(Math.random() * 10);
    }
  }
  await w.terminate();
  if (errors.length > 0) throw new Error(`round ${i} (${mode}): the worker failed: ${errors[0].stack ?? errors[0]}`);
}

// This process's own socket is still polled and still delivers.
mine ??= await openMine();
mine.send(Buffer.from('still here'), { address: '127.0.0.1', port: mine.localAddress().port });
for (let t = 0; t < 200 && received.length === 0; t++) await sleep(10);
mine.close();
process.stdout.write(JSON.stringify({ rounds, parentSocket, modes, open, failed: [...failed], flowing, parentOk: received.includes('still here') }) + '\n');
