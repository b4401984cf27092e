// The kernel's PMTU cache through rtnetlink, in the lab: a frag-needed / PTB injected from the
// client into the server (quoting an echo reply, which Linux believes with no socket) makes the
// server cache an MTU for the client; readCache, `ip route get`, the listing and the CLI must all
// agree, and flushing must clear it. IPv4 and IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedPmtu, flushCache, readCache } from '../../src/cache/index.js';
import { inject } from '../../src/inject/index.js';
import { labTest } from '../../src/lab/testing.js';
import * as nl from '../../src/wire/netlink.js';
import { cli, ensureBuilt, inNode, ipRouteGet, waitFor } from './helpers.js';

const SPEC = { routers: [{}, {}] };

test('cachedPmtu: needs RTM_F_CLONED, an MTU metric and a running expiry', () => {
  const base = { family: 4 as const, dstLen: 32, srcLen: 0, tos: 0, table: 254, protocol: 0, scope: 0, type: 1, flags: nl.RTM_F_CLONED, dst: '198.18.0.1' };
  const ci = (expires: number) => ({ clntref: 0, lastuse: 0, expires, error: 0, used: 0, id: 0, ts: 0, tsage: 0 });
  assert.deepEqual(cachedPmtu({ ...base, metrics: { [nl.RTAX_MTU]: 1300 }, cacheInfo: ci(59_950) }), { mtu: 1300, expiresSec: 599 });
  assert.equal(cachedPmtu({ ...base, metrics: { [nl.RTAX_MTU]: 1300 }, cacheInfo: ci(0) }), null, 'a configured route mtu never expires');
  assert.equal(cachedPmtu({ ...base, cacheInfo: ci(59_950) }), null, 'no MTU: a redirect or a plain clone');
  assert.equal(cachedPmtu({ ...base, flags: 0, metrics: { [nl.RTAX_MTU]: 1300 }, cacheInfo: ci(59_950) }), null, 'an expiring route (RA) is not an exception');
});

