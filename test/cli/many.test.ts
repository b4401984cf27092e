// Many targets from the command line, as a user runs them: the real binary inside the client
// namespace of one small hub (20 targets per family, 2 behind the router that drops its PTBs),
// shared by every test of this file. Each row and NDJSON object is checked against the hub's truth.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Hub } from '../../src/lab/hub.js';
import type { HubTarget } from '../../src/lab/hub-spec.js';
import { labSkipReason } from '../../src/lab/testing.js';
import { canRunLab } from '../../src/lab/lab.js';
import { LabError } from '../../src/errors.js';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const skip = labSkipReason();
const env = { ...process.env, NO_COLOR: '1' };
let hub: Hub;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pathmtu-many-'));
  if (skip !== undefined) return;
  const can = canRunLab();
  if (!can.ok) throw new LabError(`CI=true but the lab cannot be built: ${can.reason}`);
  hub = await Hub.create({ targets: 20 });
  // Not a target: r1 drops what it has no route for, silently (a host that never answers).
  await hub.exec('r1', ['ip', 'route', 'add', 'blackhole', '198.19.200.0/24']);
});

after(async () => {
  await hub?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return hub.exec('client', [process.execPath, bin, ...args], { timeoutMs: 60_000, env, ...(input !== undefined ? { input } : {}) });
}

/**
 * The CLI with names of our own: a mount namespace for this one process, where /etc/hosts is
 * `hosts` and the resolver asks loopback (nothing listens there: an unknown name fails at once).
 */
function cliNames(args: string[], hosts: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const h = file('hosts', hosts);
  const resolv = file('resolv.conf', 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  const script = 'mount --bind "$HOSTS" /etc/hosts && mount --bind "$RESOLV" /etc/resolv.conf && exec "$NODE" "$BIN" "$@"';
  return hub.exec('client', ['unshare', '--mount', 'sh', '-c', script, 'sh', ...args], { env: { ...env, HOSTS: h, RESOLV: resolv, NODE: process.execPath, BIN: bin }, timeoutMs: 60_000 });
}

interface Row {
  target: string;
  pmtu: number | null;
  exact: string;
  learned: string;
  method: string;
  probes: number;
}

/** The table's rows (no address column: every target here is an address). */
function rows(stdout: string): Row[] {
  const lines = stdout.split('\n');
  assert.match(lines[0]!, /^target\s+PMTU\s+exact\s+learned\s+method\s+probes\s+time$/, 'header');
  const out: Row[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const m = /^(\S+)\s+(\d+|-)\s+(yes|no|-)\s+(.+?)\s+(icmp|icmp-dgram|udp|tcp|-)\s+(\d+|-)\s+\S+ m?s$/.exec(line);
    assert.ok(m, `a table row: '${line}'`);
    out.push({ target: m[1]!, pmtu: m[2] === '-' ? null : Number(m[2]), exact: m[3]!, learned: m[4]!, method: m[5]!, probes: Number(m[6]) });
  }
  return out;
}

/** What the row must say for a hub target: its PMTU, exact, and how (its router's PTB, or a black hole). */
function assertTruth(row: Row, t: HubTarget): void {
  assert.equal(row.target, t.address);
  assert.equal(row.pmtu, t.pmtu, `${t.address}: PMTU`);
  assert.equal(row.exact, 'yes', `${t.address}: exact`);
  assert.equal(row.learned, t.blackHole ? 'black hole' : `PTB from ${t.ptbFrom}`, `${t.address}: how it was learned`);
}

test('--help teaches several targets, with examples from the lab ranges only', () => {
  const r = spawnSync(process.execPath, [bin, 'discover', '--help'], { encoding: 'utf8', env });
  assert.equal(r.status, 0);
  for (const flag of ['-f, --file FILE', '--both', '--rate PPS', '--concurrency N', '--max-targets N']) assert.ok(r.stdout.includes(flag), flag);
  // (printf's \n escapes made spaces, so that addresses stand alone)
  const examples = r.stdout.slice(r.stdout.indexOf('Examples:'), r.stdout.indexOf('\nOutput:')).replace(/\\n/g, ' ');
  assert.match(examples, /pathmtu -f \S+/);
  assert.match(examples, /\| pathmtu - /);
  assert.match(examples, /\d+\.\d+\.\d+\.\d+\/\d+/, 'a prefix');
  for (const a of examples.match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? []) assert.match(a, /^198\.1[89]\./, `${a} is a lab address (198.18.0.0/15)`);
  for (const a of examples.match(/\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/gi) ?? []) assert.match(a, /^2001:db8:/i, `${a} is a lab address (2001:db8::/32)`);
  const top = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env });
  assert.match(top.stdout, /pathmtu <host>\.\.\. \[-f FILE\]/);
});

