// pathmtu doctor against real namespaces: each wall is built into the lab client's namespace,
// doctor (the library in-process, and the CLI as a user runs it) must report it with its fix, and
// the printed fix, applied as printed, must clear it. For the firewall the fix is also proven on the
// wire: a router's real frag-needed / packet-too-big is thrown away before it and learned after it.
import assert from 'node:assert/strict';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import { doctor } from '../../src/doctor/index.js';
import type { DoctorResult } from '../../src/doctor/index.js';
import { applyFix, check, doctorCli, doctorJson, NOBODY, stagedRoot } from './helpers.js';

/** client -(1500)- r1 -(1400)- r2 -(1500)- server: r1 answers bigger packets with a PTB naming 1400. */
const path = { routers: [{}, {}], links: [{}, { mtu: 1400 }, {}] };

/** doctor() in-process, with this thread inside the client's namespace. */
async function doctorIn(lab: Lab, host?: string): Promise<DoctorResult> {
  lab.enter('client');
  try {
    return await doctor(host !== undefined ? { host } : {});
  } finally {
    lab.leave();
  }
}

/**
 * Send one DF packet of 1500 bytes from the client to the server (ping -M do) and return the MTU
 * the client's kernel then holds for the server (`ip route get`), or null: the PTB never arrived.
 */
