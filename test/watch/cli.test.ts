// pathmtu watch's rendering and arguments: event lines, the live table (redrawn in place on a
// terminal, here a fake one watching loopback), target files, and usage errors (exit 2, one line).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { duration, eventLine, renderTable, watchCommand } from '../../src/cli/commands/watch.js';
import type { WatchEvent, WatchState } from '../../src/watch/types.js';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pathmtu-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A `pathmtu watch --json` child: its NDJSON events so far, and a bounded wait for the n-th. */
function ndjsonChild(child: ChildProcess): { child: ChildProcess; exited: Promise<number | null>; events(): Array<Record<string, unknown>>; err(): string; waitFor(n: number, what: string): Promise<void> } {
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const events = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    exited,
    events,
    err: () => err,
    async waitFor(n, what) {
      const until = Date.now() + 15_000;
      while (events().length < n) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`${what}: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const ev = (over: Partial<WatchEvent>): WatchEvent => ({
  time: '2026-11-30T15:40:02.123Z', target: '198.18.2.2', address: '198.18.2.2', family: 4, method: 'icmp',
  pmtu: 1400, previous: 1500, reason: 'ptb', blackHole: false, ptbFrom: '198.18.0.2', detail: 'PTB 1400 from 198.18.0.2', ...over,
});

test('event lines: time to the second, old → new, why', () => {
  assert.equal(eventLine(ev({})), '2026-11-30T15:40:02Z 198.18.2.2  1500 → 1400  PTB 1400 from 198.18.0.2');
  assert.equal(eventLine(ev({ reason: 'initial', previous: null, pmtu: 1500, detail: 'path MTU 1500' })), '2026-11-30T15:40:02Z 198.18.2.2  1500  path MTU 1500');
  assert.equal(
    eventLine(ev({ target: 'gw.example', reason: 'unreachable', pmtu: null, previous: 1400, detail: 'no answer to 3 rounds of probes (1400 and 68 bytes)' })),
    '2026-11-30T15:40:02Z gw.example (198.18.2.2)  1400 → —  target unreachable: no answer to 3 rounds of probes (1400 and 68 bytes)',
  );
});

test('durations and the table: a black hole marked, long details cut to the width', () => {
  assert.deepEqual([duration(45_000), duration(185_000), duration(7_380_000), duration(3 * 86_400_000 + 7_200_000)], ['45s', '3m05s', '2h03m', '3d02h']);
  const st: WatchState = {
    target: '198.18.2.2', address: '198.18.2.2', family: 4, method: 'icmp', pmtu: 1400, blackHole: true, phase: 'confirming',
    sinceMs: 1_000_000, lastEvent: ev({ reason: 'black-hole', detail: 'black hole above 1400' }), changes: 2, probesSent: 40, probesPerSecond: 0.0333,
  };
  const [head, row] = renderTable([st], 1_065_000);
  assert.match(head, /^TARGET\s+PMTU\s+STATE\s+SINCE\s+LAST CHANGE\s+PROBES\/S$/);
  assert.match(row, /^198\.18\.2\.2\s+1400\*\s+confirming\s+1m05s\s+1500 → 1400 black hole above 1400\s+0\.03$/);
  assert.ok(renderTable([st], 1_065_000, 40).every((l) => l.length <= 40));
});

test('usage errors exit 2 with one line and no stack trace', () => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '# nothing\n');
  const twoPerLine = join(dir, 'two.txt');
  writeFileSync(twoPerLine, '# vantage A\n198.18.2.2  2001:db8::2\n');
  const cases: Array<[string[], RegExp]> = [
    [['watch'], /missing <target>/],
    [['watch', '-f', empty], /no target: .*empty\.txt holds none/],
    [['watch', '-f', join(dir, 'none.txt')], /cannot read the target list .*none\.txt: no such file/],
    [['watch', '-f', twoPerLine], /two\.txt:2: one target per line/],
    [['watch', '198.18.5.0/16'], /holds 65534 hosts.*--max-targets/],
    [['watch', '--interval', '0', '127.0.0.1'], /--interval must be/],
    [['watch', '--interval', 'soon', '127.0.0.1'], /--interval must be a number of seconds/],
    [['watch', '--raise', '-1', '127.0.0.1'], /--raise/],
    [['watch', '-m', 'carrier-pigeon', '127.0.0.1'], /--method must be one of auto, icmp, icmp-dgram, udp, tcp/],
    [['watch', '127.0.0.1:80'], /has a port.*--method tcp -p 80/],
    [['watch', '-4', '-6', '127.0.0.1'], /-4 and -6 exclude each other/],
    [['watch', '--min', '1400', '--max', '1300', '127.0.0.1'], /--max 1300 is below --min 1400/],
  ];
  for (const [args, msg] of cases) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, '');
  }
  const help = spawnSync(process.execPath, [bin, 'watch', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--interval S[\s\S]*--raise S[\s\S]*JSON fields: time, target, address/);
});

test('on a terminal: the live table is drawn, redrawn in place, and Ctrl-C ends it with 0', async () => {
  let out = '';
  const stdout = Object.assign(new Writable({ write: (chunk, _enc, cb) => ((out += String(chunk)), cb()) }), { isTTY: true, columns: 100 });
  const stderr = new Writable({ write: (_c, _e, cb) => cb() });
  const ac = new AbortController();
  const running = watchCommand.run(['--interval', '0.2', '127.0.0.1'], { stdout, stderr, env: {}, signal: ac.signal });
  const until = Date.now() + 10_000;
  // Loopback: the first search delivers the largest size at once; then a redraw carries the event.
  while (!/65535 {2}confirming/.test(out) || (out.match(/\x1b\[\d+F\x1b\[J/g) ?? []).length < 2) {
    if (Date.now() > until) throw new Error(`no table: ${JSON.stringify(out)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  ac.abort();
  assert.equal(await running, 0);
  assert.match(out, /^\x1b\[\?25l/, 'cursor hidden while drawing');
  assert.match(out, /TARGET\s+PMTU\s+STATE\s+SINCE\s+LAST CHANGE\s+PROBES\/S/);
  assert.match(out, /Z 127\.0\.0\.1 {2}65535 {2}path MTU 65535/, 'the event shown below the table');
  assert.match(out, /\x1b\[\?25h$/, 'cursor shown again at the end');
  assert.ok(out.split('\n').every((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').length <= 99), 'lines fit the terminal');
});

test('a name is resolved again at the raise timer: its new address is one \'address\' event, and watched from then on', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a network and mount namespace of its own (unshare)');
  // A throwaway network namespace (loopback only) whose /etc/hosts is a file of ours: the name
  // first means 127.0.0.2, then 127.0.0.3 (both on lo: path MTU 65535).
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, '127.0.0.2 watched.test\n');
  const script = [
    'set -e',
    'ip link set lo up',
    'mount --bind "$HOSTS" /etc/hosts',
    'exec "$NODE" "$BIN" watch --json -m icmp -4 --interval 0.2 --raise 1 watched.test',
  ].join('; ');
  const w = ndjsonChild(spawn('unshare', ['--net', '--mount', 'sh', '-c', script], { env: { ...process.env, HOSTS: hosts, NODE: process.execPath, BIN: bin }, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    await w.waitFor(1, 'first event');
    writeFileSync(hosts, '127.0.0.3 watched.test\n'); // the same file (inode) the mount shows
    await w.waitFor(2, 'the new address');
  } finally {
    w.child.kill('SIGINT');
  }
  assert.equal(await w.exited, 0, w.err());
  const [first, moved] = w.events();
  assert.deepEqual([first!.target, first!.address, first!.reason, first!.pmtu], ['watched.test', '127.0.0.2', 'initial', 65535]);
  assert.deepEqual([moved!.target, moved!.address, moved!.reason, moved!.previous, moved!.pmtu], ['watched.test', '127.0.0.3', 'address', 65535, 65535], JSON.stringify(moved));
  assert.equal(moved!.detail, 'watched.test is now 127.0.0.3 (was 127.0.0.2); path MTU 65535');
});

test('targets from a list file, a prefix and stdin, as discover takes them: the first event of each', async () => {
  const list = join(dir, 'watch-list.txt');
  writeFileSync(list, '# loopback\n127.0.0.1\n\n::1   # v6 too\n');
  const child = spawn(process.execPath, [bin, 'watch', '--json', '-m', 'udp', '--interval', '0.5', '-f', list, '127.0.0.4/31', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end('127.0.0.9\n');
  const w = ndjsonChild(child);
  try {
    await w.waitFor(5, 'the first event of each target');
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await w.exited, 0, w.err());
  const first = w.events();
  assert.deepEqual(first.map((e) => e.target).sort(), ['127.0.0.1', '127.0.0.4', '127.0.0.5', '127.0.0.9', '::1'], JSON.stringify(first));
  for (const e of first) assert.deepEqual([e.reason, e.previous], ['initial', null], JSON.stringify(e));
});
