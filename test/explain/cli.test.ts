// `pathmtu explain`: the command in-process (fast, every branch; main.ts is not imported so other
// commands' work in progress cannot break these tests), then the real binary for exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { explainCommand } from '../../src/cli/commands/explain.js';
import type { Io } from '../../src/cli/command.js';
import { UsageError } from '../../src/errors.js';
import { ensureBundle } from '../bin/build.js';

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  columns?: number;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(argv: string[], tty = false, env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  if (tty) {
    stdout.isTTY = true;
    stdout.columns = 72;
  }
  const io: Io = { stdout, stderr, env, signal: new AbortController().signal };
  try {
    const code = await explainCommand.run(argv, io);
    return { code, stdout: stdout.text, error: undefined };
  } catch (error) {
    // main.ts turns these into exit 2; the binary test below checks that end to end.
    const parseArgs = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    assert.ok(error instanceof UsageError || parseArgs, `not a usage error: ${String(error)}`);
    return { code: 2, stdout: stdout.text, error: (error as Error).message };
  }
}

test('explain 1450 --json prints the Explanation', async () => {
  const r = await run(['1450', '--json']);
  assert.equal(r.code, 0);
  const e = JSON.parse(r.stdout);
  assert.equal(e.mtu, 1450);
  assert.equal(e.family, 4);
  assert.deepEqual(e.payload, { udp: 1422, icmp: 1422, tcpMss: 1410 });
  assert.equal(e.candidates[0].cause, 'VXLAN over IPv4');
  assert.equal(e.candidates[0].overhead, 50);
  assert.ok(e.fixes.some((f: { command: string }) => f.command === 'ip link set dev <iface> mtu 1450'));
  assert.equal(typeof e.summary, 'string');
});

test('options reach the explanation: --family, --local-mtu, --iface', async () => {
  const r = await run(['1420', '--family', '6', '--local-mtu', '1500', '--iface', 'wg0', '--json']);
  assert.equal(r.code, 0, r.error);
  const e = JSON.parse(r.stdout);
  assert.equal(e.family, 6);
  assert.equal(e.localMtu, 1500);
  assert.equal(e.payload.tcpMss, 1360);
  assert.ok(e.fixes.some((f: { command: string }) => f.command === 'ip link set dev wg0 mtu 1420'));
  assert.ok(e.fixes.some((f: { command: string }) => f.command.includes('ip6tables')));
});

test('human output: colour on a TTY, none with NO_COLOR, TERM=dumb or off a TTY', async () => {
  const tty = await run(['1492'], true);
  assert.equal(tty.code, 0);
  assert.ok(tty.stdout.includes('\x1b['));
  assert.ok(tty.stdout.startsWith('\x1b[1mPath MTU 1492'));
  const noColor = await run(['1492'], true, { NO_COLOR: '1' });
  assert.ok(!noColor.stdout.includes('\x1b['));
  // A terminal that cannot show colour (TERM=dumb: Emacs shells, some CI consoles) gets none either.
  const dumb = await run(['1492'], true, { TERM: 'dumb' });
  assert.ok(!dumb.stdout.includes('\x1b['), 'TERM=dumb');
  assert.match(dumb.stdout, /^Path MTU 1492/);
  const pipe = await run(['1492']);
  assert.ok(!pipe.stdout.includes('\x1b['));
  assert.match(pipe.stdout, /^Path MTU 1492 \(IPv4 assumed\): most likely PPPoE/);
});

const BAD: Array<[string[], RegExp]> = [
  [[], /missing <mtu>/],
  [['abc'], /whole number/],
  [['70000'], /from 68 to 65535/],
  [['67'], /from 68 to 65535/],
  [['1450.5'], /whole number/],
  [['-5'], /Unknown option|whole number/],
  [['1450', '1400'], /expected one <mtu>/],
  [['1450', '--family', '5'], /--family must be 4 or 6/],
  [['1450', '--local-mtu', 'x'], /--local-mtu must be a whole number/],
  [['1450', '--iface', 'a/b'], /not a valid interface name/],
  [['1450', '--bogus'], /Unknown option '--bogus'/],
];

for (const [argv, message] of BAD) {
  test(`usage error: explain ${argv.join(' ')}`, async () => {
    const r = await run(argv);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.error ?? '', message);
  });
}

test('--help teaches: usage, options, examples, exit status', () => {
  const help = explainCommand.help;
  for (const part of ['Usage:', '--family', '--local-mtu', '--iface', '--json', 'Examples:', 'pathmtu explain 1450', 'Exit status']) {
    assert.ok(help.includes(part), part);
  }
});

// The real binary runs the compiled dist/ (bundled). `npm test` builds first; build here when stale.
function ensureBuilt(): void {
  ensureBundle();
  const out = 'dist/cli/commands/explain.js';
  const newest = Math.max(
    ...['src/explain', 'src/cli/commands'].flatMap((dir) =>
      readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs),
    ),
  );
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return;
  // Other areas may have type errors mid-work; tsc still emits, so check the output instead of the status.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  assert.ok(existsSync(out), 'build did not produce dist/cli/commands/explain.js');
}

test('bin/pathmtu.js explain: exit 0 with JSON and --help, exit 2 for abc and 70000', () => {
  ensureBuilt();
  const help = spawnSync(process.execPath, ['bin/pathmtu.js', 'explain', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stdout, explainCommand.help);
  const ok = spawnSync(process.execPath, ['bin/pathmtu.js', 'explain', '1450', '--json'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).candidates[0].cause, 'VXLAN over IPv4');
  for (const bad of ['abc', '70000']) {
    const r = spawnSync(process.execPath, ['bin/pathmtu.js', 'explain', bad], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /^pathmtu explain: .*\nRun 'pathmtu explain --help' for usage\.\n$/);
  }
});