async function learnedMtu(lab: Lab, family: 4 | 6): Promise<number | null> {
  const server = family === 4 ? lab.server.v4 : lab.server.v6;
  const size = 1500 - (family === 4 ? 28 : 48);
  await lab.exec('client', ['ping', `-${family}`, '-M', 'do', '-c', '1', '-W', '1', '-s', String(size), server]);
  const r = await lab.exec('client', ['ip', `-${family}`, 'route', 'get', server]);
  const m = /\bmtu (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

const DROP_PTB = `table inet fw {
  chain input {
    type filter hook input priority filter; policy accept;
    icmp type destination-unreachable icmp code frag-needed drop
    icmpv6 type packet-too-big drop
  }
}
`;

labTest('an nftables input chain that drops frag-needed / packet-too-big: reported with the rule; the rule applied lets real PTBs in', path, async (lab) => {
  const nft = await lab.exec('client', ['nft', '-f', '-'], { input: DROP_PTB });
  assert.equal(nft.code, 0, nft.stderr);

  // The wall is real: r1's PTBs die at the client's input hook, nothing is learned.
  assert.equal(await learnedMtu(lab, 4), null);
  assert.equal(await learnedMtu(lab, 6), null);

  const want4 = 'nft insert rule inet fw input icmp type destination-unreachable icmp code frag-needed accept';
  const want6 = 'nft insert rule inet fw input icmpv6 type packet-too-big accept';
  for (const r of [await doctorIn(lab), await doctorJson(lab)]) {
    const fw = check(r, 'firewall');
    assert.equal(fw.status, 'problem', JSON.stringify(fw));
    assert.deepEqual(fw.fixes, [want4, want6]);
    assert.equal(fw.summary, 'IPv4 frag-needed is dropped, IPv6 packet-too-big is dropped on input');
    assert.ok(fw.details.some((d) => /nftables inet fw chain input: handle \d+: icmp type destination-unreachable icmp code frag-needed drop/.test(d)), fw.details.join('\n'));
    assert.equal(r.ok, false);
  }
  const human = await doctorCli(lab, []);
  assert.equal(human.code, 1, human.stderr);
  assert.match(human.stdout, /^✗ local firewall .*: IPv4 frag-needed is dropped, IPv6 packet-too-big is dropped on input$/m);
  assert.match(human.stdout, new RegExp(`^ +fix:\\n +${want4}\\n +${want6}$`, 'm'));

  for (const fix of check(await doctorJson(lab), 'firewall').fixes) await applyFix(lab, fix);
  const after = await doctorJson(lab);
  assert.equal(check(after, 'firewall').status, 'ok', JSON.stringify(check(after, 'firewall')));
  assert.equal(after.problems, 0, JSON.stringify(after.checks.filter((c) => c.status === 'problem')));

  // And on the wire: the same PTBs now get in and the kernel learns the bottleneck.
  assert.equal(await learnedMtu(lab, 4), 1400);
  assert.equal(await learnedMtu(lab, 6), 1400);

  // With the server as [host], the now-lowered cache entry is reported, with its flush.
  for (const [f, server] of [[4, lab.server.v4], [6, lab.server.v6]] as const) {
    const r = await doctorJson(lab, [server]);
    assert.deepEqual(r.host, { target: server, address: server, family: f });
    const cache = check(r, 'pmtu-cache');
    assert.equal(cache.status, 'warn', JSON.stringify(cache));
    assert.equal(cache.data.mtu, 1400);
    assert.match(cache.summary, /cached path MTU 1400 .*below eth0's 1500|cached path MTU 1400 .*below \S+'s 1500/);
    assert.deepEqual(cache.fixes, [f === 4 ? 'ip route flush cache' : `ip -6 route flush cache ${server}`]);
    await applyFix(lab, cache.fixes[0]!);
    assert.equal(check(await doctorJson(lab, [server]), 'pmtu-cache').status, 'ok');
  }
});

labTest('iptables rules that drop PTBs: reported with the iptables -I that lets them in, proven on the wire; a conditional drop is a warning', path, async (lab) => {
  for (const cmd of [
    'iptables -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP',
    'ip6tables -A INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP',
  ]) {
    await applyFix(lab, cmd);
  }
  assert.equal(await learnedMtu(lab, 4), null);
  assert.equal(await learnedMtu(lab, 6), null);
  const r = await doctorJson(lab);
  const fw = check(r, 'firewall');
  assert.equal(fw.status, 'problem', JSON.stringify(fw));
  assert.deepEqual(fw.fixes, [
    'iptables -I INPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT',
    'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT',
  ]);
  // Read once, through iptables-save: the same rules in nft's view of iptables-nft's tables are not counted twice.
  assert.equal((fw.data.ipv4 as unknown[]).length, 1, JSON.stringify(fw.data));
  for (const fix of fw.fixes) await applyFix(lab, fix);
  assert.equal(check(await doctorJson(lab), 'firewall').status, 'ok');
  assert.equal(await learnedMtu(lab, 4), 1400);
  assert.equal(await learnedMtu(lab, 6), 1400);

  // A drop that depends on where the PTB comes from cannot be decided here: a warning naming the condition.
  await applyFix(lab, 'nft flush ruleset');
  const nft = await lab.exec('client', ['nft', '-f', '-'], {
    input: 'table inet fw {\n chain input {\n  type filter hook input priority 0;\n  ip saddr 198.18.0.0/16 icmp type destination-unreachable drop\n }\n}\n',
  });
  assert.equal(nft.code, 0, nft.stderr);
  const maybe = await doctorJson(lab);
  const mfw = check(maybe, 'firewall');
  assert.equal(mfw.status, 'warn', JSON.stringify(mfw));
  assert.equal(mfw.summary, 'IPv4 frag-needed may be dropped on input');
  assert.ok(mfw.details.some((d) => /depends on: handle \d+: ip saddr 198\.18\.0\.0\/16 icmp type destination-unreachable drop/.test(d)), mfw.details.join('\n'));
});

labTest('ip_no_pmtu_disc=1 and tcp_mtu_probing=0 are reported with what they mean; the printed sysctls clear them', path, async (lab) => {
  for (const cmd of ['sysctl -w net.ipv4.ip_no_pmtu_disc=1', 'sysctl -w net.ipv4.tcp_mtu_probing=0']) await applyFix(lab, cmd);

  for (const r of [await doctorIn(lab), await doctorJson(lab)]) {
    const disc = check(r, 'pmtu-disc');
    assert.equal(disc.status, 'problem');
    assert.match(disc.summary, /ip_no_pmtu_disc = 1/);
    assert.ok(disc.details.some((d) => /mode 1: .*min_pmtu/.test(d)), disc.details.join('\n'));
    assert.ok(disc.details.some((d) => /without DF/.test(d)));
    assert.deepEqual(disc.fixes, ['sysctl -w net.ipv4.ip_no_pmtu_disc=0']);

    const tcp = check(r, 'tcp-mtu-probing');
    assert.equal(tcp.status, 'warn');
    assert.match(tcp.summary, /off \(tcp_mtu_probing = 0\): on a black-holed path TCP connections hang/);
    assert.ok(tcp.details.some((d) => /1 = probe smaller segments once a black hole is detected.*2 = always probe/.test(d)), tcp.details.join('\n'));
    assert.deepEqual(tcp.fixes, ['sysctl -w net.ipv4.tcp_mtu_probing=1']);
    assert.equal(r.ok, false);
  }
  const human = await doctorCli(lab, []);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /^✗ path MTU discovery on .*ip_no_pmtu_disc = 1\)$/m);
  assert.match(human.stdout, /^! TCP MTU probing .*: off \(tcp_mtu_probing = 0\): on a black-holed path TCP connections hang$/m);

  const before = await doctorJson(lab);
  for (const id of ['pmtu-disc', 'tcp-mtu-probing'] as const) for (const fix of check(before, id).fixes) await applyFix(lab, fix);
  const after = await doctorJson(lab);
  assert.equal(check(after, 'pmtu-disc').status, 'ok');
  assert.equal(check(after, 'tcp-mtu-probing').status, 'ok');
  assert.match(check(after, 'tcp-mtu-probing').summary, /^1: TCP probes smaller segments once it detects a black hole/);

  // Every mode is named for what it does.
  for (const [mode, says] of [['2', /thrown away/], ['3', /only for TCP and SCTP/]] as const) {
    await applyFix(lab, `sysctl -w net.ipv4.ip_no_pmtu_disc=${mode}`);
    assert.ok(check(await doctorJson(lab), 'pmtu-disc').details.some((d) => says.test(d)), `mode ${mode}`);
  }
  await applyFix(lab, 'sysctl -w net.ipv4.ip_no_pmtu_disc=0');
});

