// The Watcher and `pathmtu watch` against real routers (src/lab), v4 and v6 watched at once through
// one lab: a link MTU lowered mid-run (reason ptb, within 2 intervals, the exact new PMTU), raised
// again (reason raise, after the shortened raise timer), and a router that starts dropping its
// PTBs as its link narrows (reason black-hole, the exact new PMTU, found by a search).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { Watcher } from '../../src/watch/watcher.js';
import type { WatchEvent } from '../../src/watch/types.js';
import type { Family } from '../../src/wire/facts.js';
import { ensureBundle } from '../bin/build.js';
import { NOBODY } from '../unprivileged.js';

const families: Family[] = [4, 6];
const INTERVAL_S = 2;
const RAISE_S = 4;
const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
ensureBundle(); // the binary runs the bundle

/** Set both ends of link 2 (r2 -> r3) to `mtu`; returns when the kernel has it. */
async function setLink2Mtu(lab: Lab, mtu: number): Promise<void> {
  for (const [node, dev] of [['r2', 'eth1'], ['r3', 'eth0']] as const) {
    const r = await lab.exec(node, ['ip', 'link', 'set', 'dev', dev, 'mtu', String(mtu)]);
    assert.equal(r.code, 0, r.stderr);
  }
}

/** r2 stops sending frag-needed / packet-too-big (its output hook drops them). */
async function dropPtbsAt2(lab: Lab): Promise<void> {
  const rules = [
    'table inet pmtu_watch {',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    '    icmp type destination-unreachable icmp code 4 drop',
    '    icmpv6 type packet-too-big drop',
    '  }',
    '}',
    '',
  ].join('\n');
  const r = await lab.exec('r2', ['nft', '-f', '-'], { input: rules });
  assert.equal(r.code, 0, r.stderr);
}

/** Collects events; until() waits for one matching, up to `ms`. */
class Events {
  readonly all: Array<WatchEvent & { at: number }> = [];
  private waiters: Array<() => void> = [];
  push(e: WatchEvent): void {
    this.all.push({ ...e, at: performance.now() });
    for (const w of this.waiters.splice(0)) w();
  }
  async until(pred: (e: WatchEvent & { at: number }) => boolean, ms: number, what: string): Promise<WatchEvent & { at: number }> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.all.find(pred);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; events: ${JSON.stringify(this.all)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

async function watching(lab: Lab, body: (events: Events, w: Watcher) => Promise<void>): Promise<void> {
  const events = new Events();
  lab.enter('client'); // every socket the watcher opens (now and later) lives in the client
  const w = new Watcher([lab.server.v4, lab.server.v6], { method: 'icmp', intervalS: INTERVAL_S, raiseS: RAISE_S });
  w.on('change', (e) => events.push(e));
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  try {
    await w.start();
    for (const f of families) {
      const e = await events.until((x) => x.address === server(lab, f) && x.reason === 'initial', 10_000, `IPv${f} initial`);
      assert.equal(e.pmtu, 1500, JSON.stringify(e));
      assert.equal(e.family, f);
      assert.equal(e.method, 'icmp');
    }
    await body(events, w);
    assert.deepEqual(errors, []);
  } finally {
    await w.stop();
    lab.leave();
  }
}

const server = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);

labTest(
  'watch, v4 and v6: a link lowered mid-run is reported within 2 intervals (ptb, exact), raised again after the raise timer; this host\'s interface lowered is local-mtu',
  { routers: [{}, {}, {}] },
  async (lab) => {
    await watching(lab, async (events, w) => {
      const lowered = performance.now();
      await setLink2Mtu(lab, 1400);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.reason !== 'initial', 2 * INTERVAL_S * 1000 + 2000, `IPv${f} change`);
        assert.equal(e.reason, 'ptb', JSON.stringify(e));
        assert.equal(e.pmtu, 1400);
        assert.equal(e.previous, 1500);
        assert.equal(e.blackHole, false);
        assert.equal(e.ptbFrom, lab.routerAddress(2, f, 'in'));
        assert.equal(e.detail, `PTB 1400 from ${lab.routerAddress(2, f, 'in')}`);
        assert.ok(e.at - lowered <= 2 * INTERVAL_S * 1000, `IPv${f}: seen ${Math.round(e.at - lowered)} ms after the change`);
      }
      const st = w.states();
      assert.deepEqual(st.map((s) => [s.pmtu, s.phase, s.changes]), [[1400, 'confirming', 2], [1400, 'confirming', 2]]);
      const raised = performance.now();
      await setLink2Mtu(lab, 1500);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.reason === 'raise', (RAISE_S + 2 * INTERVAL_S) * 1000 + 2000, `IPv${f} raise`);
        assert.equal(e.pmtu, 1500, JSON.stringify(e));
        assert.equal(e.previous, 1400);
        assert.equal(e.detail, 'raise to 1500 succeeded');
        // Not before the raise timer: counted from the search down that set 1400.
        const down = events.all.find((x) => x.address === server(lab, f) && x.reason === 'ptb')!;
        assert.ok(e.at - down.at >= RAISE_S * 1000 - 50, `IPv${f}: raised ${Math.round(e.at - down.at)} ms after the last change`);
        assert.ok(e.at - raised <= (RAISE_S + INTERVAL_S) * 1000 + 1000, `IPv${f}: raise seen ${Math.round(e.at - raised)} ms after the link came back`);
      }
      // Steady state between changes: a confirmation round (2 probes) per interval and target.
      for (const s of w.states()) assert.ok(s.probesPerSecond < 10, JSON.stringify(s));
      // This host's own interface narrows: the local stack refuses the PMTU-sized probe, and the
      // change is this host's, not a router's (reason local-mtu), with the exact new PMTU.
      const dev = (await lab.exec('client', ['ip', '-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).find((d) => d !== undefined && d !== '' && d !== 'lo');
      assert.ok(dev, 'the client has an interface');
      const narrowed = performance.now();
      const r = await lab.exec('client', ['ip', 'link', 'set', 'dev', dev, 'mtu', '1300']);
      assert.equal(r.code, 0, r.stderr);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.at >= narrowed, 2 * INTERVAL_S * 1000 + 2000, `IPv${f} local change`);
        assert.deepEqual([e.reason, e.pmtu, e.previous, e.blackHole, e.detail, e.ptbFrom], ['local-mtu', 1300, 1500, false, 'local interface MTU 1300', undefined], JSON.stringify(e));
        assert.ok(e.at - narrowed <= 2 * INTERVAL_S * 1000, `IPv${f}: seen ${Math.round(e.at - narrowed)} ms after the change`);
      }
    });
  },
  { timeout: 60_000 },
);

