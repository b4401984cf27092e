// A hostile router on a black-holed path (r2 drops its PTBs; the truth is 1400): r1 watches what it
// forwards and forges destination-unreachables "from" the target about every probe, quoting the IP
// header and only the first 8 or 12 bytes of the transport — the UDP or echo header, perhaps the
// counter half of the nonce, never the whole of it. Such a quote proves nothing (RFC 8899 §4.6.1,
// RFC 5927): the udp method must not take it as delivery, the echo methods must not end the search
// on it, and the result must say what it ignored. IPv4 and IPv6.
import assert from 'node:assert/strict';
import { discover } from '../../src/discover/index.js';
import { startLiar, type UnreachableForgery } from '../../src/lab/liar.js';
import { labTest } from '../../src/lab/testing.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';

const spec = { routers: [{}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1400 }, {}] };
const families: Family[] = [4, 6];

async function underForgery(
  lab: Parameters<Parameters<typeof labTest>[2]>[0],
  forge: UnreachableForgery,
  methods: MethodName[],
): Promise<void> {
  const liar = await startLiar(lab, 1, { forge });
  try {
    for (const family of families) {
      for (const method of methods) {
        const server = family === 4 ? lab.server.v4 : lab.server.v6;
        const before = liar.lies.length;
        lab.enter('client');
        let r;
        try {
          r = await discover(server, { method, family });
        } finally {
          lab.leave();
        }
        const label = `IPv${family} ${method}, quote of ${forge.quoteBytes} transport bytes: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, reason: r.reason, ignored: r.ignored, unreachable: r.unreachable })}`;
        // The liar reports each forgery on its stdout: give the last lines a moment to arrive.
        for (let i = 0; i < 100 && !liar.lies.slice(before).some((l) => l.family === family); i++) await new Promise((res) => setTimeout(res, 10));
        const forged = liar.lies.slice(before).filter((l) => l.kind === 'unreachable' && l.family === family);
        assert.ok(forged.length > 0, `${label}: the router forged unreachables during the run`);
        assert.equal(r.pmtu, 1400, label);
        assert.equal(r.exact, true, label);
        assert.equal(r.unreachable, false, label);
        const said = Object.entries(r.ignored).filter(([reason]) => /nonce/.test(reason));
        assert.ok(said.length > 0 && said.every(([, n]) => n > 0), `${label}: the result names what it ignored`);
      }
    }
  } finally {
    await liar.stop();
  }
}

for (const quoteBytes of [8, 12]) {
  labTest(`udp: port-unreachables forged from the target, quoting ${quoteBytes} bytes of UDP, prove no delivery`, spec, async (lab) => {
    await underForgery(lab, { protocol: 'udp', quoteBytes }, ['udp']);
  });
  labTest(`icmp, icmp-dgram: a forged unreachable quoting ${quoteBytes} bytes of an echo request does not end the search`, spec, async (lab) => {
    await underForgery(lab, { protocol: 'echo', quoteBytes }, ['icmp', 'icmp-dgram']);
  });
}

labTest('udp: forged "host unknown" unreachables (a pending EHOSTDOWN on the socket) neither end the search nor break the socket', spec, async (lab) => {
  // ICMP code 7 leaves EHOSTDOWN pending on the socket (ICMPv6 code 7: EPROTO): errors Node has no
  // name for, which the socket must know as "an ICMP error is waiting", not as a failure.
  await underForgery(lab, { protocol: 'udp', quoteBytes: 8, code: 7 }, ['udp']);
});
