// The lab leaves no trace: nothing in the root namespace, nothing after destroy, stale labs of
// dead processes swept, live neighbours' labs left alone, two labs side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab, sweepStale } from '../../src/lab/lab.js';
import { labSkipReason } from '../../src/lab/testing.js';
import { listNetns, NETNS_DIR } from '../../src/lab/netns.js';
import { ping } from './ping.js';

const skip = labSkipReason();
const spec = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };

function rootLinks(): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((x): x is string => !!x).sort();
}

const mine = () => listNetns().filter((n) => n.startsWith(`pmtu-${process.pid}-`));

test('no interface ever appears in the root namespace; destroy removes every namespace', { skip }, async () => {
  const before = rootLinks();
  const lab = await Lab.create(spec);
  let during: string[];
  try {
    during = rootLinks();
    assert.equal(mine().length, 5);
    assert.deepEqual(lab.nodes, ['client', 'r1', 'r2', 'r3', 'server']);
    for (const n of lab.nodes) assert.ok(existsSync(`${NETNS_DIR}/${lab.nsName(n)}`));
  } finally {
    await lab.destroy();
  }
  assert.deepEqual(during.filter((l) => !before.includes(l)), [], 'new root interfaces while the lab lived');
  assert.deepEqual(rootLinks().filter((l) => !before.includes(l)), []);
  assert.deepEqual(mine(), []);
  await lab.destroy(); // idempotent
  await assert.rejects(lab.exec('client', ['true']), /destroyed/);
});

test('sweepStale removes a dead process\'s namespace and keeps a live one\'s', { skip }, async () => {
  // A pid that surely is dead: a child that has exited and been reaped.
  const dead = spawnSync('true').pid!;
  const stale = `pmtu-${dead}-z-client`;
  const alive = `pmtu-1-z-client`; // pid 1 always exists
  for (const n of [stale, alive]) assert.equal(spawnSync('ip', ['netns', 'add', n]).status, 0);
  try {
    assert.ok((await sweepStale()) >= 1);
    assert.equal(existsSync(`${NETNS_DIR}/${stale}`), false);
    assert.equal(existsSync(`${NETNS_DIR}/${alive}`), true);
  } finally {
    spawnSync('ip', ['netns', 'del', stale]);
    spawnSync('ip', ['netns', 'del', alive]);
  }
});

test('two labs at once share addresses but not namespaces', { skip }, async () => {
  const [a, b] = await Promise.all([Lab.create(spec), Lab.create({ routers: [{}] })]);
  try {
    assert.notEqual(a.nsName('client'), b.nsName('client'));
    assert.equal(a.client.v4, b.client.v4);
    assert.equal((await ping(a, 'client', 4, a.server.v4, 1400)).received, 1);
    assert.equal((await ping(b, 'client', 4, b.server.v4, 1500)).received, 1);
    await a.destroy();
    // b is untouched by a's teardown.
    assert.equal((await ping(b, 'client', 6, b.server.v6, 1500)).received, 1);
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
  assert.deepEqual(mine(), []);
});

test('a process killed mid-lab leaves namespaces that the next sweep removes', { skip }, async () => {
  // The child builds a lab and is SIGKILLed: no exit handler runs, so only the sweep can clean up.
  const code = `import { Lab } from ${JSON.stringify(new URL('../../src/lab/lab.ts', import.meta.url).href)};
    await Lab.create({ routers: [{}] }); console.log(process.pid); process.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, r.stderr);
  const left = () => listNetns().filter((n) => n.startsWith(`pmtu-${pid}-`));
  assert.equal(left().length, 3);
  await sweepStale();
  assert.deepEqual(left(), []);
});

test('a process that exits without destroy cleans up in its exit handler', { skip }, async () => {
  const code = `import { Lab } from ${JSON.stringify(new URL('../../src/lab/lab.ts', import.meta.url).href)};
    await Lab.create({ routers: [{}] }); console.log(process.pid); process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, r.stderr);
  assert.deepEqual(listNetns().filter((n) => n.startsWith(`pmtu-${pid}-`)), []);
});

test('SIGTERM tears the lab down and still ends the process by that signal', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const code = `import { Lab } from ${JSON.stringify(new URL('../../src/lab/lab.ts', import.meta.url).href)};
    await Lab.create({ routers: [{}] }); console.log(process.pid); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  assert.equal(listNetns().filter((n) => n.startsWith(`pmtu-${pid}-`)).length, 3);
  const ended = new Promise<string | null>((resolve) => child.once('exit', (_c, sig) => resolve(sig)));
  child.kill('SIGTERM');
  assert.equal(await ended, 'SIGTERM');
  assert.deepEqual(listNetns().filter((n) => n.startsWith(`pmtu-${pid}-`)), []);
});
