// Pure parts of the probe layer: how ICMP errors become outcomes, and the factory's argument checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermissionError, SystemCallError, UsageError } from '../../src/errors.js';
import { labSkipReason } from '../../src/lab/testing.js';
import { availableMethods, classifyIcmpError, createProber, METHODS } from '../../src/probe/index.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';

const base = { size: 1400, ttl: undefined };
const at = (family: Family, type: number, code: number, mtu = 0) => classifyIcmpError({ family, type, code, mtu, from: '198.18.0.2' }, base, 1.5);

test('frag-needed / packet-too-big become tooBig, judged against the probe size', () => {
  const v4 = at(4, 3, 4, 1300);
  assert.equal(v4?.kind, 'tooBig');
  assert.ok(v4?.kind === 'tooBig' && v4.plausible && v4.nextHopMtu === 1300 && v4.from === '198.18.0.2' && v4.rttMs === 1.5);
  const v6 = at(6, 2, 0, 1280);
  assert.ok(v6?.kind === 'tooBig' && v6.plausible && v6.nextHopMtu === 1280);
  // Bogus values are reported, marked implausible with a reason.
  for (const [f, type, code, mtu] of [[4, 3, 4, 0], [4, 3, 4, 60], [4, 3, 4, 1400], [6, 2, 0, 1279], [6, 2, 0, 1500]] as const) {
    const o = at(f, type, code, mtu);
    assert.ok(o?.kind === 'tooBig' && !o.plausible && typeof o.reason === 'string', `IPv${f} mtu ${mtu}: ${JSON.stringify(o)}`);
  }
});

test('time exceeded, unreachable and parameter problems; other types are no outcome', () => {
  assert.equal(at(4, 11, 0)?.kind, 'timeExceeded');
  assert.equal(at(6, 3, 0)?.kind, 'timeExceeded');
  const port = at(4, 3, 3);
  assert.ok(port?.kind === 'unreachable' && port.icmpType === 3 && port.code === 3 && port.reason === 'port unreachable');
  const admin = at(6, 1, 1);
  assert.ok(admin?.kind === 'unreachable' && /administratively prohibited/.test(admin.reason));
  assert.equal(at(4, 12, 0)?.kind, 'unreachable');
  assert.equal(at(6, 4, 0)?.kind, 'unreachable');
  assert.equal(at(4, 4, 0), null); // source quench
  assert.equal(at(4, 5, 1), null); // redirect
  assert.equal(at(6, 2 + 126, 0), null); // echo request
});

test('createProber rejects unknown methods and families', () => {
  assert.throws(() => createProber('ping' as MethodName, 4), UsageError);
  assert.throws(() => createProber('icmp', 5 as Family), UsageError);
  // In the library's own terms: its option is `method`, not the CLI's --method.
  assert.throws(() => createProber('ping' as MethodName, 4), (e: Error) => /^unknown method ping \(methods: icmp, icmp-dgram, udp, tcp\)$/.test(e.message));
});

const skip = labSkipReason();
test('probers check sizes and address families before sending anything', { skip }, () => {
  for (const f of [4, 6] as const) {
    // Root may still lack icmp-dgram (ping_group_range of this namespace); udp is not ours to test.
    for (const method of availableMethods(f).filter((m) => m !== 'udp')) {
      const p = createProber(method, f);
      try {
        const other = f === 4 ? '::1' : '127.0.0.1';
        const here = f === 4 ? '127.0.0.1' : '::1';
        assert.throws(() => p.send(here, p.minSize - 1), UsageError, `${method} IPv${f} below minSize`);
        // The largest packet without a jumbogram: 65535 (IPv4), 40 + 65535 (IPv6).
        const largest = f === 4 ? 65535 : 65575;
        assert.throws(() => p.send(here, largest + 1), UsageError, `${method} IPv${f} above ${largest}`);
        assert.throws(() => p.send(here, 1000.5), UsageError);
        assert.throws(() => p.send(other, 1000), UsageError, `${method} IPv${f} wrong family`);
        assert.ok(p.minSize >= (f === 4 ? 36 : 56), `${method} IPv${f} minSize ${p.minSize} holds headers and nonce`);
      } finally {
        p.close();
      }
    }
  }
});

test('availableMethods lists what can be opened; createProber agrees', () => {
  for (const f of [4, 6] as const) {
    const avail = availableMethods(f);
    assert.ok(avail.every((m) => METHODS.includes(m)));
    for (const m of METHODS) {
      if (avail.includes(m)) {
        createProber(m, f).close();
      } else {
        assert.throws(() => createProber(m, f), (e: unknown) => e instanceof PermissionError || e instanceof SystemCallError);
      }
    }
  }
});
