// renderTrace: the hop picture (drops, PTB markers, silent hops, the black-hole link, bogus PTBs),
// colour only on request, and the width respected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTrace } from '../../src/trace/render.js';
import type { TraceResult } from '../../src/trace/types.js';

const ANSI = /\x1b\[/;

function result(over: Partial<TraceResult> = {}): TraceResult {
  return {
    target: 'server.example',
    address: '192.0.2.9',
    family: 4,
    method: 'icmp',
    direction: 'round-trip',
    pmtu: 1400,
    exact: true,
    localMtu: 1500,
    reached: true,
    hops: [
      { ttl: 1, address: '192.0.2.1', rttMs: 0.4, mtu: 1500, ptb: { from: '192.0.2.1', nextHopMtu: 1300, accepted: false, reason: 'contradicted: a 1400-byte probe was delivered' } },
      { ttl: 2, address: null, rttMs: null, mtu: 1500 },
      { ttl: 3, address: '192.0.2.3', name: 'edge.example', rttMs: 1.2, mtu: 1500 },
      { ttl: 4, address: '192.0.2.9', rttMs: 1.5, mtu: 1400, destination: true },
    ],
    drops: [{ afterTtl: 3, from: 1500, to: 1400, evidence: 'black-hole', by: null }],
    firstHop: null,
    blackHole: { afterTtl: 3, lastAnswering: '192.0.2.3', firstSilent: '192.0.2.9', firstSilentTtl: 4, size: 1401, afterTtlMax: 3, uncertain: false, beyond: 'answers' },
    bogusPtbs: [{ from: '192.0.2.1', ttl: 1, nextHopMtu: 1300, contradictedBy: 1400 }],
    explanation: [],
    fixes: [],
    summary: null,
    probes: 57,
    elapsedMs: 321,
    aborted: false,
    ...over,
  };
}

/** The hop table: from the first blank line to the next. */
function table(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf('') + 1;
  return lines.slice(start, lines.indexOf('', start));
}

test('one line per hop plus this host, with address, rtt, MTU and markers', () => {
  const text = renderTrace(result(), { color: false, width: 100, explain: false });
  const rows = table(text);
  assert.match(text.split('\n')[0]!, /trace to server\.example \(192\.0\.2\.9\): path MTU 1400, 4 hops, via icmp, round trip/);
  assert.match(rows[0]!, /^\s+0\s+this host\s+1500 █+/);
  assert.match(rows[1]!, /^\s+1\s+192\.0\.2\.1\s+0\.40 ms\s+1500 █+\s+bogus PTB 1300 \(1400 delivered\)/);
  assert.match(rows[2]!, /^\s+2\s+\*\s+1500 █+\s+no answer/);
  // Hop 3 still gets 1500-byte packets; the drop is drawn between its line and the next.
  assert.match(rows[3]!, /^\s+3\s+edge\.example \(192\.0\.2\.3\)\s+1\.20 ms\s+1500 █+$/);
  assert.match(rows[4]!, /^\s+▼ 1500→1400 \(−100\) no ICMP error$/);
  assert.match(rows[5]!, /╳ black hole: packets over 1400 bytes vanish here/);
  assert.match(rows[6]!, /^\s+4\s+192\.0\.2\.9 target\s+1\.50 ms\s+1400 █+$/);
  // The drop is visible: the bar after the drop is shorter.
  const bar = (line: string): number => (line.match(/█+/)?.[0] ?? '').length;
  assert.ok(bar(rows[6]!) < bar(rows[3]!));
  assert.match(text, /Black hole on the link after hop 3 \(192\.0\.2\.3\)/);
  assert.match(text, /Bogus PTB from 192\.0\.2\.1 \(hop 1\): it claims a next-hop MTU of 1300, but 1400-byte probes were\s+delivered/);
  assert.match(text, /57 probes in 321 ms/);
});

test('no colour unless asked; colour when asked', () => {
  assert.doesNotMatch(renderTrace(result(), { color: false, width: 80 }), ANSI);
  assert.match(renderTrace(result(), { color: true, width: 80 }), ANSI);
});

test('width-aware: the picture and prose fit 60 and 120 columns', () => {
  for (const width of [60, 120]) {
    const text = renderTrace(result(), { color: false, width, explain: false });
    for (const line of text.split('\n')) assert.ok(line.length <= width, `${width}: ${line.length} > ${width}: ${line}`);
  }
  const narrow = table(renderTrace(result(), { color: false, width: 60, explain: false }));
  const wide = table(renderTrace(result(), { color: false, width: 120, explain: false }));
  assert.ok((wide[0]!.match(/█+/)?.[0].length ?? 0) > (narrow[0]!.match(/█+/)?.[0].length ?? 0), 'bars grow with the width');
});

test('the explanation and fixes follow the picture by default', () => {
  const text = renderTrace(result({ pmtu: 1450 }), { color: false, width: 100 });
  assert.match(text, /Likely causes/);
  assert.match(text, /VXLAN over IPv4/);
  assert.match(text, /Fixes/);
  assert.doesNotMatch(renderTrace(result(), { color: false, width: 100, explain: false }), /Likely causes/);
});

test('first-hop case and an unreached target are said in words', () => {
  const text = renderTrace(
    result({
      firstHop: { interfaceMtu: 1500, carries: 1450, evidence: 'black-hole' },
      blackHole: { afterTtl: 0, lastAnswering: null, firstSilent: '192.0.2.1', firstSilentTtl: 1, size: 1451, afterTtlMax: 0, uncertain: false, beyond: 'answers' },
      drops: [{ afterTtl: 0, from: 1500, to: 1450, evidence: 'black-hole', by: null }],
      reached: false,
      hops: [{ ttl: 1, address: '192.0.2.1', rttMs: 0.4, mtu: 1450 }],
      reason: 'no answer from 192.0.2.9 within 30 hops',
    }),
    { color: false, width: 100, explain: false },
  );
  assert.match(text, /First hop: this host's interface allows 1500 bytes, but the first link carries only 1450/);
  assert.match(text, /Black hole on the first link, from this host/);
  assert.match(text, /no answer further on/);
  assert.match(text, /no answer from 192\.0\.2\.9 within 30 hops/);
  // The drop and the black-hole line sit right under "this host".
  const rows = table(text);
  assert.match(rows[1]!, /▼ 1500→1450 \(−50\)/);
  assert.match(rows[2]!, /╳ black hole/);
});

test('"everything beyond is silent" is told apart from a size that vanishes', () => {
  const text = renderTrace(
    result({ blackHole: { afterTtl: 3, lastAnswering: '192.0.2.3', firstSilent: null, firstSilentTtl: null, size: 1401, afterTtlMax: 3, uncertain: true, beyond: 'silent' } }),
    { color: false, width: 100, explain: false },
  );
  assert.match(text, /Nothing beyond answers at all/);
});

test('a bracketed black hole: the picture, the prose and the drop say where it may be, not one hop', () => {
  const text = renderTrace(
    result({
      hops: [
        { ttl: 1, address: '192.0.2.1', rttMs: 0.4, mtu: 1500 },
        { ttl: 2, address: null, rttMs: null, mtu: null },
        { ttl: 3, address: '192.0.2.3', rttMs: 1.2, mtu: 1400 },
        { ttl: 4, address: '192.0.2.9', rttMs: 1.5, mtu: 1400, destination: true },
      ],
      drops: [{ afterTtl: 1, from: 1500, to: 1400, evidence: 'black-hole', by: null, uncertain: true, afterTtlMax: 2 }],
      blackHole: { afterTtl: 1, lastAnswering: '192.0.2.1', firstSilent: '192.0.2.3', firstSilentTtl: 3, size: 1401, afterTtlMax: 2, uncertain: true, beyond: 'answers' },
      bogusPtbs: [],
    }),
    { color: false, width: 120, explain: false },
  );
  const rows = table(text);
  assert.match(rows[2]!, /▼ 1500→1400 \(−100\) no ICMP error, somewhere before hop 3/);
  assert.match(rows[3]!, /╳ black hole: packets over 1400 bytes vanish here \(somewhere before hop 3\)/);
  assert.match(rows[4]!, /^\s+2\s+\*\s+no answer/);
  assert.match(text, /MTU drops on a link after hop 1 and before hop 3/);
  assert.match(text, /Black hole on a link after hop 1 \(192\.0\.2\.1\) and before hop 3/);
  assert.doesNotMatch(text, /Black hole on the link after hop 1/);
});

test('a drop from a PTB with MTU 0 is drawn after its sender and says the value came from probing', () => {
  const text = renderTrace(
    result({
      hops: [
        { ttl: 1, address: '192.0.2.1', rttMs: 0.4, mtu: 1500, ptb: { from: '192.0.2.1', nextHopMtu: 0, accepted: true, reason: 'next-hop MTU 0' } },
        { ttl: 2, address: '192.0.2.9', rttMs: 1.5, mtu: 1400, destination: true },
      ],
      drops: [{ afterTtl: 1, from: 1500, to: 1400, evidence: 'ptb', by: '192.0.2.1', zeroMtu: true }],
      blackHole: null,
      bogusPtbs: [],
    }),
    { color: false, width: 120, explain: false },
  );
  const rows = table(text);
  assert.match(rows[1]!, /^\s+1\s+192\.0\.2\.1\s+0\.40 ms\s+1500 █+\s+PTB 0 \(no MTU given\)/);
  assert.match(rows[2]!, /▼ 1500→1400 \(−100\) PTB without an MTU from 192\.0\.2\.1, value from probing/);
  assert.match(text, /MTU drops after hop 1: 1500 → 1400 \(−100\), a PTB with next-hop MTU 0/);
});
