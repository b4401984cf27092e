// Human rendering: answer first, then payloads, causes, fixes; colour only on request; width respected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain, renderExplanation } from '../../src/explain/index.js';

const ESC = '\x1b[';

test('order: summary, payloads, likely causes, fixes', () => {
  const text = renderExplanation(explain({ mtu: 1450, family: 4, iface: 'eth0' }), { color: false, width: 100 });
  const at = (s: string): number => text.indexOf(s);
  assert.ok(text.startsWith('Path MTU 1450 (IPv4): most likely VXLAN over IPv4'));
  assert.ok(at('Largest payloads') > 0);
  assert.ok(at('Likely causes') > at('Largest payloads'));
  assert.ok(at('Fixes') > at('Likely causes'));
  assert.match(text, /UDP payload\s+1422 bytes/);
  assert.match(text, /TCP MSS\s+1410 bytes/);
  assert.match(text, /\$ ip link set dev eth0 mtu 1450/);
  assert.match(text, /high\s+VXLAN over IPv4 \(50 bytes from 1500\)/);
});

test('no escape codes without colour; escape codes with it', () => {
  const expl = explain({ mtu: 1492 });
  assert.ok(!renderExplanation(expl, { color: false, width: 80 }).includes(ESC));
  const coloured = renderExplanation(expl, { color: true, width: 80 });
  assert.ok(coloured.includes(`${ESC}1m`));
  assert.ok(coloured.includes(`${ESC}36m$ ip link set dev <iface> mtu 1492`));
});

test('prose wraps to the width; commands are never broken', () => {
  const expl = explain({ mtu: 1412, family: 6, iface: 'eth0' });
  for (const width of [40, 60, 100]) {
    const lines = renderExplanation(expl, { color: false, width }).split('\n');
    for (const line of lines) {
      if (line.trimStart().startsWith('$ ')) continue;
      const words = line.trim().split(' ');
      // A line may only overflow when it is a single word too long to break.
      assert.ok(line.length <= width || words.length === 1, `width ${width}: '${line}'`);
    }
    for (const f of expl.fixes) {
      for (const cmd of f.command.split('\n')) assert.ok(lines.some((l) => l.endsWith(`$ ${cmd}`)), cmd);
    }
  }
});

test('notes are shown for the leading candidates only', () => {
  const expl = explain({ mtu: 1488, family: 4 });
  const text = renderExplanation(expl, { color: false, width: 100_000 }); // no wrapping
  assert.ok(expl.candidates.length > 3);
  assert.ok(text.includes(expl.candidates[0]!.note));
  assert.ok(!text.includes(expl.candidates[expl.candidates.length - 1]!.note));
});
