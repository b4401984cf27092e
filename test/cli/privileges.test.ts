// Started through sudo (root, SUDO_UID/SUDO_GID set), discover, trace and ping give up root for that
// user once their sockets are open, and still answer correctly through the sockets opened as root.
// SUDO_UID/SUDO_GID name nobody here, so what the process may still do after the drop is plain.
// The ids are read twice: from the kernel (/proc/<pid>/status while ping runs) and from --json.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { discover } from '../../src/discover/index.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';
import { ping } from '../../src/ping/index.js';
import { trace } from '../../src/trace/index.js';
import { ensureBundle } from '../bin/build.js';
import { NOBODY, pathmtuAsUser } from '../unprivileged.js';

ensureBundle(); // the binary runs the bundle
const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const bottleneck = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };
const SUDO = { SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY), SUDO_USER: 'nobody' };
const asNobody = { uid: NOBODY, gid: NOBODY, groups: [NOBODY] };

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  // The suite itself may run under sudo: only what a test sets counts.
  for (const k of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'SUDO_COMMAND']) if (!(k in extra)) delete e[k];
  return e;
}

/** The CLI as root in the client, with the given environment. */
function asRoot(lab: Lab, args: string[], extra: NodeJS.ProcessEnv = SUDO): Promise<{ code: number; stdout: string; stderr: string }> {
  return lab.exec('client', [process.execPath, bin, ...args], { env: env(extra), cwd: root, timeoutMs: 30_000 });
}

labTest('discover and trace under sudo: the answer comes through root\'s sockets, the rest runs as SUDO_UID', bottleneck, async (lab) => {
  for (const f of families) {
    const d = await asRoot(lab, [serverOf(lab, f), '--json']);
    assert.equal(d.code, 0, d.stderr);
    const dj = JSON.parse(d.stdout);
    assert.deepEqual([dj.method, dj.pmtu, dj.exact], ['icmp', 1400, true], 'the raw socket opened as root still works');
    assert.deepEqual(dj.runAs, asNobody);

    const t = await asRoot(lab, ['trace', '-n', serverOf(lab, f), '--json']);
    assert.equal(t.code, 0, t.stderr);
    const tj = JSON.parse(t.stdout);
    assert.deepEqual([tj.method, tj.pmtu, tj.reached], ['icmp', 1400, true]);
    assert.equal(tj.hops.length, 4);
    assert.equal(tj.hops[3].address, serverOf(lab, f));
    assert.deepEqual(tj.drops.map((x: { afterTtl: number; to: number }) => [x.afterTtl, x.to]), [[2, 1400]], JSON.stringify(tj.drops));
    assert.deepEqual(tj.runAs, asNobody);
  }
});

labTest('fallback after the drop: the sockets of every method were opened as root, up front', { ...bottleneck, server: { dropEcho: true, dropUdp: true } }, async (lab) => {
  // Echo and UDP vanish: auto ends on tcp, a raw socket nobody could not have opened after the drop.
  const r = await asRoot(lab, [lab.server.v4, '--json', '-W', '0.3']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.methodsTried.map((m: { method: string }) => m.method), ['icmp', 'udp', 'tcp']);
  assert.deepEqual([j.method, j.pmtu, j.exact], ['tcp', 1400, true]);
  assert.deepEqual(j.runAs, asNobody);
}, { timeout: 90_000 });