labTest(
  'watch, v4 and v6: a router that starts dropping its PTBs as its link narrows is a black hole with the exact PMTU; a silent server is unreachable, then back',
  { routers: [{}, {}, {}] },
  async (lab) => {
    await watching(lab, async (events) => {
      const changed = performance.now();
      await dropPtbsAt2(lab);
      await setLink2Mtu(lab, 1400);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.reason !== 'initial', 2 * INTERVAL_S * 1000 + 3000, `IPv${f} change`);
        assert.equal(e.reason, 'black-hole', JSON.stringify(e));
        assert.equal(e.pmtu, 1400);
        assert.equal(e.previous, 1500);
        assert.equal(e.blackHole, true);
        assert.equal(e.ptbFrom, undefined);
        assert.equal(e.detail, 'black hole above 1400');
        assert.ok(e.at - changed <= 2 * INTERVAL_S * 1000, `IPv${f}: seen ${Math.round(e.at - changed)} ms after the change`);
      }
      // Then the server stops answering altogether (echo dropped): unreachable, not a black hole;
      // answering again, it is back with its PMTU, found by a fresh search.
      const down = await lab.exec('server', ['nft', '-f', '-'], { input: 'table inet pmtu_down {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    icmp type echo-request drop\n    icmpv6 type echo-request drop\n  }\n}\n' });
      assert.equal(down.code, 0, down.stderr);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.reason === 'unreachable', 2 * INTERVAL_S * 1000 + 3000, `IPv${f} unreachable`);
        assert.deepEqual([e.pmtu, e.previous, e.blackHole], [null, 1400, false], JSON.stringify(e));
        assert.match(e.detail, /no answer to 3 rounds of probes \(1400 and (68|1280) bytes\)/);
      }
      const up = await lab.exec('server', ['nft', 'delete', 'table', 'inet', 'pmtu_down']);
      assert.equal(up.code, 0, up.stderr);
      for (const f of families) {
        const e = await events.until((x) => x.address === server(lab, f) && x.reason === 'reachable', 2 * INTERVAL_S * 1000 + 3000, `IPv${f} back`);
        assert.deepEqual([e.pmtu, e.previous, e.blackHole], [1400, null, true], JSON.stringify(e));
      }
      assert.ok(!events.all.some((x) => x.reason === 'black-hole' && x.pmtu !== 1400), 'silence was never taken for a smaller PMTU');
    });
  },
  { timeout: 60_000 },
);

labTest(
  'pathmtu watch --json under sudo in a child process: root only to open the sockets, then NDJSON events for v4 and v6 as SUDO_UID, a lowered link, Ctrl-C ends it with 0',
  { routers: [{}, {}] },
  async (lab) => {
    // Started as root through sudo (SUDO_UID/SUDO_GID name nobody): the raw sockets are opened up
    // front, root is given up, and every later search and round goes through those sockets.
    const env: NodeJS.ProcessEnv = { ...process.env, SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY), SUDO_USER: 'nobody' };
    delete env.SUDO_COMMAND;
    const child = lab.spawn('client', [process.execPath, bin, 'watch', '--json', '-m', 'icmp', '--interval', '0.5', lab.server.v4, lab.server.v6], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const waitFor = async (n: number, what: string): Promise<void> => {
      const until = performance.now() + 15_000;
      while (lines().length < n) {
        if (performance.now() > until) throw new Error(`${what}: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let status: Record<string, string>;
    try {
      await waitFor(2, 'initial events');
      // The kernel's view of the process while it watches.
      status = Object.fromEntries(readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').map((l) => l.split(':\t') as [string, string]));
      const r = await lab.exec('r1', ['ip', 'link', 'set', 'dev', 'eth1', 'mtu', '1420']);
      assert.equal(r.code, 0, r.stderr);
      await waitFor(4, 'ptb events');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, err);
    assert.equal(err, '');
    const ids = [NOBODY, NOBODY, NOBODY, NOBODY].join('\t');
    assert.deepEqual([status.Uid, status.Gid, status.Groups?.trim(), status.CapEff], [ids, ids, '', '0000000000000000'], 'real, effective, saved, fs ids: nobody, no capability');
    const evs = lines();
    for (const e of evs) {
      for (const k of ['time', 'target', 'address', 'family', 'method', 'pmtu', 'previous', 'reason', 'blackHole', 'detail']) assert.ok(k in e, `${k} in ${JSON.stringify(e)}`);
      assert.match(e.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    for (const f of families) {
      const addr = server(lab, f);
      const mine = evs.filter((e) => e.address === addr).map((e) => [e.reason, e.previous, e.pmtu, e.ptbFrom]);
      assert.deepEqual(mine, [['initial', null, 1500, undefined], ['ptb', 1500, 1420, lab.routerAddress(1, f, 'in')]]);
    }
  },
  { timeout: 60_000 },
);