for (const family of [4, 6] as const) {
  const mtu = family === 4 ? 1300 : 1280;
  labTest(`IPv${family}: an injected PTB is cached by the target; readCache, ip route get, the listing and the CLI agree; flush clears it`, SPEC, async (lab) => {
    ensureBuilt();
    const client = family === 4 ? lab.client.v4 : lab.client.v6;
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const before = await ipRouteGet(lab, 'server', client);
    assert.equal(before.mtu, null, `nothing cached at first: ${before.text}`);
    const none = await inNode(lab, 'server', () => readCache(client));
    assert.equal(none.cached, false);
    assert.equal(none.mtu, null);
    assert.equal(none.socketMtu, 1500, 'IP_MTU: the interface MTU while nothing is cached');

    const sent = await inNode(lab, 'client', () => inject({ target: server, mtu, about: client, proto: 'icmp' }));
    assert.match(sent.summary, new RegExp(`MTU ${mtu}`));

    const seen = await waitFor(() => ipRouteGet(lab, 'server', client), (r) => r.mtu !== null);
    assert.equal(seen.mtu, mtu, `ip route get in the server: ${seen.text}`);
    assert.ok(seen.expires !== null && seen.expires > 590 && seen.expires <= 600, seen.text);

    const got = await inNode(lab, 'server', () => readCache(client));
    assert.equal(got.cached, true);
    assert.equal(got.mtu, mtu);
    assert.ok(got.expiresSec !== null && Math.abs(got.expiresSec - seen.expires!) <= 2 && got.expiresSec > 590, `expiresSec ${got.expiresSec}`);
    assert.equal(got.via, lab.routerAddress(2, family, 'out'));
    assert.equal(got.device, 'eth0');
    assert.equal(got.deviceMtu, 1500);
    assert.equal(got.socketMtu, mtu, 'IP_MTU on a socket connected after the PTB agrees (seed 001)');

    const list = await inNode(lab, 'server', () => readCache());
    assert.deepEqual(list.map((e) => [e.destination, e.family, e.mtu, e.via, e.device]), [[client, family, mtu, lab.routerAddress(2, family, 'out'), 'eth0']]);
    assert.equal((await inNode(lab, 'server', () => readCache(undefined, { family: family === 4 ? 6 : 4 }))).length, 0, 'the other family lists nothing');
    assert.equal((await inNode(lab, 'client', () => readCache())).length, 0, 'the sender cached nothing');

    const json = await cli(lab, 'server', ['cache', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const arr = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.equal(arr.length, 1);
    assert.deepEqual(Object.keys(arr[0]!).sort(), ['destination', 'device', 'expiresSec', 'family', 'mtu', 'via']);
    assert.equal(arr[0]!.destination, client);
    assert.equal(arr[0]!.mtu, mtu);
    const one = await cli(lab, 'server', ['cache', client, '--json']);
    assert.equal(one.code, 0, one.stderr);
    const [o] = JSON.parse(one.stdout) as Array<Record<string, unknown>>;
    assert.equal(o!.mtu, mtu);
    assert.equal(o!.cached, true);
    assert.equal(o!.socketMtu, mtu);
    const human = await cli(lab, 'server', ['cache']);
    assert.match(human.stdout, /^DESTINATION\s+MTU\s+EXPIRES\s+VIA\s+DEVICE/);
    assert.match(human.stdout, new RegExp(`${client.replace(/\./g, '\\.')}\\s+${mtu}\\s+\\d+s`));

    // Without root: flushing names the way out, and changes nothing.
    const denied = await cli(lab, 'server', ['cache', '--flush', client], { uid: 65534, gid: 65534 });
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /needs CAP_NET_ADMIN \(root\).*sudo/);
    assert.equal((await ipRouteGet(lab, 'server', client)).mtu, mtu);

    const flushed = await cli(lab, 'server', ['cache', '--flush', client, '--json']);
    assert.equal(flushed.code, 0, flushed.stderr);
    const f = JSON.parse(flushed.stdout) as { removed: Array<{ destination: string }>; remaining: unknown[] };
    assert.deepEqual(f.removed.map((e) => e.destination), [client]);
    assert.deepEqual(f.remaining, []);
    const after = await ipRouteGet(lab, 'server', client);
    assert.equal(after.mtu, null, `flushed: ${after.text}`);
    assert.equal((await inNode(lab, 'server', () => readCache(client))).socketMtu, 1500);
  });
}

labTest('flushing: IPv6 one host at a time; IPv4 only all at once (the kernel has no per-host fnhe removal)', SPEC, async (lab) => {
  // Two destinations per family cached in the server: the client and router 1's far address.
  const r1 = { v4: lab.routerAddress(1, 4, 'out'), v6: lab.routerAddress(1, 6, 'out') };
  await inNode(lab, 'client', async () => {
    for (const about of [lab.client.v4, r1.v4]) await inject({ target: lab.server.v4, mtu: 1400, about });
    for (const about of [lab.client.v6, r1.v6]) await inject({ target: lab.server.v6, mtu: 1400, about });
  });
  // Wait until each is cached: a route get per destination (which also binds a fresh IPv4 exception
  // to a route, and only bound ones appear in the kernel's dump — see the next test).
  const dsts = [lab.client.v4, r1.v4, lab.client.v6, r1.v6];
  for (const d of dsts) {
    const got = await waitFor(() => inNode(lab, 'server', () => readCache(d)), (r) => r.cached);
    assert.equal(got.mtu, 1400, d);
  }
  const all = await inNode(lab, 'server', () => readCache());
  assert.deepEqual(all.map((e) => e.destination).sort(), [...dsts].sort());

  const v6 = await inNode(lab, 'server', () => flushCache(lab.client.v6));
  assert.deepEqual(v6.removed.map((e) => e.destination), [lab.client.v6]);
  assert.equal(v6.flushedAllIpv4, false);
  assert.deepEqual(v6.remaining.map((e) => e.destination), [r1.v6], 'the other IPv6 entry stays');

  const v4 = await inNode(lab, 'server', () => flushCache(lab.client.v4));
  assert.deepEqual(v4.removed.map((e) => e.destination).sort(), [lab.client.v4, r1.v4].sort());
  assert.equal(v4.flushedAllIpv4, true, 'IPv4: one host means all, and the result says so');
  const left = await inNode(lab, 'server', () => readCache());
  assert.deepEqual(left.map((e) => e.destination), [r1.v6], 'the IPv4 flush left IPv6 alone');

  const rest = await inNode(lab, 'server', () => flushCache());
  assert.deepEqual(rest.removed.map((e) => e.destination), [r1.v6]);
  assert.equal((await inNode(lab, 'server', () => readCache())).length, 0);
});

labTest('listing: a fresh IPv4 exception shows in the dump only once a route lookup has used it (as with ip route show cache)', SPEC, async (lab, t) => {
  // Linux lists an fnhe only when a cached route is bound to it (fnhe_dump_bucket skips it
  // otherwise); the PTB creates the fnhe, the next lookup to that destination binds it. With real
  // traffic that is the very next packet; after a bare injection nothing looks it up.
  await inNode(lab, 'client', () => inject({ target: lab.server.v4, mtu: 1300, about: lab.client.v4 }));
  await waitFor(() => lab.exec('server', ['nstat', '-az', 'IcmpInDestUnreachs']), (r) => / 1 /.test(r.stdout));
  const unbound = await inNode(lab, 'server', () => readCache());
  t.diagnostic(`listed before any lookup: ${unbound.length} (kernel-dependent)`);
  const got = await inNode(lab, 'server', () => readCache(lab.client.v4));
  assert.equal(got.mtu, 1300, 'a route get finds it either way');
  const listed = await inNode(lab, 'server', () => readCache());
  assert.deepEqual(listed.map((e) => [e.destination, e.mtu]), [[lab.client.v4, 1300]]);

  // Flushing one IPv4 host that nothing has looked up yet still finds and removes it.
  const r1 = lab.routerAddress(1, 4, 'out');
  await inNode(lab, 'client', () => inject({ target: lab.server.v4, mtu: 1400, about: r1 }));
  await waitFor(() => lab.exec('server', ['nstat', '-az', 'IcmpInDestUnreachs']), (r) => / 2 /.test(r.stdout));
  const f = await inNode(lab, 'server', () => flushCache(r1));
  assert.deepEqual(f.removed.map((e) => e.destination).sort(), [lab.client.v4, r1].sort());
  assert.equal(f.flushedAllIpv4, true);
  assert.equal((await ipRouteGet(lab, 'server', r1)).mtu, null);
});

labTest('flushing an IPv4 host with no entry of its own flushes every IPv4 entry, as --help says (and leaves IPv6 alone)', SPEC, async (lab) => {
  ensureBuilt();
  // The server caches entries for router 1's far address (v4 and v6), none for the client.
  const r1 = { v4: lab.routerAddress(1, 4, 'out'), v6: lab.routerAddress(1, 6, 'out') };
  await inNode(lab, 'client', async () => {
    await inject({ target: lab.server.v4, mtu: 1400, about: r1.v4 });
    await inject({ target: lab.server.v6, mtu: 1400, about: r1.v6 });
  });
  for (const d of [r1.v4, r1.v6]) assert.equal((await waitFor(() => inNode(lab, 'server', () => readCache(d)), (r) => r.cached)).mtu, 1400, d);
  assert.equal((await ipRouteGet(lab, 'server', lab.client.v4)).mtu, null, 'the client itself has no entry');

  const human = await cli(lab, 'server', ['cache', '--flush', lab.client.v4]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`removed 1 cached path MTU: ${r1.v4.replace(/\./g, '\\.')} \\(1400\\)`));
  assert.match(human.stdout, /every IPv4 entry was flushed/);
  assert.equal((await ipRouteGet(lab, 'server', r1.v4)).mtu, null, 'the leftover IPv4 entry is gone');
  assert.equal((await ipRouteGet(lab, 'server', r1.v6)).mtu, 1400, 'IPv6 entries stay');

  // Again, with nothing left in IPv4 at all: the JSON says the flush happened and removed nothing.
  const json = await cli(lab, 'server', ['cache', '--flush', lab.client.v4, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const f = JSON.parse(json.stdout) as { removed: unknown[]; flushedAllIpv4: boolean; remaining: unknown[] };
  assert.deepEqual(f.removed, []);
  assert.equal(f.flushedAllIpv4, true);
  assert.deepEqual(f.remaining, [], 'remaining lists the flushed family only');

  const help = await cli(lab, 'server', ['cache', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.replace(/\s+/g, ' '), /flushing an IPv4 host flushes every IPv4 entry .* also when that host has no entry of its own/);

  // An IPv6 host with no entry of its own removes nothing: IPv6 entries go one by one.
  const v6 = await inNode(lab, 'server', () => flushCache(lab.client.v6));
  assert.deepEqual(v6.removed, []);
  assert.equal(v6.flushedAllIpv4, false);
  assert.deepEqual(v6.remaining.map((e) => e.destination), [r1.v6]);
});
