// icmp-dgram as an unprivileged user (nobody, uid/gid 65534) in the lab's client namespace: it
// works when net.ipv4.ping_group_range includes the group, and otherwise fails with a
// PermissionError that names the way out. The raw methods refuse nobody with CAP_NET_RAW named.
import assert from 'node:assert/strict';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';
import { NOBODY, scriptAsUser } from '../unprivileged.js';
import { bottleneckPath, CLIENT_MTU, families, PATH_MTU, serverOf } from './helpers.js';

const child = new URL('./unprivileged-child.ts', import.meta.url);

async function asNobody(lab: Lab, f: Family, sizes: number[]): Promise<Record<string, any>> {
  const r = await scriptAsUser(lab, 'client', child, [String(f), serverOf(lab, f), ...sizes.map(String)]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function assertRawRefused(r: Record<string, any>, f: Family): void {
  for (const m of ['icmp', 'tcp']) {
    assert.equal(r[m]?.name, 'PermissionError', `IPv${f} ${m}: ${JSON.stringify(r[m])}`);
    assert.match(r[m].message, /CAP_NET_RAW/);
    // The library names its own option; the CLI shows it as --method udp (test/cli/input.test.ts).
    assert.match(r[m].message, /use method udp \(needs no privilege\)/);
  }
}

labTest('icmp-dgram works as nobody when ping_group_range includes the group', bottleneckPath, async (lab) => {
  for (const f of families) {
    const r = await asNobody(lab, f, [PATH_MTU, PATH_MTU + 1, CLIENT_MTU + 1]);
    assert.equal(r.uid, NOBODY);
    assert.equal(r.gid, NOBODY);
    assert.deepEqual(r.available, ['icmp-dgram', 'udp'], `IPv${f}`);
    assertRawRefused(r, f);
    const bySize = new Map<number, any>((r.outcomes as any[]).map((o) => [o.size, o]));
    assert.equal(bySize.size, 3, `IPv${f}: ${JSON.stringify(r.outcomes)}`);
    assert.equal(bySize.get(PATH_MTU).kind, 'delivered');
    assert.equal(bySize.get(PATH_MTU).from, serverOf(lab, f));
    assert.equal(bySize.get(PATH_MTU + 1).kind, 'tooBig');
    assert.equal(bySize.get(PATH_MTU + 1).nextHopMtu, PATH_MTU);
    assert.equal(bySize.get(PATH_MTU + 1).from, lab.bottleneckRouter(f));
    assert.equal(bySize.get(CLIENT_MTU + 1).kind, 'localTooBig');
    assert.equal(bySize.get(CLIENT_MTU + 1).mtu, CLIENT_MTU);
  }
});

labTest('icmp-dgram as nobody outside ping_group_range: PermissionError naming the sysctl', { ...bottleneckPath, clientPingGroup: false }, async (lab) => {
  const range = await lab.exec('client', ['cat', '/proc/sys/net/ipv4/ping_group_range']);
  const [lo, hi] = range.stdout.trim().split(/\s+/).map(Number);
  assert.ok(!(lo <= NOBODY && NOBODY <= hi), `the range ${range.stdout.trim()} must exclude ${NOBODY} for this test`);
  for (const f of families) {
    const r = await asNobody(lab, f, [PATH_MTU]);
    assert.equal(r.uid, NOBODY);
    assert.deepEqual(r.available, ['udp'], `IPv${f}`);
    assertRawRefused(r, f);
    assert.equal(r.dgram?.name, 'PermissionError', JSON.stringify(r));
    assert.equal(r.dgram.code, 'ERR_PERMISSION');
    assert.match(r.dgram.message, /ping_group_range/);
    assert.match(r.dgram.message, /sysctl -w net\.ipv4\.ping_group_range=/);
  }
});
