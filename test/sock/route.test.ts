// The one way every tool learns route facts (connect a UDP socket, read its name and IP_MTU),
// checked on loopback against what the kernel publishes elsewhere (sysfs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { routePathMtu, routeSource } from '../../src/sock/route.js';

// lo's MTU is 65536, but an IPv4 route MTU is capped at IP_MAX_MTU (65535) by the kernel.
const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));

test('IPv4 loopback: source is the loopback address, path MTU is lo\'s MTU', () => {
  assert.equal(routeSource('127.0.0.1', 4), '127.0.0.1');
  assert.equal(routeSource('127.0.0.2', 4, 33434), '127.0.0.1');
  assert.equal(routePathMtu('127.0.0.1', 4), Math.min(loMtu, 65535));
});

test('IPv6 loopback: the same facts', (t) => {
  let src: string;
  try {
    src = routeSource('::1', 6);
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    t.skip(`no IPv6 loopback here: ${(err as Error).message}`);
    return;
  }
  assert.equal(src, '::1');
  assert.equal(routePathMtu('::1', 6), loMtu);
});
