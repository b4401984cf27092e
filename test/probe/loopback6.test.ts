// IPv6 loopback: lo's MTU is 65536, and an IPv6 packet without a jumbogram can be 40 + 65535 bytes,
// so a 65536-byte probe is sendable with every method. `pathmtu ::1` (each method) and
// `pathmtu trace ::1` must answer 65536 and exit 0 — not refuse the size as a usage error.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { discover } from '../../src/discover/index.js';
import { labTest } from '../../src/lab/testing.js';
import type { MethodName } from '../../src/probe/outcome.js';

const cli = fileURLToPath(new URL('../../bin/pathmtu.js', import.meta.url));
const LO_MTU = 65536;

labTest('::1: every method answers lo\'s MTU 65536, exact (library and CLI, trace too)', { routers: [{}] }, async (lab) => {
  for (const method of ['icmp', 'icmp-dgram', 'tcp', 'udp'] as MethodName[]) {
    lab.enter('client');
    let r;
    try {
      r = await discover('::1', { method });
    } finally {
      lab.leave();
    }
    const label = `${method}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, reason: r.reason, localMtu: r.localMtu })}`;
    assert.equal(r.pmtu, LO_MTU, label);
    assert.equal(r.exact, true, label);
  }
  for (const argv of [['::1'], ['-m', 'icmp', '::1'], ['-m', 'tcp', '::1'], ['trace', '-n', '::1']]) {
    const run = await lab.exec('client', [process.execPath, cli, ...argv], { timeoutMs: 30_000 });
    const label = `pathmtu ${argv.join(' ')}: exit ${run.code}\n${run.stdout}${run.stderr}`;
    assert.equal(run.code, 0, label);
    assert.match(run.stdout, /65536/, label);
  }
});
