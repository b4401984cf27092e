// The firewall analysis on real rulesets: each case loads rules into a lab namespace with nft (or
// iptables), reads them back exactly as doctor does (`nft -j list ruleset`, iptables-save,
// ip6tables-save), and asserts what happens to a frag-needed and a packet-too-big on input. Every
// case that drops gets the suggested rule applied in the namespace and must then pass: the fix is
// proven on the kernel's own ruleset, not on our idea of it.
import assert from 'node:assert/strict';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import { analyseRulesets, fixFor, type RulesetSources } from '../../src/doctor/firewall.js';
import type { ChainFate } from '../../src/doctor/firewall-model.js';

type Fate = ChainFate['fate'];

interface Case {
  name: string;
  /** An nft script (loaded with nft -f -) ... */
  nft?: string;
  /** ... and/or iptables / ip6tables commands, one argv per line. */
  ipt?: string[][];
  /** Expected fate of each input chain for IPv4 frag-needed / IPv6 packet-too-big, in priority order. */
  v4: Fate[];
  v6: Fate[];
  /** Expected rule text fragment of the first non-accept v4/v6 fate (undefined: the policy, or accept). */
  rule4?: RegExp | null;
  rule6?: RegExp | null;
}

const inet = (body: string, policy = 'accept', hook = 'input'): string =>
  `table inet fw {\n chain ${hook} {\n  type filter hook ${hook} priority filter; policy ${policy};\n${body}\n }\n}\n`;

