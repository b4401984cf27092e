// The CLI as a user runs it: the real binary, inside a lab namespace, exit codes and output shapes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string; pid: number } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

async function cliIn(lab: Lab, node: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return lab.exec(node, [process.execPath, bin, ...args], { timeoutMs: 30_000, env: { ...process.env, NO_COLOR: '1' } });
}

test('usage errors exit 2 with a message that names the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['discover'], /missing <host>/],
    [['discover', '198.18.0.1', '--max', 'abc'], /--max must be a whole number/],
    [['discover', '198.18.0.1', '--max', '10'], /--max must be from 68/],
    [['discover', '198.18.0.1', '--method', 'carrier-pigeon'], /--method must be one of/],
    [['discover', '198.18.0.1', '-4', '-6'], /-4 and -6 exclude each other/],
    [['discover', '198.18.0.1', '--timeout', '-1'], /--timeout|argument/],
    [['discover', '198.18.0.1', '--bogus'], /Unknown option/],
    [['discover', '::1', '-4'], /is an IPv6 address, but -4/],
    [['discover', '::1', '--min', '2000', '--max', '1500'], /--max 1500 is below --min 2000/],
    [['discover', '::1', '--min', '100'], /below the IPv6 minimum 1280/],
    // Both refused before any socket sends: no traffic leaves this (root) namespace.
    [['discover', 'fe80::1%nosuchif0'], /no network interface named 'nosuchif0'/],
    [['discover', 'fe80::1'], /is link-local: name the interface it is on/],
    [['--frobnicate'], /^pathmtu: Unknown option '--frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '');
  }
});

test('--help teaches: every command has usage and examples; the top level lists the commands', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['discover', 'explain', 'demo']) assert.match(top.stdout, new RegExp(`\\b${name}\\b`));
  const d = cli(['discover', '--help']);
  assert.equal(d.code, 0);
  assert.match(d.stdout, /Usage:/);
  assert.match(d.stdout, /Examples:/);
  assert.match(d.stdout, /Exit status/);
});

// Looked up inside a lab namespace: it has no route to any real resolver, so the test asks none.
labTest('an unknown host is a clear error, exit 1', { routers: [] }, async (lab) => {
  const r = await cliIn(lab, 'client', ['no-such-host.invalid', '--method', 'udp']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /unknown host 'no-such-host.invalid'/);
  const j = await cliIn(lab, 'client', ['no-such-host.invalid', '--json']);
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stdout).error.code, 'ERR_RESOLVE', 'with --json, stdout still parses');
  const u = cli(['discover', 'x', '--max', 'abc', '--json']);
  assert.equal(u.code, 2);
  assert.equal(JSON.parse(u.stdout).exitCode, 2);
});

labTest('pathmtu <host> human output, --json fields, --quiet, exit 0', { routers: [{}, {}], links: [{}, { mtu: 1400 }, {}] }, async (lab) => {
  const human = await cliIn(lab, 'client', [lab.server.v4]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^path MTU to ${lab.server.v4.replace(/\./g, '\\.')}: 1400 bytes, via icmp, round trip`));
  assert.match(human.stdout, /TCP MSS 1360/);
  assert.match(human.stdout, /PTB from .*: next-hop MTU 1400/);

  const json = await cliIn(lab, 'client', ['discover', lab.server.v6, '--json', '--method', 'udp']);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout);
  for (const k of ['target', 'address', 'family', 'method', 'pmtu', 'exact', 'lowerBound', 'upperBound', 'localMtu', 'probes', 'elapsedMs', 'ptbs', 'blackHole', 'direction']) {
    assert.ok(k in r, `JSON has ${k}`);
  }
  assert.equal(r.pmtu, 1400);
  assert.equal(r.family, 6);
  assert.equal(r.direction, 'forward');
  assert.deepEqual(Object.keys(r.ptbs[0]).sort(), ['accepted', 'from', 'nextHopMtu', 'reason', 'sizes']);

  const quiet = await cliIn(lab, 'client', [lab.server.v4, '-q']);
  assert.equal(quiet.stdout, '1400\n');
});

labTest('unreachable: exit 1, the router that said so; a silent host: exit 1 and what to try', { routers: [{}], links: [{}, {}] }, async (lab) => {
  const r = await cliIn(lab, 'client', ['198.18.200.1', '--method', 'udp', '-W', '0.3']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /not found via udp/);
  assert.match(r.stdout, new RegExp(`unreachable.*from ${lab.routerAddress(1, 4, 'in').replace(/\./g, '\\.')}`));
  await lab.exec('r1', ['ip', 'route', 'add', 'blackhole', '198.18.99.0/24']);
  const silent = await cliIn(lab, 'client', ['198.18.99.1', '--method', 'udp', '--json']);
  assert.equal(silent.code, 1);
  const j = JSON.parse(silent.stdout);
  assert.equal(j.pmtu, null);
  assert.equal(j.lowerBound, 0);
  assert.equal(j.unreachable, false);
  const human = await cliIn(lab, 'client', ['198.18.99.1', '--method', 'udp']);
  assert.match(human.stdout, /nothing was delivered/);
  assert.match(human.stdout, /try another --method/);
});

labTest('--verbose shows each probe and its fate on stderr', { routers: [{}], links: [{}, { mtu: 1400 }] }, async (lab) => {
  const r = await cliIn(lab, 'client', [lab.server.v4, '-v', '--method', 'udp']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /-> +1500 bytes/);
  assert.match(r.stderr, /too big: .* says next-hop MTU 1400/);
  assert.match(r.stderr, /delivered/);
});

test('pathmtu demo: builds, answers exactly over IPv4 and IPv6, tears down', { skip: process.getuid?.() !== 0 && process.env.CI !== 'true' ? 'needs root (network namespaces)' : false }, () => {
  const r = cli(['demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.results['4'].pmtu, 1400);
  assert.equal(out.results['4'].blackHole, true);
  assert.equal(out.results['6'].pmtu, 1400);
  assert.equal(out.results['6'].blackHole, false);
  assert.equal(out.trace.pmtu, 1400);
  assert.equal(out.trace.blackHole.afterTtl, 2, 'the trace locates the black hole after r2');
  const after = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  // Lab namespaces carry their creator's pid: other processes' labs may come and go meanwhile.
  assert.deepEqual(after.split('\n').filter((l) => l.startsWith(`pmtu-${r.pid}-`)), [], 'no namespace left behind');
});

labTest('Ctrl-C: discover stops, prints what it knows, exits 1', { routers: [{}], links: [{}, {}] }, async (lab) => {
  await lab.exec('r1', ['ip', 'route', 'add', 'blackhole', '198.18.99.0/24']);
  const child = lab.spawn('client', [process.execPath, bin, '198.18.99.1', '--method', 'udp', '-W', '5'], { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 500));
  const t = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.ok(Date.now() - t < 2000, 'stops promptly');
  assert.equal(code, 1);
  assert.match(out, /not found via udp \(interrupted\)/);
});
