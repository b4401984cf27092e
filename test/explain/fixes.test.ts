// Fix commands: exact snapshots for given cases, and (as root) every firewall and ip command
// applied for real inside a throwaway network namespace (unshare -n), so the syntax is proven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fixes } from '../../src/explain/index.js';

const commandsOf = (list: ReturnType<typeof fixes>): string[] => list.flatMap((f) => f.command.split('\n'));

test('IPv4 1450 on eth0 (local 1500): exact commands', () => {
  assert.deepEqual(commandsOf(fixes({ pmtu: 1450, localMtu: 1500, iface: 'eth0', family: 4 })), [
    'ip link set dev eth0 mtu 1450',
    'ip route replace <destination> via <gateway> dev eth0 mtu 1450',
    'nft add rule inet filter forward tcp flags syn tcp option maxseg size set rt mtu',
    'nft add rule inet filter forward meta nfproto ipv4 tcp flags syn tcp option maxseg size gt 1410 tcp option maxseg size set 1410',
    'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1411:65535 -j TCPMSS --set-mss 1410',
    'nft insert rule inet filter input icmp type destination-unreachable icmp code frag-needed accept',
    'nft insert rule inet filter forward icmp type destination-unreachable icmp code frag-needed accept',
    'iptables -I INPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT',
    'iptables -I FORWARD -p icmp --icmp-type fragmentation-needed -j ACCEPT',
    'nft insert rule inet filter input icmp type time-exceeded accept',
    'iptables -I INPUT -p icmp --icmp-type time-exceeded -j ACCEPT',
    'ping -M do -s 1422 -c 3 <host>',
    'ping -M do -s 1423 -c 3 <host>',
  ]);
});

test('IPv6 1420, interface unknown: placeholders, ip6tables, MSS 1360, ICMPv6 type 2 and 3', () => {
  assert.deepEqual(commandsOf(fixes({ pmtu: 1420, family: 6 })), [
    'ip link set dev <iface> mtu 1420',
    'ip -6 route replace <destination> via <gateway> dev <iface> mtu 1420',
    'nft add rule inet filter forward tcp flags syn tcp option maxseg size set rt mtu',
    'nft add rule inet filter forward meta nfproto ipv6 tcp flags syn tcp option maxseg size gt 1360 tcp option maxseg size set 1360',
    'ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    'ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:65535 -j TCPMSS --set-mss 1360',
    'nft insert rule inet filter input icmpv6 type packet-too-big accept',
    'nft insert rule inet filter forward icmpv6 type packet-too-big accept',
    'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT',
    'ip6tables -I FORWARD -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT',
    'nft insert rule inet filter input icmpv6 type time-exceeded accept',
    'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type time-exceeded -j ACCEPT',
    'ping -6 -M do -s 1372 -c 3 <host>',
    'ping -6 -M do -s 1373 -c 3 <host>',
  ]);
});

test('when the interface already equals the path MTU, no interface change is proposed', () => {
  const list = fixes({ pmtu: 1492, localMtu: 1492, iface: 'ppp0', family: 4 });
  assert.ok(!commandsOf(list).some((c) => c.startsWith('ip link') || c.includes(' route ')));
  assert.ok(commandsOf(list).includes('iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1453:65535 -j TCPMSS --set-mss 1452'));
});

test('IPv6 below 1280: never lower an interface below the IPv6 minimum', () => {
  const list = fixes({ pmtu: 1200, iface: 'eth0', family: 6 });
  const cmds = commandsOf(list);
  assert.ok(!cmds.some((c) => /mtu 1200\b/.test(c)), cmds.join('\n'));
  assert.ok(cmds.includes('ip link set dev <tunnel-or-link> mtu 1280'));
  assert.match(list[0]!.why, /RFC 8200/);
});

test('IPv4 below 1280: the interface fix warns that IPv6 goes away', () => {
  const [first] = fixes({ pmtu: 1200, iface: 'eth0', family: 4 });
  assert.equal(first!.command, 'ip link set dev eth0 mtu 1200');
  assert.match(first!.why, /disables IPv6/);
});

test('commands are safe to paste into a shell: no redirection, pipes or separators outside <placeholders>', () => {
  // nft's own '>' would become a shell redirection (it did, once): comparisons must be written 'gt'.
  for (const family of [4, 6] as const) {
    for (const c of commandsOf(fixes({ pmtu: 1400, family }))) {
      assert.doesNotMatch(c.replace(/<[a-z-]+>/g, 'X'), /[<>|;&$`"']/, c);
    }
  }
});

test('an interface name with shell characters (Linux allows them) is one quoted word in every command', () => {
  for (const iface of ["eth0;x", "a'b", 'v$(id)']) {
    const cmds = commandsOf(fixes({ pmtu: 1400, family: 4, iface }));
    const link = cmds.find((c) => c.startsWith('ip link set dev'));
    assert.ok(link !== undefined, JSON.stringify(cmds));
    // The shell's own reading of the command gives the name back as one argument.
    const r = spawnSync('sh', ['-c', `set -- ${link}; printf '%s' "$5"`], { encoding: 'utf8' });
    assert.equal(r.stdout, iface, link);
  }
});

test('every fix says what, how and why', () => {
  for (const family of [4, 6] as const) {
    for (const f of fixes({ pmtu: 1400, family })) {
      assert.ok(f.what.length > 0 && f.command.length > 0 && f.why.length > 0);
    }
  }
});

// Root only: apply the commands in a private network namespace that vanishes with the process.
// Nothing is sent; placeholders are replaced by a veth interface and documentation addresses.
function whyNotRunnable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['unshare', 'nft', 'iptables', 'ip6tables', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  }
  return undefined;
}

const skipReason = whyNotRunnable();
if (skipReason !== undefined && process.env.CI === 'true') {
  test('fix commands apply in a network namespace', () => assert.fail(`cannot run in CI: ${skipReason}`));
} else {
  test('fix commands apply in a network namespace', { skip: skipReason }, () => {
    for (const family of [4, 6] as const) {
      const setup = [
        'set -e',
        'ip link add pmtu-d0 type veth peer name pmtu-d1',
        'ip link set pmtu-d1 up',
        'ip link set pmtu-d0 up',
        'ip addr add 198.18.1.1/24 dev pmtu-d0',
        'ip -6 addr add 2001:db8:1::1/64 dev pmtu-d0 nodad',
        'nft add table inet filter',
        "nft add chain inet filter input '{ type filter hook input priority 0; }'",
        "nft add chain inet filter forward '{ type filter hook forward priority 0; }'",
      ];
      const gateway = family === 4 ? '198.18.1.2' : '2001:db8:1::2';
      const destination = family === 4 ? '198.18.5.0/24' : '2001:db8:5::/64';
      const cmds = commandsOf(fixes({ pmtu: 1400, iface: 'pmtu-d0', localMtu: 1500, family }))
        .filter((c) => !c.startsWith('ping'))
        .map((c) => c.replace('<destination>', destination).replace('<gateway>', gateway));
      assert.ok(!cmds.some((c) => c.includes('<')), 'all placeholders replaced');
      const script = [...setup, ...cmds, 'ip link show pmtu-d0', 'nft list ruleset'].join('\n');
      const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000, cwd: tmpdir() });
      assert.equal(r.status, 0, `IPv${family}: ${r.stderr}`);
      assert.match(r.stdout, /mtu 1400/);
      assert.match(r.stdout, /tcp option maxseg size set rt mtu/);
      assert.match(r.stdout, family === 4 ? /icmp code frag-needed accept/ : /icmpv6 type packet-too-big accept/);
    }
  });
}
