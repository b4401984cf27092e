// Input that must be refused or named (issue 12, items 5-12), as a user meets it: the real binary.
// Every run that could send anything runs in a throwaway network namespace (unshare --net) whose
// only interface is its own loopback (plus, where a test needs another network, a veth pair with nobody behind it):
// a refused address cannot be reached from there, and an exit 2 with the message proves the
// refusal came before any lookup or probe (a probe would have failed with exit 1 instead).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labSkipReason } from '../../src/lab/testing.js';

const bin = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const skip = labSkipReason(); // unshare needs root, as the lab does
const env = { ...process.env, NO_COLOR: '1' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The shell prologue of a throwaway namespace: loopback up, then `setup`, then /etc/hosts replaced. */
function prologue(setup?: string, hosts?: string): string {
  return ['set -e', 'ip link set lo up', setup, hosts !== undefined ? 'mount --bind "$HOSTS" /etc/hosts' : undefined].filter(Boolean).join('; ') + ';';
}

/** A /24 on a veth pair inside the throwaway namespace: a next hop that nothing answers behind. */
const VETH = 'ip link add d0 mtu 1400 type veth peer name d1 mtu 1400; ip addr add 198.18.0.1/24 dev d0; ip link set d1 up; ip link set d0 up';

/** Run the binary in a fresh network (and mount) namespace; `hosts` replaces /etc/hosts in it only. */
function isolated(args: string[], opts: { setup?: string; hosts?: string } = {}): Run {
  let dir: string | undefined;
  const extra: NodeJS.ProcessEnv = {};
  if (opts.hosts !== undefined) {
    dir = mkdtempSync(join(tmpdir(), 'pathmtu-hosts-'));
    extra.HOSTS = join(dir, 'hosts');
    writeFileSync(extra.HOSTS, opts.hosts);
  }
  try {
    const script = `${prologue(opts.setup, opts.hosts)} exec "$NODE" "$BIN" "$@"`;
    const r = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', script, 'sh', ...args], {
      encoding: 'utf8',
      env: { ...env, ...extra, NODE: process.execPath, BIN: bin },
      timeout: 30_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The binary where nothing can be sent at all (no namespace needed): for pure usage errors. */
function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertUsage(r: Run, re: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}, ${r.stderr}`);
  assert.match(r.stderr, re, what);
  assert.doesNotMatch(r.stderr, /\n\s+at |unexpected error/, `${what}: no stack trace`);
}

test('non-canonical IPv4 literals are refused, naming what the resolver would have made of them', { skip }, () => {
  const cases: Array<[string, string, RegExp]> = [
    ['010.0.0.1', '8.0.0.1', /leading 0 means octal/],
    ['0x7f.1', '127.0.0.1', /0x means hex/],
    ['127.1', '127.0.0.1', /last part fills the missing bytes/],
    ['2130706433', '127.0.0.1', /one number is all 32 bits/],
  ];
  for (const [typed, became, how] of cases) {
    for (const command of [[], ['trace'], ['ping', '-c', '1'], ['cache']]) {
      const r = isolated([...command, typed, ...(command.length === 0 ? ['-m', 'udp'] : [])]);
      assertUsage(r, new RegExp(`'${typed.replace(/\./g, '\\.')}' is not a plain IPv4 address: the system resolver would read it as ${became.replace(/\./g, '\\.')}`), `${command.join(' ')} ${typed}`);
      assert.match(r.stderr, how, typed);
    }
  }
  // check-server refuses it in its host:port too.
  assertUsage(isolated(['check-server', '010.0.0.1:80']), /would read it as 8\.0\.0\.1/, 'check-server 010.0.0.1:80');
});

test('a port or a fifth part is a usage error; the hint says how to give a port where one applies', { skip }, () => {
  assertUsage(isolated(['127.0.0.1:80']), /'127\.0\.0\.1:80' has a port, and discover takes a host alone: to probe through TCP port 80: pathmtu --method tcp -p 80 127\.0\.0\.1/, 'discover');
  assertUsage(isolated(['trace', '[::1]:80']), /has a port, and trace takes a host alone: .*pathmtu trace --method tcp -p 80 ::1/, 'trace');
  assertUsage(isolated(['ping', '-c', '1', '127.0.0.1:80']), /ping takes a host alone: ICMP echo has no ports \(pathmtu ping 127\.0\.0\.1\)/, 'ping');
  assertUsage(isolated(['cache', '[::1]:80']), /cache takes a host alone/, 'cache');
  assertUsage(isolated(['inject', '127.0.0.1:80', '--mtu', '1300', '--about', '127.0.0.2']), /inject takes a host alone: .*--src-port/, 'inject');
  assertUsage(isolated(['1.2.3.4.5', '-m', 'udp']), /'1\.2\.3\.4\.5' is not an IPv4 address \(5 parts, an IPv4 address has 4\)/, '1.2.3.4.5');
  assertUsage(isolated(['1.2.3.256', '-m', 'udp']), /'1\.2\.3\.256' is not an IPv4 address \(a part is too large\)/, '1.2.3.256');
  // check-server takes host:port and still does: it gets past parsing to the connection (exit 1).
  const cs = isolated(['check-server', '127.0.0.1:9', '-W', '1']);
  assert.equal(cs.code, 1, cs.stderr);
  assert.doesNotMatch(cs.stderr, /port|usage/i);
  assert.match(cs.stdout, /check-server 127\.0\.0\.1 port 9/);
});

test('targets that cannot have a path MTU are named (exit 2), typed or resolved from a name', { skip }, () => {
  const literals: Array<[string, RegExp]> = [
    ['::', /:: is the unspecified address/],
    ['0.0.0.0', /0\.0\.0\.0 is the unspecified address/],
    ['0.1.2.3', /in 0\.0\.0\.0\/8/],
    ['224.0.0.1', /224\.0\.0\.1 is a multicast group/],
    ['239.255.255.250', /multicast group/],
    ['ff02::1', /ff02::1 is a multicast group/],
    ['255.255.255.255', /limited broadcast address/],
    ['::ffff:127.0.0.1', /IPv4-mapped IPv6 address.*\(use 127\.0\.0\.1\)/],
    // The broadcast address of a network this namespace is on (a /24 on a veth pair).
    ['198.18.0.255', /broadcast address of a network this host is on/],
  ];
  const setup = VETH;
  for (const [typed, re] of literals) {
    for (const command of [['-m', 'udp'], ['ping', '-c', '1']]) {
      const r = isolated([...command, typed], { setup });
      assertUsage(r, re, `${command.join(' ')} ${typed}`);
      assert.match(r.stderr, /it cannot have a path MTU/);
    }
  }
  const hosts = '0.0.0.0 anyhost\n224.0.0.251 mcast4\nff02::1 mcast6\n::ffff:127.0.0.1 mappedhost\n255.255.255.255 bcasthost\n127.0.0.1 fine\n';
  const names: Array<[string, RegExp]> = [
    ['anyhost', /'anyhost' resolves to 0\.0\.0\.0, the unspecified address/],
    ['mcast4', /'mcast4' resolves to 224\.0\.0\.251, a multicast group/],
    ['mcast6', /'mcast6' resolves to ff02::1, a multicast group/],
    ['mappedhost', /'mappedhost' resolves to ::ffff:127\.0\.0\.1, an IPv4-mapped/],
    ['bcasthost', /'bcasthost' resolves to 255\.255\.255\.255, the limited broadcast/],
  ];
  for (const [name, re] of names) assertUsage(isolated(['-m', 'udp', name], { hosts }), re, name);
  // The same hosts file lets an ordinary name through: the check is about the address, not names.
  const fine = isolated(['-m', 'udp', '-q', 'fine'], { hosts });
  assert.equal(fine.code, 0, fine.stderr);
  assert.match(fine.stdout, /^\d+\n$/);
});

test('options anywhere: before the host, before the command, --json errors as JSON', { skip }, () => {
  const v4 = isolated(['-4', '--method', 'udp', '-q', '127.0.0.1']);
  assert.equal(v4.code, 0, v4.stderr);
  assert.match(v4.stdout, /^\d+\n$/);
  const v6 = isolated(['-6', '--method', 'udp', '-q', '::1']);
  assert.equal(v6.code, 0, v6.stderr);
  const json = isolated(['--json', '-m', 'udp', '127.0.0.1']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).address, '127.0.0.1');
  // Options before the command name belong to that command.
  const ping = isolated(['-c', '1', '-4', 'ping', '127.0.0.1']);
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, /^PING 127\.0\.0\.1/);
  const explain = cli(['--json', 'explain', '1400']);
  assert.equal(explain.code, 0, explain.stderr);
  assert.equal(JSON.parse(explain.stdout).mtu, 1400);
  // An option's value is not mistaken for the command or the host.
  assertUsage(cli(['-m', 'trace', '192.0.2.1']), /--method must be one of .*got 'trace'/, '-m trace');
  assertUsage(cli(['-n', 'trace']), /pathmtu trace: missing <host>/, '-n trace');

  // --json anywhere: every error is a JSON object on stdout too, with the exit status.
  for (const args of [['--json', '0.0.0.0'], ['--json', '--frobnicate'], ['-4', '--json', '::1'], ['--json', 'trace', '1.2.3.4.5'], ['help', 'nosuch', '--json']]) {
    const r = isolated(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.error.code, 'ERR_USAGE', args.join(' '));
    assert.equal(out.exitCode, 2);
  }
  assertUsage(cli(['--frobnicate']), /^pathmtu: Unknown option '--frobnicate'\n/, '--frobnicate');
  assert.match(cli(['-4', '--help']).stdout, /^pathmtu discover/, 'help of the implied command');
});

test('help for a command that does not exist exits 2 and lists the commands', () => {
  const r = cli(['help', 'nosuch']);
  assertUsage(r, /no command 'nosuch' \(commands: discover, trace/, 'help nosuch');
  assert.equal(r.stdout, '');
  const ok = cli(['help', 'trace']);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^pathmtu trace/);
});

/** Start the binary, close our end of its stdout after the first line, and wait for its exit. */
function readFirstLineThenClose(args: string[]): Promise<Run & { first: string }> {
  return new Promise((resolve, reject) => {
    const script = `${prologue()} exec "$NODE" "$BIN" "$@"`;
    const child = spawn('unshare', ['--net', '--mount', 'sh', '-c', script, 'sh', ...args], {
      env: { ...env, NODE: process.execPath, BIN: bin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let first: string | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (first === undefined && out.includes('\n')) {
        first = out.slice(0, out.indexOf('\n'));
        child.stdout.destroy(); // as `| head -1` does
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr, first: first ?? '' });
    });
  });
}

test('a reader that stops early (| head -1) ends the run quietly, exit 0', { skip }, async () => {
  // An endless ping: without the fix it wrote a stack trace ("write EPIPE") and exited 1.
  const ping = await readFirstLineThenClose(['ping', '-i', '0.2', '127.0.0.1']);
  assert.match(ping.first, /^PING 127\.0\.0\.1/);
  assert.equal(ping.code, 0, ping.stderr);
  assert.equal(ping.stderr, '');
  const sweep = await readFirstLineThenClose(['ping', '--sweep', '1000:1400:20', '-i', '0.2', '127.0.0.1']);
  assert.match(sweep.first, /sweep of whole IP packets 1000\.\.1400/);
  assert.equal(sweep.code, 0, sweep.stderr);
  assert.equal(sweep.stderr, '');
  const explain = await readFirstLineThenClose(['explain', '1400']);
  assert.match(explain.first, /^Path MTU 1400/);
  assert.equal(explain.code, 0, explain.stderr);
  assert.equal(explain.stderr, '');
});

test('output that cannot be written (> /dev/full) is one line on stderr and exit 1', () => {
  for (const args of [['explain', '1400'], ['explain', '1400', '--json'], ['--help']]) {
    const r = spawnSync('sh', ['-c', 'exec "$NODE" "$BIN" "$@" > /dev/full', 'sh', ...args], { encoding: 'utf8', env: { ...env, NODE: process.execPath, BIN: bin } });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, 'pathmtu: cannot write the output: no space left on device (ENOSPC)\n', args.join(' '));
  }
});

test('inject: the other family in --about is named; an MTU Linux ignores is said to change nothing', { skip }, () => {
  assertUsage(isolated(['inject', '127.0.0.1', '--mtu', '1300', '--about', '::1']), /target is IPv4, --about is IPv6/, 'v4 target, v6 about');
  assertUsage(isolated(['inject', '::1', '--mtu', '1300', '--about', '[127.0.0.1]:80', '--proto', 'udp', '--src-port', '1']), /target is IPv6, --about is IPv4/, 'v6 target, v4 about');
  assertUsage(isolated(['inject', '127.0.0.1', '--mtu', '1300', '--about', '127.0.0.2', '--from', '::1']), /target is IPv4, --from is IPv6/, 'v6 from');

  // Target is this host (its loopback, MTU 1500 in this namespace): the MTU it uses is read exactly.
  const setup = `ip link set lo mtu 1500; ${VETH}`;
  const high = isolated(['inject', '127.0.0.1', '--mtu', '9000', '--about', '127.0.0.2'], { setup });
  assert.equal(high.code, 0, high.stderr);
  assert.match(high.stderr, /warning: Linux ignores a PTB that does not lower the MTU it uses: 127\.0\.0\.1 \(this host\) sends to 127\.0\.0\.2 with MTU 1500, so MTU 9000 changes nothing/);
  assert.doesNotMatch(high.stderr, /will use MTU 9000/);
  const low = isolated(['inject', '127.0.0.1', '--mtu', '1300', '--about', '127.0.0.2'], { setup });
  assert.equal(low.code, 0, low.stderr);
  assert.match(low.stderr, /warning: 127\.0\.0\.1 \(this host\) will use MTU 1300 towards 127\.0\.0\.2/);
  // Another host (behind the veth pair, where nobody has that address): only this host's route MTU is known.
  const remote = isolated(['inject', '198.18.0.2', '--mtu', '9000', '--about', '198.18.0.1'], { setup });
  assert.equal(remote.code, 0, remote.stderr);
  assert.match(remote.stderr, /MTU 9000 is above this host's route MTU towards 198\.18\.0\.2 \(1400\): Linux ignores a PTB that does not lower the MTU it uses/);
});

test('limits are the ones the CLI has, and named as the user gave them', { skip }, () => {
  assertUsage(cli(['192.0.2.1', '-W', '0.0001']), /--timeout must be from 0\.001 to 60 seconds, got 0\.0001/, '-W 0.0001');
  assertUsage(cli(['trace', '192.0.2.1', '-W', '61']), /--timeout must be from 0\.001 to 60 seconds, got 61/, 'trace -W 61');
  assertUsage(cli(['ping', '192.0.2.1', '-W', '0.0004']), /-W must be from 0\.001 to 600 seconds/, 'ping -W');
  // No --max given: the limit is what can leave (loopback: the largest IPv4 packet), never "--max".
  const min = isolated(['127.0.0.1', '--min', '65575', '-m', 'udp']);
  assertUsage(min, /--min 65575 is above the largest IPv4 packet, 65535 bytes/, '--min 65575');
  assert.doesNotMatch(min.stderr, /--max/);
  const min6 = isolated(['::1', '--min', '65575', '-m', 'udp'], { setup: 'ip link set lo mtu 9000' });
  assertUsage(min6, /--min 65575 is above the MTU of the interface towards ::1, 9000 bytes/, '--min 65575 v6');
  assertUsage(isolated(['::1', '--min', '2000', '--max', '1500', '-m', 'udp']), /--max 1500 is below --min 2000/, 'max < min');
  assertUsage(isolated(['::1', '-4', '-m', 'udp']), /::1 is an IPv6 address, but -4 was asked for/, '-4 with ::1');
});

/** Start `pathmtu demo`, send SIGINT once stdout shows `when`, and report how it ended. */
function interruptDemo(when: RegExp): Promise<Run & { pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!sent && when.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid! });
    });
  });
}

test('Ctrl-C in demo, also while the network is being built, says "interrupted" and leaves no namespace', { skip, timeout: 180_000 }, async () => {
  // The banner is written just before the network is built: SIGINT lands in Lab.create (the first
  // quarter second), where it used to surface as a raw `ip -batch … Invalid "netns"` error.
  for (const when of [/^pathmtu demo/, /Built in/, /3\. Where do the IPv4 packets vanish/]) {
    const r = await interruptDemo(when);
    assert.equal(r.code, 1, `${when}: ${r.stderr}`);
    assert.equal(r.stderr, 'pathmtu demo: interrupted; the demo network was torn down\n', String(when));
    assert.doesNotMatch(r.stdout, /this is a bug/);
    const left = (existsSync('/run/netns') ? readdirSync('/run/netns') : []).filter((n) => n.startsWith(`pmtu-${r.pid}-`));
    assert.deepEqual(left, [], `${when}: namespaces left behind`);
  }
});

test('no two commands give one option different types (main finds the command among options by them)', async () => {
  const { commands } = await import('../../src/cli/commands/index.js');
  const seen = new Map<string, { type: string; by: string }>();
  for (const entry of commands) {
    const c = await entry.load();
    for (const [name, o] of Object.entries(c.options)) {
      for (const key of [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]) {
        const prev = seen.get(key);
        assert.ok(prev === undefined || prev.type === o.type, `${key} is a ${prev?.type} in ${prev?.by} but a ${o.type} in ${c.name}`);
        seen.set(key, { type: o.type, by: c.name });
      }
    }
  }
  assert.ok(seen.size > 20, 'every command declares its options');
});
