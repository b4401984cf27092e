// Forged frag-needed / packet-too-big messages, crafted with the wire codecs and sent from a raw
// socket in the first router's namespace, quoting one of our probes with something wrong (nonce,
// sequence, echo id, length). Each must be counted in ignoredCounts and never become an outcome.
// A last, correct forgery is the control: it does become a tooBig, so the ignored ones really
// reached the prober (a PTB is only as good as what it quotes — RFC 8899 §4.6.1).
import assert from 'node:assert/strict';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import { createProber, TcpProber, type IcmpDgramProber, type IcmpProber } from '../../src/probe/index.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';
import type { InFlight, Prober } from '../../src/probe/prober.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as tcp from '../../src/wire/tcp.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../../src/wire/protocols.js';
import { bottleneckPath, clientOf, families, methods, probeAll, serverOf, sum, waitFor } from './helpers.js';

const FORGED_MTU = 1300;
const FLOOD = 20;

interface Forgery {
  /** What is wrong with it ('' for the control). */
  wrong: '' | 'nonce' | 'seq' | 'id' | 'length';
  count: number;
}

/** The datagram a router would quote: IP header of the probe as sent, then its transport bytes. */
function quoteOf(f: Family, src: string, dst: string, totalLength: number, protocol: number, transport: Buffer): Buffer {
  const ip =
    f === 4
      ? ipv4.encode({ dscp: 0, ecn: 0, totalLength, id: 0, df: true, mf: false, fragmentOffset: 0, ttl: 63, protocol, src, dst, options: Buffer.alloc(0) })
      : ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: totalLength - 40, hopLimit: 63, src, dst, extensions: [], protocol });
  // As much as an ICMP error may carry: 576 bytes in all (IPv4), 1280 (IPv6).
  return Buffer.concat([ip, transport]).subarray(0, f === 4 ? 576 - 28 : 1280 - 48);
}

function payloadWith(nonce: Buffer, length: number): Buffer {
  const b = Buffer.alloc(length, 0x50);
  nonce.copy(b, 0);
  return b;
}

function forge(lab: Lab, method: MethodName, f: Family, prober: Prober, p: InFlight, wrong: Forgery['wrong']): Buffer {
  const IP = f === 4 ? 20 : 40;
  const nonce = Buffer.from(p.nonce);
  if (wrong === 'nonce') nonce[7] ^= 0xff;
  const size = wrong === 'length' ? p.size + 8 : p.size;
  let transport: Buffer;
  let protocol: number;
  if (method === 'tcp') {
    protocol = IPPROTO_TCP;
    const seq = TcpProber.sequenceOf(p);
    transport = tcp.encode({
      srcPort: wrong === 'id' ? p.key ^ 1 : p.key,
      dstPort: (prober as TcpProber).port,
      seq: wrong === 'seq' ? (seq + 1) >>> 0 : seq,
      ackNumber: 0,
      flags: { syn: true },
      window: 1024,
      urgentPointer: 0,
      options: [],
      payload: payloadWith(nonce, p.size - IP - 20),
    });
  } else {
    protocol = f === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    const id = (prober as IcmpProber | IcmpDgramProber).echoId;
    const echo = {
      kind: 'echoRequest' as const,
      code: 0,
      id: wrong === 'id' ? id ^ 1 : id,
      seq: wrong === 'seq' ? (p.key + 1) & 0xffff : p.key,
      payload: payloadWith(nonce, p.size - IP - 8),
    };
    transport = f === 4 ? icmpv4.encode(echo) : icmpv6.encode(echo);
  }
  const quoted = quoteOf(f, clientOf(lab, f), p.destination, size, protocol, transport);
  return f === 4
    ? icmpv4.encode({ kind: 'destUnreachable', code: 4, nextHopMtu: FORGED_MTU, quoted })
    : icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: FORGED_MTU, quoted }); // the kernel fills the checksum
}

/**
 * Which wrong quotes reach each method at all: a ping socket only gets errors quoting its echo id,
 * and the raw icmp socket's BPF program drops the others in the kernel (test/sock/bpf-lab.test.ts).
 */
function forgeries(method: MethodName): Forgery[] {
  const list: Forgery[] = [{ wrong: 'nonce', count: FLOOD }, { wrong: 'seq', count: 1 }];
  if (method === 'tcp') list.push({ wrong: 'id', count: 1 });
  if (method === 'icmp') list.push({ wrong: 'length', count: 1 });
  return list;
}

for (const method of methods) {
  labTest(`${method}: forged PTBs quoting a probe with a wrong nonce, sequence, id or length are ignored`, bottleneckPath, async (lab) => {
    for (const f of families) {
      lab.enter('r1');
      const attacker = ProbeSocket.open('icmp-raw', f);
      lab.enter('client');
      const prober = createProber(method, f);
      try {
        const { tokens, outcomes } = await probeAll(prober, [{ to: serverOf(lab, f), size: 1400 }]);
        const token = tokens[0];
        assert.equal(outcomes.get(token)?.[0]?.kind, 'delivered', `${method} IPv${f}`);
        const p = prober.probe(token)!;

        const later: Array<{ token: number; kind: string; nextHopMtu?: number; from?: string }> = [];
        prober.on('outcome', (t, o) => later.push({ token: t, kind: o.kind, nextHopMtu: o.kind === 'tooBig' ? o.nextHopMtu : undefined, from: 'from' in o ? o.from : undefined }));
        let bad = 0;
        for (const { wrong, count } of forgeries(method)) {
          const b = forge(lab, method, f, prober, p, wrong);
          for (let i = 0; i < count; i++) attacker.send(b, { address: clientOf(lab, f) });
          bad += count;
        }
        assert.ok(await waitFor(() => sum(prober.ignoredCounts) >= bad), `${method} IPv${f}: ${bad} ignored, got ${JSON.stringify([...prober.ignoredCounts])}`);
        assert.deepEqual(later, [], `${method} IPv${f}: no forged PTB became an outcome`);

        // The control: a forgery that quotes everything right is taken (so the others did arrive).
        attacker.send(forge(lab, method, f, prober, p, ''), { address: clientOf(lab, f) });
        assert.ok(await waitFor(() => later.length > 0), `${method} IPv${f}: the correct forgery arrived`);
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(later, [{ token, kind: 'tooBig', nextHopMtu: FORGED_MTU, from: lab.routerAddress(1, f, 'in') }]);
        assert.equal(sum(prober.ignoredCounts), bad, `${method} IPv${f}: ${JSON.stringify([...prober.ignoredCounts])}`);
      } finally {
        prober.close();
        attacker.close();
        lab.leave();
      }
    }
  });
}