labTest('a route whose mtu is above its interface MTU is reported, with the route change that fixes it', path, async (lab) => {
  const r1v4 = lab.address('r1', 4);
  const r1v6 = lab.address('r1', 6);
  for (const cmd of [`ip route add 198.18.200.0/24 via ${r1v4} mtu 9000`, `ip -6 route add 2001:db8:200::/64 via ${r1v6} mtu 9000`, `ip route add 198.18.201.0/24 via ${r1v4} mtu 1300`]) {
    await applyFix(lab, cmd);
  }
  for (const r of [await doctorIn(lab, '198.18.200.7'), await doctorJson(lab, ['198.18.200.7'])]) {
    const c = check(r, 'route-mtu');
    assert.equal(c.status, 'problem', JSON.stringify(c));
    assert.match(c.summary, /^2 routes with an mtu above the interface's MTU \(the route to 198\.18\.200\.7 is one\)$/);
    assert.equal(c.fixes.length, 2, c.fixes.join('\n'));
    assert.match(c.fixes[0]!, new RegExp(`^ip route change 198\\.18\\.200\\.0/24 via ${r1v4.replaceAll('.', '\\.')} dev \\S+ mtu 1500$`));
    assert.match(c.fixes[1]!, new RegExp(`^ip -6 route change 2001:db8:200::/64 via ${r1v6} dev \\S+ metric 1024 mtu 1500$`));
    assert.ok(c.details.some((d) => /route 198\.18\.200\.0\/24 via .* has mtu 9000, above \S+'s MTU 1500/.test(d)), c.details.join('\n'));
  }
  // A route mtu below the interface's (the 1300 one) is legitimate: the fixes leave it alone and doctor is clean.
  for (const fix of check(await doctorJson(lab), 'route-mtu').fixes) await applyFix(lab, fix);
  const after = check(await doctorJson(lab, ['198.18.200.7']), 'route-mtu');
  assert.equal(after.status, 'ok', JSON.stringify(after));
  assert.match(after.summary, /^3 routes with an mtu, none above its interface's; route to 198\.18\.200\.7: dev \S+, MTU 1500, route mtu 1500$/);
});

labTest('nobody outside ping_group_range gets the sysctl; with it applied, icmp-dgram is theirs', { ...path, clientPingGroup: false }, async (lab) => {
  const stage = stagedRoot(); // removed when this test process exits
  const r = await doctorJson(lab, [], { uid: NOBODY, root: stage });
  assert.equal(r.user.uid, NOBODY);
  assert.deepEqual(r.methods, { 4: ['udp'], 6: ['udp'] });
  const pg = check(r, 'ping-group');
  assert.equal(pg.status, 'problem', JSON.stringify(pg));
  assert.match(pg.summary, /^the range "1 0" excludes all of your groups \(65534\): no ICMP method is left \(only udp\)$/);
  assert.deepEqual(pg.fixes, ['sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"']);
  const raw = check(r, 'raw-sockets');
  assert.equal(raw.status, 'warn');
  assert.match(raw.fixes[0]!, /^sudo setcap cap_net_raw\+ep \/\S+node\S*$/);
  // nobody cannot read the ruleset, and is told so rather than told it is clean.
  const fw = check(r, 'firewall');
  assert.equal(fw.status, 'warn', JSON.stringify(fw));
  assert.ok(fw.details.some((d) => /needs root/.test(d)), fw.details.join('\n'));

  const human = await doctorCli(lab, [], { uid: NOBODY, root: stage });
  assert.equal(human.code, 1, human.stderr);
  assert.match(human.stdout, /^✗ ping sockets \(net\.ipv4\.ping_group_range\): the range "1 0" excludes/m);
  assert.match(human.stdout, /^ +sudo sysctl -w net\.ipv4\.ping_group_range="0 2147483647"$/m);
  assert.match(human.stdout, /^! raw sockets \(CAP_NET_RAW\)/m);

  await applyFix(lab, pg.fixes[0]!);
  const after = await doctorJson(lab, [], { uid: NOBODY, root: stage });
  assert.equal(check(after, 'ping-group').status, 'ok', JSON.stringify(check(after, 'ping-group')));
  assert.deepEqual(after.methods, { 4: ['icmp-dgram', 'udp'], 6: ['icmp-dgram', 'udp'] });
  assert.equal(after.problems, 0, JSON.stringify(after.checks.filter((c) => c.status === 'problem')));
});

labTest('IPv6 disabled: a warning without a host, a problem for an IPv6 host; the sysctls bring it back', { routers: [] }, async (lab) => {
  await applyFix(lab, 'sysctl -w net.ipv6.conf.all.disable_ipv6=1');
  const plain = check(await doctorJson(lab), 'ipv6');
  assert.equal(plain.status, 'warn');
  assert.match(plain.summary, /net\.ipv6\.conf\.all\.disable_ipv6 = 1/);
  const r = await doctorJson(lab, ['2001:db8::7']);
  assert.equal(check(r, 'ipv6').status, 'problem');
  assert.equal(r.ok, false);
  for (const fix of check(r, 'ipv6').fixes) await applyFix(lab, fix);
  const after = check(await doctorJson(lab), 'ipv6');
  assert.equal(after.status, 'ok', JSON.stringify(after));
});