labTest('ping under sudo: the kernel shows the process as SUDO_UID while it pings through its raw socket', bottleneck, async (lab) => {
  const child = lab.spawn('client', [process.execPath, bin, 'ping', '-c', '8', '-i', '0.1', '-s', '1400', lab.server.v4, '--json'], {
    env: env(SUDO),
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  // Read the kernel's view of the process while it pings (it runs for about 0.8 s).
  let seen: Record<string, string> | undefined;
  while (!done) {
    try {
      const status = Object.fromEntries(
        readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').map((l) => l.split(':\t') as [string, string]),
      );
      if (status.Uid?.startsWith(`${NOBODY}\t`)) seen ??= status;
    } catch {
      break; // gone
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await exited, 0, stderr);
  assert.ok(seen, 'the process never ran as SUDO_UID while pinging');
  assert.equal(seen.Uid, [NOBODY, NOBODY, NOBODY, NOBODY].join('\t'), 'real, effective, saved and fs uid');
  assert.equal(seen.Gid, [NOBODY, NOBODY, NOBODY, NOBODY].join('\t'));
  assert.equal(seen.Groups?.trim(), '', 'no supplementary groups');
  assert.equal(seen.CapEff, '0000000000000000', 'no capability left');
  assert.equal(seen.CapPrm, '0000000000000000', 'and none to take back');
  const j = JSON.parse(stdout);
  assert.deepEqual([j.method, j.socket, j.summary.sent, j.summary.received], ['icmp', 'raw', 8, 8], 'the fast interval was allowed (root at the start) and the raw socket kept working');
  assert.deepEqual(j.runAs, asNobody);
});

labTest('no drop without sudo, or for root; bad SUDO_UID refused; a user run is left alone', bottleneck, async (lab) => {
  const plain = await asRoot(lab, [lab.server.v4, '--json'], {});
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal('runAs' in JSON.parse(plain.stdout), false, 'root without sudo stays root');
  const toRoot = await asRoot(lab, ['ping', '-c', '1', lab.server.v4, '--json'], { SUDO_UID: '0', SUDO_GID: '0' });
  assert.equal(toRoot.code, 0, toRoot.stderr);
  assert.equal('runAs' in JSON.parse(toRoot.stdout), false, 'sudo from root: nobody to drop to');

  for (const bad of [{ SUDO_UID: 'nobody', SUDO_GID: '65534' }, { SUDO_UID: '65534' }, { SUDO_UID: '4294967295', SUDO_GID: '0' }]) {
    const r = await asRoot(lab, ['trace', lab.server.v4], bad);
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.match(r.stderr, /SUDO_(UID|GID)=.* is not a user or group id/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }

  // Not root: SUDO_UID means nothing (nothing to give up); the run is the user's own.
  const user = await pathmtuAsUser(lab, 'client', [lab.server.v4, '--json', '-m', 'udp'], { env: env({ SUDO_UID: '1234', SUDO_GID: '1234' }) });
  assert.equal(user.code, 0, user.stderr);
  const uj = JSON.parse(user.stdout);
  assert.equal(uj.pmtu, 1400);
  assert.equal('runAs' in uj, false);
});

/** Sockets this process holds now (fds whose link is socket:[inode]). */
function sockets(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed meanwhile (readdir's own fd)
    }
  }).length;
}

labTest('library: onSocketsOpen comes once, before the first probe, with every fallback method\'s socket open', bottleneck, async (lab) => {
  lab.enter('client');
  try {
    const seen: string[] = [];
    let atHook = -1;
    const before = sockets();
    const d = await discover(lab.server.v4, {
      onSocketsOpen: () => {
        seen.push('open');
        atHook = sockets();
      },
      onEvent: (e) => seen.push(e.type),
    });
    assert.equal(d.pmtu, 1400);
    assert.equal(seen[0], 'open');
    assert.equal(seen.filter((s) => s === 'open').length, 1);
    assert.ok(seen.includes('probe'));
    // Root: icmp, udp and tcp all open before the first probe (auto may need any of them;
    // icmp-dgram would send the same echo requests as icmp, so discover does not open it).
    assert.equal(atHook - before, 3, `sockets open at the hook: ${atHook - before}`);
    assert.equal(sockets(), before, 'and all closed afterwards');

    let traceHooks = 0;
    const t = await trace(lab.server.v4, { method: 'udp', onSocketsOpen: () => traceHooks++ });
    assert.deepEqual([t.pmtu, t.reached, traceHooks], [1400, true, 1]);
    assert.equal(sockets(), before);

    const order: string[] = [];
    const p = await ping(lab.server.v4, { count: 1, onSocketsOpen: () => order.push('open'), onStart: () => order.push('start') });
    assert.deepEqual([p.summary.received, order], [1, ['open', 'start']]);
  } finally {
    lab.leave();
  }
});

labTest('several targets under sudo: sockets opened up front for both families, root given up, every answer exact', bottleneck, async (lab) => {
  const r = await asRoot(lab, [lab.server.v4, lab.server.v6, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const j of lines) {
    assert.deepEqual([j.method, j.pmtu, j.exact], ['icmp', 1400, true], 'the raw sockets opened as root still work');
    assert.deepEqual(j.runAs, asNobody);
  }
  assert.deepEqual(lines.map((j) => j.family).sort(), [4, 6]);
});