test('-f FILE: comments and blank lines skipped, one row per target in the order given, each the hub truth; exit 0', { skip }, async () => {
  const picked = [...hub.targets(4)].reverse().slice(0, 12); // reversed: the table keeps the file's order, not the finishing order
  const list = file('v4.txt', `# hub targets, reversed\n\n${picked.map((t, i) => (i % 3 === 0 ? `  ${t.address}   # comment after a target` : t.address)).join('\n')}\n\n`);
  const r = await cli(['-f', list]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = rows(r.stdout);
  assert.deepEqual(got.map((x) => x.target), picked.map((t) => t.address), 'sorted as given');
  got.forEach((row, i) => assertTruth(row, picked[i]!));
  assert.ok(picked.some((t) => t.blackHole), 'the sample holds a black hole');
  assert.match(r.stdout, /\n12 targets: 12 found \(12 exact\); \d+ probes in /);
  assert.equal(r.stderr, '', 'no progress when stderr is not a terminal');
  // -q: 'target address pmtu' per line, in the order given.
  const q = await cli(['-q', '-f', file('three.txt', `${picked.slice(0, 3).map((t) => t.address).join('\n')}\n`)]);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout, picked.slice(0, 3).map((t) => `${t.address} ${t.address} ${t.pmtu}\n`).join(''));
});

test('progress goes to stderr when it is a terminal (script(1) gives it one), never into the output', { skip }, async () => {
  const out = join(dir, 'table.txt');
  const targets = hub.targets(4).slice(0, 5).map((t) => t.address);
  const command = [process.execPath, bin, ...targets, '>', out].join(' ');
  const r = await hub.exec('client', ['script', '-qfec', command, '/dev/null'], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\r\x1b\[K5\/5 done, 0 probing/, 'the last progress line, on the terminal');
  assert.match(r.stdout, /\r\x1b\[K$/, 'cleared at the end');
  const table = readFileSync(out, 'utf8');
  assert.doesNotMatch(table, /\x1b|done,/);
  assert.equal(rows(table).length, 5);
});

test('- (stdin) with --json: NDJSON, one object per target in the single-target schema; IPv6', { skip }, async () => {
  const targets = hub.targets(6);
  const r = await cli(['-', '--json'], `${targets.map((t) => t.address).join('\n')}\n`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, targets.length, 'one line per target');
  const seen = new Set<string>();
  for (const line of lines) {
    const j = JSON.parse(line) as { target: string; address: string; family: number; pmtu: number; exact: boolean; blackHole: boolean; ptbs: unknown[]; probes: number };
    for (const k of ['target', 'address', 'family', 'method', 'direction', 'pmtu', 'exact', 'lowerBound', 'upperBound', 'localMtu', 'probes', 'elapsedMs', 'ptbs', 'blackHole']) {
      assert.ok(k in j, `${line.slice(0, 40)}: has ${k}`);
    }
    const t = hub.target(j.address);
    assert.equal(j.family, 6);
    assert.equal(j.pmtu, t.pmtu, j.address);
    assert.equal(j.exact, true, j.address);
    assert.equal(j.blackHole, t.blackHole, j.address);
    seen.add(t.address);
  }
  assert.equal(seen.size, targets.length, 'every target once');
});

test('a CIDR prefix: its hosts, without network and broadcast address, in address order', { skip }, async () => {
  // icmp: the targets rate-limit their port unreachables (6, then 1/s towards the client), which
  // would make udp a test of the engine's pacing rather than of the CLI.
  const r = await cli(['198.19.1.0/28', '--method', 'icmp']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = rows(r.stdout);
  const want = hub.targets(4).slice(0, 14); // 198.19.1.1 .. 198.19.1.14
  assert.deepEqual(got.map((x) => x.target), want.map((t) => t.address));
  got.forEach((row, i) => {
    assertTruth(row, want[i]!);
    assert.equal(row.method, 'icmp');
  });
});

test('exit 1 when some PMTU was not found, with the others still right; an unknown name is a row, not a stop', { skip }, async () => {
  const [a, b] = hub.targets(4);
  const r = await cliNames([a!.address, '198.19.200.1', 'no-such-host.invalid', b!.address, '--method', 'icmp', '-W', '0.2'], '127.0.0.1 localhost\n');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines.find((l) => l.startsWith('198.19.200.1 '))!, /^198\.19\.200\.1\s+-\s+-\s+nothing delivered\s+icmp\s/);
  assert.match(r.stdout, /\nwhy not found or not exact:\n  198\.19\.200\.1 answered none of the icmp probes/);
  assert.match(lines.find((l) => l.startsWith('no-such-host.invalid '))!, /^no-such-host\.invalid\s+-\s+-\s+not probed\s/);
  assert.match(r.stdout, /\n  no-such-host\.invalid: unknown host 'no-such-host\.invalid'/);
  assert.match(r.stdout, /4 targets: 2 found \(2 exact\), 1 not found, 1 not probed \(error\)/);
  const json = await cliNames([a!.address, '198.19.200.1', 'no-such-host.invalid', '--method', 'icmp', '-W', '0.2', '--json'], '127.0.0.1 localhost\n');
  assert.equal(json.code, 1);
  const objs = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { target: string; pmtu?: number | null; error?: { code: string; message: string } });
  assert.equal(objs.length, 3);
  assert.equal(objs.find((o) => o.target === a!.address)!.pmtu, a!.pmtu);
  assert.equal(objs.find((o) => o.target === '198.19.200.1')!.pmtu, null);
  assert.deepEqual(objs.find((o) => o.target === 'no-such-host.invalid')!.error!.code, 'ERR_RESOLVE');
});

test('exit 2: a bad line names file:line, a prefix past the cap names --max-targets; nothing is probed', { skip }, async () => {
  const bad = file('bad.txt', `${hub.targets(4)[0]!.address}\n# fine so far\n198.19.1.2:80\n`);
  const r = await cli(['-f', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3: '198\\.19\\.1\\.2:80' has a port`));
  assert.equal(r.stdout, '');
  const multicast = await cli(['-f', file('mc.txt', '198.19.1.1\n\n239.1.2.3\n')]);
  assert.equal(multicast.code, 2);
  assert.match(multicast.stderr, /mc\.txt:3: 239\.1\.2\.3 is a multicast group/);
  const cap = await cli(['198.19.0.0/16']);
  assert.equal(cap.code, 2);
  assert.match(cap.stderr, /198\.19\.0\.0\/16 holds 65534 hosts: more than the 4096 targets --max-targets allows/);
  const raised = await cli(['198.19.1.0/27', '--max-targets', '10']);
  assert.equal(raised.code, 2);
  assert.match(raised.stderr, /holds 30 hosts: more than the 10 targets --max-targets allows/);
  const json = await cli(['-f', bad, '--json']);
  assert.equal(JSON.parse(json.stdout).exitCode, 2, 'with --json, a usage error is still a JSON object');
});

test('--both: a dual-stack name is probed over each family, one row each (names from a private /etc/hosts)', { skip }, async () => {
  const v4 = hub.targets(4)[3]!;
  const v6 = hub.targets(6)[3]!;
  const r = await cliNames(['dual.lab', '--both'], `127.0.0.1 localhost\n${v4.address} dual.lab\n${v6.address} dual.lab\n`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^target\s+address\s+PMTU/);
  const row4 = lines.find((l) => l.startsWith('dual.lab (IPv4)'));
  const row6 = lines.find((l) => l.startsWith('dual.lab (IPv6)'));
  assert.ok(row4 && row6, r.stdout);
  assert.match(row4, new RegExp(`\\s${v4.address.replace(/\./g, '\\.')}\\s+${v4.pmtu}\\s+yes\\s`));
  assert.match(row6, new RegExp(`\\s${v6.address}\\s+${v6.pmtu}\\s+yes\\s`));
});

test('Ctrl-C: the targets that finished are printed, the rest named as not probed; exit 1', { skip }, async () => {
  const fast = hub.targets(4).slice(0, 3).map((t) => t.address);
  // Silent addresses with a long timeout keep the run going; with --concurrency 4 most never start.
  const silent = Array.from({ length: 20 }, (_, i) => `198.19.200.${i + 1}`);
  const child = hub.spawn('client', [process.execPath, bin, ...fast, ...silent, '--method', 'icmp', '-W', '5', '--concurrency', '4'], { env });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.ok(Date.now() - t0 < 3000, 'stops promptly');
  assert.equal(code, 1);
  const got = rows(out);
  for (const a of fast) assert.equal(got.find((r) => r.target === a)?.exact, 'yes', `${a} finished and is printed`);
  assert.ok(got.some((r) => r.learned === 'interrupted'), 'a target in flight is shown interrupted');
  assert.match(out, /interrupted: \d+ of 23 targets were not probed/);
});
