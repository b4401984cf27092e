// `pathmtu trace`: the command in-process inside the lab (JSON shape, exit codes, colour rules,
// progress only on a terminal), and usage errors through main() (exit 2) without a lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { traceCommand } from '../../src/cli/commands/trace.js';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/command.js';

const ANSI = /\x1b\[/;

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  columns?: number;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function io(opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Io & { stdout: Capture; stderr: Capture } {
  const stdout = new Capture();
  const stderr = new Capture();
  if (opts.tty) {
    stdout.isTTY = stderr.isTTY = true;
    stdout.columns = stderr.columns = 90;
  }
  return { stdout, stderr, env: opts.env ?? {}, signal: new AbortController().signal };
}

async function inClient<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  lab.enter('client');
  try {
    return await fn();
  } finally {
    lab.leave();
  }
}

// Output format tests run trace several times against one lab within a second: the routers' ICMP
// rate limit is lifted so that none of them runs out of time-exceededs (that is tested elsewhere).
const unlimited = { icmpRateLimitMs: 0 };
const blackHolePath = {
  routers: [unlimited, { ...unlimited, dropPtb: true }, unlimited],
  links: [{}, {}, { mtu: 1400 }, {}],
  server: unlimited,
};

labTest('--json: the documented shape, exit 0', blackHolePath, async (lab) => {
  for (const [flag, server] of [['-4', lab.server.v4], ['-6', lab.server.v6]] as const) {
    const t = io();
    const code = await inClient(lab, () => traceCommand.run([server, flag, '--json'], t));
    assert.equal(code, 0, t.stderr.text);
    assert.equal(t.stderr.text, '', 'no progress when stderr is not a terminal');
    const j = JSON.parse(t.stdout.text);
    for (const k of ['target', 'address', 'family', 'pmtu', 'hops', 'blackHole', 'bogusPtbs', 'explanation', 'fixes']) assert.ok(k in j, k);
    assert.equal(j.target, server);
    assert.equal(j.address, server);
    assert.equal(j.family, flag === '-4' ? 4 : 6);
    assert.equal(j.pmtu, 1400);
    assert.equal(j.hops.length, 4);
    for (const h of j.hops) {
      assert.equal(typeof h.ttl, 'number');
      assert.equal(typeof h.address, 'string');
      assert.equal(typeof h.rttMs, 'number');
      assert.equal(typeof h.mtu, 'number');
    }
    assert.deepEqual(Object.keys(j.blackHole).sort(), ['afterTtl', 'afterTtlMax', 'beyond', 'firstSilent', 'firstSilentTtl', 'lastAnswering', 'size', 'uncertain']);
    assert.equal(j.blackHole.afterTtl, 2);
    assert.equal(j.blackHole.afterTtlMax, 2);
    assert.equal(j.blackHole.uncertain, false);
    // A hop's mtu is what reaches it: hop 2 (before the black-hole link) still gets 1500.
    assert.deepEqual(j.hops.map((h: { mtu: number }) => h.mtu), [1500, 1500, 1400, 1400]);
    assert.deepEqual(j.bogusPtbs, []);
    assert.ok(j.explanation.length > 0);
    for (const e of j.explanation) assert.deepEqual(Object.keys(e).sort(), ['cause', 'confidence', 'overhead', 'underlay']);
    assert.ok(j.fixes.length > 0);
    for (const x of j.fixes) assert.deepEqual(Object.keys(x).sort(), ['command', 'what']);
  }
});

labTest('colour on a terminal only, never with NO_COLOR; progress on stderr only on a terminal', blackHolePath, async (lab) => {
  const to = lab.server.v4;
  const tty = io({ tty: true });
  assert.equal(await inClient(lab, () => traceCommand.run([to], tty)), 0);
  assert.match(tty.stdout.text, ANSI);
  assert.match(tty.stdout.text, /╳ black hole/);
  assert.match(tty.stderr.text, /\r\x1b\[K(finding the path MTU|mapping hops)/);
  assert.ok(tty.stderr.text.endsWith('\r\x1b[K'), 'the status line is cleared');
  for (const line of tty.stdout.text.split('\n')) {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
    if (!plain.includes('$ ')) assert.ok(plain.length <= 90, `wider than the terminal: ${plain}`);
  }

  const noColor = io({ tty: true, env: { NO_COLOR: '1' } });
  assert.equal(await inClient(lab, () => traceCommand.run([to, '-n'], noColor)), 0);
  assert.doesNotMatch(noColor.stdout.text, ANSI);
  assert.match(noColor.stdout.text, /Black hole on the link after hop 2/);

  const pipe = io();
  assert.equal(await inClient(lab, () => traceCommand.run([to, '-n'], pipe)), 0);
  assert.doesNotMatch(pipe.stdout.text, ANSI);
  assert.equal(pipe.stderr.text, '');
});

labTest('exit 1 when the target is not reached within --max-hops', blackHolePath, async (lab) => {
  const t = io();
  const code = await inClient(lab, () => traceCommand.run([lab.server.v6, '--max-hops', '2', '-n'], t));
  assert.equal(code, 1);
  assert.match(t.stdout.text, /no answer further on/);
  assert.match(t.stdout.text, /within 2 hops/);
});

test('usage errors exit 2 with the reason (through main)', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['trace'], /missing <host>/],
    [['trace', '192.0.2.1', '--max-hops', '0'], /--max-hops must be from 1 to 255/],
    [['trace', '192.0.2.1', '-4', '-6'], /-4 and -6 exclude each other/],
    [['trace', '192.0.2.1', '--method', 'carrier-pigeon'], /--method must be one of/],
    [['trace', '192.0.2.1', '--bogus'], /Unknown option '--bogus'/],
    [['trace', '192.0.2.1', '-W', 'soon'], /--timeout must be a number of seconds/],
  ];
  for (const [argv, why] of cases) {
    const t = io();
    assert.equal(await main(argv, t), 2, argv.join(' '));
    assert.match(t.stderr.text, why, argv.join(' '));
    assert.match(t.stderr.text, /pathmtu trace --help/);
    assert.equal(t.stdout.text, '');
  }
});

test('--help teaches how to read the picture, and trace is listed', async () => {
  const t = io();
  assert.equal(await main(['trace', '--help'], t), 0);
  assert.match(t.stdout.text, /Reading the picture/);
  assert.match(t.stdout.text, /--max-hops N/);
  // What a hop's number means (issue 9 item 4), and where a drop is drawn.
  const flat = t.stdout.text.replace(/\s+/g, ' ');
  assert.match(flat, /the path MTU to that hop: the largest packet that reaches it/);
  assert.match(flat, /▼ 1500→1400 \(−100\) drawn between two hop lines/);
  const top = io();
  await main(['--help'], top);
  assert.match(top.stdout.text, /^\s+trace\s+the path hop by hop/m);
});
