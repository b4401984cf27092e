// resolveTarget tells an address literal from a host name with wire/addr's parser (node:net and
// node:dns stay unloaded at start). It must draw the line exactly where node:net's isIP does.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.js';
import { resolveTarget } from '../../src/sock/resolve.js';
import { ipFamily } from '../../src/wire/addr.js';

// Text near the IP grammar: digits, hex, dots, colons, a zone. (A zone node:net refuses, with a
// second '%' or a space, is one resolveTarget refuses anyway: no such interface, or whitespace.)
const ipish = fc.array(fc.constantFrom('0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', '.', ':', '::', '%lo'), { maxLength: 16 }).map((parts) => parts.join(''));
const comparable = (s: string): boolean => !/%.*[%\s]/.test(s);

test('ipFamily says what node:net isIP says: real addresses and near misses', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), ipish, fc.string()), (s) => {
      if (comparable(s)) assert.equal(ipFamily(s), isIP(s), JSON.stringify(s));
    }),
    { numRuns: 5000 },
  );
});

test('an address literal resolves to itself with its family, without a lookup (or is refused as no host)', async () => {
  let resolved = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.ipV4(), fc.ipV6()), async (addr) => {
      let r;
      try {
        r = await resolveTarget(addr);
      } catch (err) {
        // Link-local without a zone, multicast, unspecified, broadcast, IPv4-mapped: tested in resolve.test.ts.
        assert.ok(err instanceof UsageError, String(err));
        return;
      }
      resolved++;
      assert.deepEqual(r, { target: addr, address: addr, family: isIP(addr) });
    }),
    { numRuns: 500 },
  );
  assert.ok(resolved > 300, `${resolved} of 500 resolved`);
  assert.deepEqual(await resolveTarget('fe80::1%lo'), { target: 'fe80::1%lo', address: 'fe80::1%lo', family: 6 });
});
