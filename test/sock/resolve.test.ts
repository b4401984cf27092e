// resolveTarget's refusals as a library caller meets them (no lookup, nothing sent: every case is
// refused before either), and the helpers behind them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagNamer } from '../../src/cli/flags.js';
import { PathMtuError, UsageError } from '../../src/errors.js';
import { inetAton, noPathMtuReason, portOf, resolveTarget } from '../../src/sock/resolve.js';

test('inetAton reads numbers as glibc does (octal, hex, short forms), or refuses them', () => {
  const table: Array<[string, string | null]> = [
    ['010.0.0.1', '8.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['10.0.0.1', '10.0.0.1'],
    ['1.2.3.4.5', null],
    ['1.2.3.256', null],
    ['256.1', null],
    ['1.16777216', null],
    ['4294967296', null],
    ['08.1.1.1', null], // 8 is no octal digit
    ['example.net', null],
  ];
  for (const [text, want] of table) assert.equal(inetAton(text), want, text);
});

test('portOf finds a port glued to a host, and none in a bare IPv6 address', () => {
  assert.deepEqual(portOf('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(portOf('[::1]:443'), { host: '::1', port: 443 });
  assert.deepEqual(portOf('example.net:22'), { host: 'example.net', port: 22 });
  assert.equal(portOf('::1'), undefined);
  assert.equal(portOf('2001:db8::80'), undefined);
  assert.equal(portOf('[::1]'), undefined);
});

test('noPathMtuReason names what cannot be the far end of a path', () => {
  for (const a of ['0.0.0.0', '0.1.2.3', '224.0.0.1', '239.1.1.1', '255.255.255.255', '127.255.255.255', '::', '0::0', 'ff02::1', 'ff0e::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
    assert.notEqual(noPathMtuReason(a), null, a);
  }
  assert.equal(noPathMtuReason('::ffff:7f00:1')?.instead, '127.0.0.1');
  for (const a of ['127.0.0.1', '198.18.0.1', '223.255.255.255', '240.0.0.1', '::1', '2001:db8::1', 'fe80::1', '::ffff:0:0:1']) {
    assert.equal(noPathMtuReason(a), null, a);
  }
});

test('resolveTarget refuses before any lookup, in the library\'s terms; the CLI names its flags', async () => {
  const refused: Array<[string, number | undefined, RegExp]> = [
    ['010.0.0.1', undefined, /would read it as 8\.0\.0\.1/],
    ['127.0.0.1:80', undefined, /has a port \(80\): give the host alone, 127\.0\.0\.1/],
    ['[::1]:80', undefined, /has a port \(80\)/],
    ['1.2.3.4.5', undefined, /is not an IPv4 address/],
    ['08.1.1.1', undefined, /'08\.1\.1\.1' is not an IPv4 address \(08 would be octal, which has no 8 or 9\)/],
    ['::', undefined, /unspecified address/],
    ['::ffff:127.0.0.1', undefined, /IPv4-mapped/],
    ['::1', 4, /^::1 is an IPv6 address, but family 4 was asked for$/],
    ['127.0.0.1', 6, /^127\.0\.0\.1 is an IPv4 address, but family 6 was asked for$/],
  ];
  for (const [target, family, re] of refused) {
    await assert.rejects(resolveTarget(target, family as 4 | 6 | undefined), (e: Error) => e instanceof UsageError && re.test(e.message) && !/(^|\s)-[46-]/.test(e.message), target);
  }
  const err = await resolveTarget('::1', 4).catch((e: unknown) => e);
  assert.ok(err instanceof PathMtuError);
  assert.equal(err.describe(flagNamer()), '::1 is an IPv6 address, but -4 was asked for');
  assert.equal(err.describe(flagNamer({ family: '--family' })), '::1 is an IPv6 address, but --family 4 was asked for');
});
