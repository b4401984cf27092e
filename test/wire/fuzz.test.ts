// Hostile bytes and hostile offsets: every decoder in src/wire either decodes or throws
// DecodeError — never a RangeError, a TypeError or a hang. Random buffers, valid encodings of every
// kind damaged (bytes overwritten, bits flipped, length fields made huge or zero, truncated), and
// offsets that are no offset (-1, 1.5, NaN, past the end). Each property runs for a fixed time
// budget, so npm test stays quick; `npm run bench -- --only fuzz` runs the same for longer and
// reports executions per second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.js';
import * as ethernet from '../../src/wire/ethernet.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as nl from '../../src/wire/netlink.js';
import { decodeInet } from '../../src/sock/sockaddr.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import { HOSTILE_OFFSETS, input, misbehaviour, targets } from './fuzz-targets.js';

/** Milliseconds each property may run in npm test. */
const BUDGET_MS = 1500;

for (const [title, arb] of [['random and damaged encodings, hostile offsets', input]] as const) {
  test(`fuzz (${title}): every decoder decodes or throws DecodeError`, () => {
    let runs = 0;
    fc.assert(
      fc.property(arb, (x) => {
        runs++;
        for (const name of Object.keys(targets)) {
          const bad = misbehaviour(name, x);
          if (bad !== null) assert.fail(bad);
        }
      }),
      { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
    );
    assert.ok(runs > 100, `the fuzzer ran (${runs} inputs in ${BUDGET_MS} ms)`);
  });
}

test('decoding at an offset that is no offset (past the end, -1, 1.5, NaN, Infinity) is a DecodeError', () => {
  const withOffset: Array<[string, (b: Buffer, o: number) => unknown]> = [
    ['ipv4.decode', ipv4.decode],
    ['ipv4.payload', ipv4.payload],
    ['ipv6.decode', ipv6.decode],
    ['ipv6.walkExtensions', (b, o) => ipv6.walkExtensions(b, o, 60)],
    ['icmpv4.decode', icmpv4.decode],
    ['icmpv6.decode', icmpv6.decode],
    ['udp.decodeHeader', udp.decodeHeader],
    ['udp.decode', udp.decode],
    ['tcp.decode', tcp.decode],
    ['ethernet.decode', ethernet.decode],
    ['netlink.decode', nl.decode],
    ['netlink.decodeAttrs', nl.decodeAttrs],
    ['netlink.decodeAttrs(end)', (b, o) => nl.decodeAttrs(b, 0, o)],
    ['sockaddr.decodeInet', decodeInet],
  ];
  const b = Buffer.alloc(64, 0x45);
  for (const [name, d] of withOffset) {
    for (const o of [500, ...HOSTILE_OFFSETS]) {
      assert.throws(() => d(b, o), DecodeError, `${name} at offset ${o}`);
    }
  }
});

test('an IPv6 chain of many extension headers stops at the cap instead of running on', () => {
  const ext = Buffer.from([60, 0, 0, 0, 0, 0, 0, 0]); // destination options pointing at another one
  const chain = Buffer.concat(Array.from({ length: 40 }, () => ext));
  assert.throws(() => ipv6.walkExtensions(chain, 0, 60), DecodeError);
});
