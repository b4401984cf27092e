// The peers' output readers, on output captured from the tools in our lab (tracepath from iputils
// 20221126, scamper 20211212, nmap 7.93), plus the shapes their sources print in other cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNmapPathMtu, parseScamperTrace, parseTracepath } from '../../bench/lib/parse.js';

test('tracepath: the MTU changes at the PTB line and holds for later hops; Resume gives the answer', () => {
  const out = [
    ' 1?: [LOCALHOST]                      pmtu 1500',
    ' 1:  198.18.0.2                                            0.257ms ',
    ' 1:  198.18.0.2                                            0.006ms ',
    ' 2:  198.18.1.2                                            0.248ms ',
    ' 3:  198.18.1.2                                            0.024ms pmtu 1400',
    ' 3:  198.18.2.2                                            0.022ms ',
    ' 4:  198.18.3.2                                            0.116ms reached',
    '     Resume: pmtu 1400 hops 4 back 4 ',
  ].join('\n');
  const t = parseTracepath(out);
  assert.equal(t.pmtu, 1400);
  assert.equal(t.reached, true);
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.mtu]),
    [
      [1, '198.18.0.2', 1500],
      [2, '198.18.1.2', 1500],
      [3, '198.18.2.2', 1400],
      [4, '198.18.3.2', 1400],
    ],
  );
});

test('tracepath: silent hops and a path never reached', () => {
  const t = parseTracepath([' 1?: [LOCALHOST]  pmtu 1500', ' 1:  198.18.0.2  0.2ms ', ' 2:  no reply', '     Too many hops: pmtu 1500', '     Resume: pmtu 1500 '].join('\n'));
  assert.equal(t.reached, false);
  assert.equal(t.pmtu, 1500);
  assert.deepEqual(t.hops[1], { ttl: 2, address: null, mtu: 1500 });
});

test('scamper trace -M: per-hop sizes, the destination hop gives the answer, [*mtu] marks the black hole', () => {
  const clean = parseScamperTrace(
    ['traceroute from 198.18.0.1 to 198.18.3.2', ' 1  198.18.0.2  4294967.263 ms [mtu: 1500]', ' 2  198.18.1.2  0.047 ms [mtu: 1500]', ' 3  198.18.2.2  0.044 ms [mtu: 1400]', ' 4  198.18.3.2  0.049 ms [mtu: 1400]'].join('\n'),
  );
  assert.equal(clean.pmtu, 1400);
  assert.equal(clean.blackHole, null);
  assert.deepEqual(clean.hops.map((h) => h.mtu), [1500, 1500, 1400, 1400]);
  const hole = parseScamperTrace(
    ['traceroute from 198.18.0.1 to 198.18.3.2', ' 1  198.18.0.2  0.180 ms [mtu: 1500]', ' 2  198.18.1.2  0.061 ms [mtu: 1500]', ' 3  198.18.2.2  0.063 ms [*mtu: 1400]', ' 4  198.18.3.2  0.050 ms [*mtu: 1400]'].join('\n'),
  );
  assert.equal(hole.pmtu, 1400);
  assert.deepEqual(hole.blackHole, { afterTtl: 2 });
  const silent = parseScamperTrace(['traceroute from 2001:db8::1 to 2001:db8:3::2', ' 1  *', ' 2  *'].join('\n'));
  assert.equal(silent.pmtu, null);
  assert.deepEqual(silent.hops[0], { ttl: 1, address: null, mtu: null });
});

test('nmap path-mtu.nse: exact, range, lower bound, nothing', () => {
  assert.deepEqual(parseNmapPathMtu('Host script results:\n|_path-mtu: PMTU == 1400\n'), { kind: 'exact', pmtu: 1400 });
  assert.deepEqual(parseNmapPathMtu('Host script results:\n|_path-mtu: 1006 <= PMTU < 1492\n'), { kind: 'range', low: 1006, below: 1492 });
  assert.deepEqual(parseNmapPathMtu('|_path-mtu: PMTU >= 1500\n'), { kind: 'atLeast', low: 1500 });
  assert.equal(parseNmapPathMtu('Nmap done: 1 IP address (0 hosts up)').kind, 'none');
});