const cases: Case[] = [
  { name: 'drop frag-needed', nft: inet('icmp type destination-unreachable icmp code frag-needed drop'), v4: ['drop'], v6: ['accept'], rule4: /frag-needed drop/ },
  { name: 'reject packet-too-big', nft: inet('icmpv6 type packet-too-big reject'), v4: ['accept'], v6: ['drop'], rule6: /packet-too-big reject/ },
  { name: 'drop all ICMP by l4proto', nft: inet('meta l4proto { icmp, ipv6-icmp } counter drop'), v4: ['drop'], v6: ['drop'] },
  { name: 'drop destination-unreachable (every code)', nft: inet('icmp type destination-unreachable drop'), v4: ['drop'], v6: ['accept'] },
  { name: 'a different code is not frag-needed', nft: inet('icmp type destination-unreachable icmp code port-unreachable drop'), v4: ['accept'], v6: ['accept'] },
  { name: 'policy drop, nothing accepted', nft: inet('tcp dport 22 accept', 'drop'), v4: ['drop'], v6: ['drop'], rule4: null, rule6: null },
  { name: 'policy drop, but related is accepted (a PTB is related to our flow)', nft: inet('ct state established,related accept', 'drop'), v4: ['accept'], v6: ['accept'] },
  {
    name: 'policy drop, a conntrack verdict map (invalid dropped, related accepted)',
    nft: inet('ct state vmap { invalid : drop, established : accept, related : accept }', 'drop'),
    v4: ['accept'],
    v6: ['accept'],
  },
  { name: 'policy drop, established only', nft: inet('ct state established accept', 'drop'), v4: ['drop'], v6: ['drop'] },
  { name: 'policy drop, loopback accepted: a PTB never comes in on lo', nft: inet('iifname "lo" accept', 'drop'), v4: ['drop'], v6: ['drop'] },
  {
    name: 'policy drop, ICMP types accepted for v4 only',
    nft: inet('icmp type { destination-unreachable, echo-request, time-exceeded } accept', 'drop'),
    v4: ['accept'],
    v6: ['drop'],
  },
  {
    name: 'accept frag-needed before dropping all ICMP',
    nft: inet('icmp type destination-unreachable icmp code frag-needed accept\n  icmpv6 type packet-too-big accept\n  ip protocol icmp drop\n  meta l4proto ipv6-icmp drop'),
    v4: ['accept'],
    v6: ['accept'],
  },
  {
    name: 'drop in a chain reached by jump',
    nft: 'table inet fw {\n chain icmpfilter {\n  icmpv6 type packet-too-big drop\n }\n chain input {\n  type filter hook input priority 0; policy accept;\n  meta l4proto ipv6-icmp jump icmpfilter\n }\n}\n',
    v4: ['accept'],
    v6: ['drop'],
    rule6: /packet-too-big drop/,
  },
  {
    name: 'a named set of ICMP types',
    nft: 'table inet fw {\n set bad { type icmp_type; elements = { destination-unreachable, redirect } }\n chain input {\n  type filter hook input priority 0;\n  icmp type @bad drop\n }\n}\n',
    v4: ['drop'],
    v6: ['accept'],
  },
  {
    name: 'a verdict map',
    nft: inet('icmp type vmap { echo-request : accept, destination-unreachable : drop }'),
    v4: ['drop'],
    v6: ['accept'],
  },
  { name: 'a drop that depends on the source address is a maybe', nft: inet('ip saddr 198.18.0.0/24 icmp type destination-unreachable drop'), v4: ['maybe-drop'], v6: ['accept'] },
  { name: 'an ip table does not see IPv6', nft: 'table ip fw4 {\n chain in {\n  type filter hook input priority 0; policy drop;\n }\n}\n', v4: ['drop'], v6: [] },
  {
    name: 'a prerouting filter chain runs before input',
    nft: inet('icmpv6 type packet-too-big accept') + 'table inet early {\n chain pre {\n  type filter hook prerouting priority raw; policy accept;\n  meta l4proto ipv6-icmp drop\n }\n}\n',
    v4: ['accept', 'accept'],
    v6: ['drop', 'accept'],
    rule6: /meta l4proto ipv6-icmp drop/,
  },
  {
    name: 'a nat chain never sees a related ICMP error',
    nft: 'table ip n {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  ip protocol icmp counter\n }\n}\n',
    v4: [],
    v6: [],
  },
  { name: 'an output chain is not input', nft: inet('meta l4proto icmp drop', 'accept', 'output'), v4: [], v6: [] },
  {
    name: 'two tables: the second one drops',
    nft: inet('icmp type destination-unreachable accept') + 'table ip late {\n chain in {\n  type filter hook input priority 10; policy accept;\n  ip protocol icmp drop\n }\n}\n',
    v4: ['accept', 'drop'],
    v6: ['accept'],
  },
  {
    name: 'iptables (nf_tables backend): read through iptables-save, not twice',
    ipt: [
      ['iptables', '-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP'],
      ['ip6tables', '-A', 'INPUT', '-p', 'ipv6-icmp', '--icmpv6-type', 'packet-too-big', '-m', 'comment', '--comment', 'no "PTB" here', '-j', 'REJECT'],
    ],
    v4: ['drop'],
    v6: ['drop'],
    rule4: /--icmp-type 3\/4 -j DROP/,
    rule6: /-j REJECT/,
  },
  {
    name: 'iptables: policy drop with RELATED accepted',
    ipt: [
      ['iptables', '-P', 'INPUT', 'DROP'],
      ['iptables', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
      ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['ip6tables', '-P', 'INPUT', 'DROP'],
      ['ip6tables', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
    ],
    v4: ['accept'],
    v6: ['drop'],
    rule6: null,
  },
  {
    name: 'iptables: drop in a user chain; accept other ICMP first',
    ipt: [
      ['iptables', '-N', 'ICMPIN'],
      ['iptables', '-A', 'ICMPIN', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'ACCEPT'],
      ['iptables', '-A', 'ICMPIN', '-p', 'icmp', '-j', 'DROP'],
      ['iptables', '-A', 'INPUT', '-p', 'icmp', '-j', 'ICMPIN'],
    ],
    v4: ['drop'],
    v6: [],
    rule4: /-A ICMPIN -p icmp -j DROP/,
  },
  {
    name: 'nftables and iptables together',
    nft: inet('icmpv6 type packet-too-big drop'),
    ipt: [['iptables', '-A', 'INPUT', '-p', 'icmp', '-j', 'REJECT']],
    v4: ['drop', 'accept'],
    v6: ['drop'],
  },
];

async function sh(lab: Lab, argv: string[], input?: string): Promise<string> {
  const r = await lab.exec('client', argv, input !== undefined ? { input } : {});
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Read the namespace's rulesets exactly as doctor's readRulesets does (same tools, same arguments). */
async function read(lab: Lab): Promise<RulesetSources> {
  return {
    nft: await sh(lab, ['nft', '-j', 'list', 'ruleset']),
    iptables: await sh(lab, ['iptables-save']),
    ip6tables: await sh(lab, ['ip6tables-save']),
    unread: [],
  };
}

async function reset(lab: Lab): Promise<void> {
  await sh(lab, ['nft', 'flush', 'ruleset']);
}

const fates = (list: ChainFate[]): Fate[] => list.map((f) => f.fate);
const firstBad = (list: ChainFate[]): ChainFate | undefined => list.find((f) => f.fate !== 'accept');

labTest('firewall analysis of real nft -j / iptables-save output, and each suggested fix applied', { routers: [] }, async (lab) => {
  for (const c of cases) {
    await reset(lab);
    if (c.nft) await sh(lab, ['nft', '-f', '-'], c.nft);
    for (const argv of c.ipt ?? []) await sh(lab, argv);
    const a = analyseRulesets(await read(lab));
    assert.deepEqual(fates(a.v4), c.v4, `${c.name}: IPv4 ${JSON.stringify(a.v4)}`);
    assert.deepEqual(fates(a.v6), c.v6, `${c.name}: IPv6 ${JSON.stringify(a.v6)}`);
    for (const [list, want] of [[a.v4, c.rule4], [a.v6, c.rule6]] as const) {
      if (want === undefined) continue;
      const bad = firstBad(list);
      assert.ok(bad, c.name);
      if (want === null) assert.equal(bad.rule, undefined, `${c.name}: the policy drops, not a rule: ${JSON.stringify(bad)}`);
      else assert.match(bad.rule?.text ?? '', want, `${c.name}: ${JSON.stringify(bad)}`);
    }
    // Apply every suggested fix for a certain drop; the ruleset must then let both PTBs in.
    const toFix = [...a.v4.map((f) => [f, 4] as const), ...a.v6.map((f) => [f, 6] as const)].filter(([f]) => f.fate === 'drop');
    if (toFix.length === 0) continue;
    for (const [f, fam] of toFix) await sh(lab, ['sh', '-c', fixFor(f, fam)]);
    const after = analyseRulesets(await read(lab));
    assert.ok(after.v4.every((f) => f.fate !== 'drop'), `${c.name}: after the fix, IPv4 ${JSON.stringify(after.v4)}`);
    assert.ok(after.v6.every((f) => f.fate !== 'drop'), `${c.name}: after the fix, IPv6 ${JSON.stringify(after.v6)}`);
  }
  await reset(lab);
});

labTest('an unreadable ruleset is said so, not taken for an empty one', { routers: [] }, async (lab) => {
  await sh(lab, ['nft', '-f', '-'], inet('meta l4proto icmp drop'));
  const src = await read(lab);
  const a = analyseRulesets({ ...src, nft: '{"nftables": 3}' });
  assert.ok(a.unread.some((u) => /nft: its JSON could not be read/.test(u)), JSON.stringify(a.unread));
  assert.ok(!a.read.includes('nftables'));
  await reset(lab);
});
