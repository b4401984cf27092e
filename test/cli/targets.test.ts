// The many-target input (src/cli/targets.ts), pure: lists with comments and bad lines, prefixes of
// both families and their caps, --both and -4/-6. The CLI around it: test/cli/many.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_MAX_TARGETS, expandTargets, parsePrefix, parseTargetList, prefixHosts, prefixText, type TargetText } from '../../src/cli/targets.js';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);
const args = (...texts: string[]): TargetText[] => texts.map((text) => ({ text }));
const hosts = (text: string): string[] => [...prefixHosts(parsePrefix(text))];

test('a list: one target per line, # comments anywhere, blank lines and CRLF, each entry knows its file:line', () => {
  const text = '# my hosts\r\n198.18.0.1\r\n\n   \n  router.lab   # the core router\n2001:db8::1#no space before the comment\n198.18.5.0/30\n';
  assert.deepEqual(parseTargetList(text, 'hosts.txt'), [
    { text: '198.18.0.1', where: 'hosts.txt:2' },
    { text: 'router.lab', where: 'hosts.txt:5' },
    { text: '2001:db8::1', where: 'hosts.txt:6' },
    { text: '198.18.5.0/30', where: 'hosts.txt:7' },
  ]);
  assert.deepEqual(parseTargetList('', 'empty'), []);
  assert.deepEqual(parseTargetList('# only comments\n\n', 'c'), []);
  assert.deepEqual(parseTargetList('198.18.0.1', 'no-newline'), [{ text: '198.18.0.1', where: 'no-newline:1' }]);
});

test('a list: a line with two targets, or a control character, is refused naming file:line', () => {
  assert.throws(() => parseTargetList('198.18.0.1\n198.18.0.2 198.18.0.3\n', 'l.txt'), usage(/^l\.txt:2: one target per line, found 2: '198\.18\.0\.2 198\.18\.0\.3'$/));
  assert.throws(() => parseTargetList('ok.lab\n\nbad\x07.lab\n', 'l.txt'), usage(/^l\.txt:3: .*control character/));
});

test('expandTargets: bad entries are usage errors naming their place (file:line, or the argument itself)', () => {
  const cases: Array<[TargetText, RegExp]> = [
    [{ text: '198.18.0.1:80', where: 'f:1' }, /^f:1: '198\.18\.0\.1:80' has a port, .*--method tcp -p 80 198\.18\.0\.1/],
    [{ text: '[2001:db8::1]:443', where: 'f:2' }, /^f:2: .* has a port/],
    [{ text: 'under_score-ok.lab..', where: 'f:3' }, /^f:3: 'under_score-ok\.lab\.\.' is not a host name, an IP address or a prefix/],
    [{ text: '-bad.lab' }, /^'-bad\.lab' is not a host name/],
    [{ text: `${'a'.repeat(64)}.lab` }, /is not a host name/],
    [{ text: '198.18.0.0/33', where: 'f:4' }, /^f:4: '198\.18\.0\.0\/33': the prefix length of an IPv4 prefix is a number from 0 to 32/],
    [{ text: '2001:db8::/129' }, /IPv6 prefix is a number from 0 to 128/],
    [{ text: '198.18.0.0/' }, /prefix length/],
    [{ text: '198.18.0.0/-1' }, /prefix length/],
    [{ text: 'router.lab/24', where: 'f:5' }, /^f:5: 'router\.lab\/24' is not a prefix: 'router\.lab' is not an IPv4 or IPv6 address/],
    [{ text: '198.018.0.0/24' }, /is not a prefix/],
    [{ text: 'fe80::1%eth0/64' }, /is not a prefix/],
    [{ text: 'fe80::/64%eth0' }, /prefix length/],
  ];
  for (const [entry, re] of cases) assert.throws(() => expandTargets([entry]), usage(re), entry.text);
  // A good name, with a trailing dot, and underscores (seen in the wild) are fine.
  assert.equal(expandTargets(args('router.lab.', 'a_b.lab', 'x')).length, 3);
});

test('IPv4 prefixes: network and broadcast left out below /31; /31 and /32 are every address; host bits ignored', () => {
  assert.deepEqual(hosts('198.18.5.0/30'), ['198.18.5.1', '198.18.5.2']);
  assert.deepEqual(hosts('198.18.5.0/31'), ['198.18.5.0', '198.18.5.1']);
  assert.deepEqual(hosts('198.18.5.7/32'), ['198.18.5.7']);
  assert.deepEqual(hosts('198.18.5.9/29'), ['198.18.5.9', '198.18.5.10', '198.18.5.11', '198.18.5.12', '198.18.5.13', '198.18.5.14'], 'host bits cleared: 198.18.5.8/29');
  assert.equal(prefixText(parsePrefix('198.18.5.9/29')), '198.18.5.8/29');
  const h = hosts('198.18.4.0/23');
  assert.equal(h.length, 510);
  assert.equal(h[0], '198.18.4.1');
  assert.equal(h[254], '198.18.4.255', 'the middle of a /23 crosses a byte boundary as an ordinary host');
  assert.equal(h[255], '198.18.5.0');
  assert.equal(h[509], '198.18.5.254');
  assert.equal(parsePrefix('0.0.0.0/0').count, 2n ** 32n - 2n);
});

