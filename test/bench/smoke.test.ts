// Smoke test of the peer benchmark: one real run of clean v4 through the same code path as
// `npm run bench` (fresh lab, whole pathmtu process, one installed peer), then the rendered table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labSkipReason } from '../../src/lab/testing.js';
import { measurePeers, renderPeers } from '../../bench/peers.js';
import { TOOLS, type ToolId } from '../../bench/lib/tools.js';

const skip = labSkipReason();

test('bench smoke: clean v4, pathmtu and one installed peer, row says ✓ with a wall time', { skip, timeout: 30_000 }, async () => {
  // Quickest peers first; the DF-ping search takes a few seconds.
  const peer = (['tracepath', 'nmap', 'scamper', 'df-ping'] as ToolId[]).find((id) => TOOLS.find((t) => t.id === id)!.unavailable() === undefined);
  const tools: ToolId[] = peer ? ['pathmtu', peer] : ['pathmtu'];
  if (!peer) console.log('# no peer installed (scripts/system-deps.sh installs them): pathmtu alone');
  const res = await measurePeers({ reps: 1, roles: ['discover'], scenarios: ['clean-v4'], tools, log: () => {} });

  const truth = res.scenarios[0].truth;
  assert.ok(truth, 'the lab gave a truth');
  const ours = res.cells.find((c) => c.tool === 'pathmtu')!;
  assert.equal(ours.runs.length, 1);
  assert.equal(ours.runs[0].output?.pmtu, truth.pmtu, ours.runs[0].said);
  assert.ok(ours.runs[0].wallMs > 0);

  const lines = renderPeers(res).split('\n');
  const row = (label: string): string[] => {
    const line = lines.find((l) => l.startsWith('| clean v4 ') && l.split('|')[3].trim() === label);
    assert.ok(line, `a table row for ${label}:\n${lines.join('\n')}`);
    return line.split('|').map((c) => c.trim());
  };
  const r = row('pathmtu');
  assert.equal(r[4], `✓ ${truth.pmtu}`);
  assert.match(r[5], /^\d+(\.\d+)? s$/);
  assert.match(r[6], /^\d+$/, 'pathmtu reports its probe count');
  if (peer) {
    const p = row(TOOLS.find((t) => t.id === peer)!.label);
    assert.match(p[4], /^[✓✗] /);
    assert.match(p[5], /^\d+(\.\d+)? s/);
  }
  assert.ok(lines.some((l) => l.startsWith('  clean v4: pathmtu ')), 'a ratios line');
});
