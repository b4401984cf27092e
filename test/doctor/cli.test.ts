// `pathmtu doctor` through the real binary: help, usage errors (exit 2), a host that does not
// resolve (exit 1, one clear line; looked up inside a lab namespace), and the JSON of a run in this process's own namespace — read
// only: doctor sends nothing and changes nothing, so it is safe outside a lab.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorResult } from '../../src/doctor/index.js';
import { labTest } from '../../src/lab/testing.js';
import { doctorCli, ROOT } from './helpers.js';

const bin = join(ROOT, 'bin/pathmtu.js');
const cli = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 });

test('doctor --help teaches: every check, what the marks mean, exit codes, examples', () => {
  const r = cli(['doctor', '--help']);
  assert.equal(r.status, 0);
  for (const word of ['CAP_NET_RAW', 'ping_group_range', 'fragmentation needed', 'packet too big', 'nft -j list ruleset', 'iptables-save', 'disable_ipv6', 'ip_no_pmtu_disc', 'tcp_mtu_probing', 'black-holed path', '2 always probes', '--json', 'Exit status', 'network namespace', 'Examples']) {
    assert.ok(r.stdout.includes(word), `--help lacks '${word}'`);
  }
  assert.match(r.stdout, /✓ fine, ! worth knowing .*, ✗ a problem/);
  assert.match(cli(['--help']).stdout, /^ {2}doctor +why PMTUD fails here/m);
});

test('doctor usage errors exit 2 with the reason', () => {
  for (const [args, why] of [
    [['doctor', 'a.example', 'b.example'], /expected at most one <host>, got 2/],
    [['doctor', '-4'], /-4 applies to a <host>/],
    [['doctor', '-4', '-6', '127.0.0.1'], /-4 and -6 exclude each other/],
    [['doctor', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['doctor', '-6', '127.0.0.1'], /127\.0\.0\.1 is an IPv4 address, but -6 was asked for/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.match(r.stderr, /Run 'pathmtu doctor --help' for usage\./);
  }
});

// Inside a lab namespace, so the name lookup cannot reach any real resolver.
labTest('doctor: a host that does not resolve exits 1 with one line, and --json still parses', { routers: [] }, async (lab) => {
  const r = await doctorCli(lab, ['no-such-host.invalid', '--json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^pathmtu doctor: unknown host 'no-such-host\.invalid'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(JSON.parse(r.stdout).error.code, 'ERR_RESOLVE');
});

test('doctor --json in this namespace: every check, exit status from the problems, the human form agrees', () => {
  const r = cli(['doctor', '127.0.0.1', '--json']);
  const j = JSON.parse(r.stdout) as DoctorResult;
  assert.equal(r.status, j.problems > 0 ? 1 : 0, r.stderr);
  assert.deepEqual(
    j.checks.map((c) => c.id),
    ['raw-sockets', 'ping-group', 'firewall', 'ipv6', 'route-mtu', 'pmtu-cache', 'pmtu-disc', 'tcp-mtu-probing', 'methods'],
  );
  assert.deepEqual(j.host, { target: '127.0.0.1', address: '127.0.0.1', family: 4 });
  assert.equal(j.user.uid, process.getuid!());
  assert.equal(j.problems, j.checks.filter((c) => c.status === 'problem').length);
  assert.equal(j.ok, j.problems === 0);
  for (const c of j.checks) {
    assert.ok(['ok', 'warn', 'problem'].includes(c.status), c.id);
    if (c.status === 'problem') assert.ok(c.fixes.length > 0 || c.id === 'raw-sockets' || c.id === 'route-mtu', `${c.id}: a problem without a fix`);
  }
  // The loopback route: lo, and nothing cached for it.
  assert.match(j.checks.find((c) => c.id === 'route-mtu')!.summary, /route to 127\.0\.0\.1: dev lo/);

  const human = cli(['doctor', '127.0.0.1']);
  assert.equal(human.status, r.status);
  const marks = human.stdout.split('\n').filter((l) => /^[✓!✗] /.test(l));
  assert.deepEqual(marks.map((l) => l[0]), j.checks.map((c) => ({ ok: '✓', warn: '!', problem: '✗' })[c.status]));
});

test("import('pathmtu') exports doctor", async () => {
  const api = await import('pathmtu');
  assert.equal(typeof api.doctor, 'function');
  await assert.rejects(api.doctor({ family: 5 as never }), api.UsageError);
});