test('IPv6 prefixes: the subnet-router anycast address left out below /127; /127 and /128 are every address; canonical text', () => {
  assert.deepEqual(hosts('2001:db8:5::/126'), ['2001:db8:5::1', '2001:db8:5::2', '2001:db8:5::3']);
  assert.deepEqual(hosts('2001:db8:5::/127'), ['2001:db8:5::', '2001:db8:5::1']);
  assert.deepEqual(hosts('2001:DB8:5:0:0:0:0:9/128'), ['2001:db8:5::9']);
  assert.deepEqual(hosts('[2001:db8::]/125').slice(-1), ['2001:db8::7']);
  const h = hosts('2001:db8:5::ff00/119');
  assert.equal(h.length, 511);
  assert.equal(h[0], '2001:db8:5::fe01');
  assert.equal(h[510], '2001:db8:5::ffff');
  assert.equal(parsePrefix('2001:db8::/32').count, 2n ** 96n - 1n);
});

test('the cap: a prefix past --max-targets is refused before any address is made; the count includes what came before', () => {
  assert.equal(DEFAULT_MAX_TARGETS, 4096);
  assert.throws(() => expandTargets(args('198.18.0.0/19')), usage(/^198\.18\.0\.0\/19 holds 8190 hosts: more than the 4096 targets --max-targets allows/));
  assert.equal(expandTargets(args('198.18.0.0/20')).length, 4094, 'a /20 fits the default cap');
  // IPv6: 2^64 hosts are never enumerated: the count is checked first.
  const t0 = performance.now();
  assert.throws(() => expandTargets(args('2001:db8::/64')), usage(/2001:db8::\/64 holds 18446744073709551615 hosts: more than the 4096/));
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(expandTargets(args('2001:db8::/116')).length, 4095);
  assert.throws(() => expandTargets(args('198.18.0.1', '198.18.0.2', '2001:db8::/116')), usage(/^2001:db8::\/116 holds 4095 hosts after 2 other targets: more than the 4096/));
  assert.throws(() => expandTargets(args('198.18.5.0/29', 'a.lab'), { maxTargets: 6 }), usage(/^'a\.lab' is one target more than the 6 targets --max-targets allows/));
  assert.equal(expandTargets(args('198.18.5.0/29'), { maxTargets: 6 }).length, 6, 'exactly the cap is fine');
  assert.throws(() => expandTargets([{ text: '198.18.5.0/28', where: 'big.txt:9' }], { maxTargets: 10 }), usage(/^big\.txt:9: 198\.18\.5\.0\/28 holds 14 hosts/));
});

test('families: -4/-6 refuse an address or prefix of the other family; --both makes a name two targets, an address one', () => {
  assert.throws(() => expandTargets([{ text: '2001:db8::1', where: 'f:2' }], { family: 4 }), usage(/^f:2: 2001:db8::1 is an IPv6 address, but -4 was asked for/));
  assert.throws(() => expandTargets(args('198.18.0.0/30'), { family: 6 }), usage(/IPv4 prefix, but -6 was asked for/));
  assert.deepEqual(expandTargets(args('a.lab', '198.18.0.1'), { family: 4 }), [
    { target: 'a.lab', family: 4, literal: false },
    { target: '198.18.0.1', family: 4, literal: true },
  ]);
  assert.deepEqual(expandTargets([{ text: 'dual.lab', where: 'l:1' }, { text: '2001:db8::1' }, { text: '198.18.0.0/31' }], { both: true }), [
    { target: 'dual.lab', family: 4, where: 'l:1', literal: false },
    { target: 'dual.lab', family: 6, where: 'l:1', literal: false },
    { target: '2001:db8::1', family: 6, literal: true },
    { target: '198.18.0.0', family: 4, literal: false },
    { target: '198.18.0.1', family: 4, literal: false },
  ]);
  // Without -4/-6/--both a name keeps no family: it is probed over what it resolves to first.
  assert.deepEqual(expandTargets(args('a.lab')), [{ target: 'a.lab', literal: false }]);
  // --both counts both rows against the cap.
  assert.throws(() => expandTargets(args('a.lab', 'b.lab'), { both: true, maxTargets: 3 }), usage(/'b\.lab' is one target more than the 3/));
});
