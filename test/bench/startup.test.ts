// Smoke test of the start-up bench: one real round through the same code as
// `npm run bench -- --only startup` (every row runs the real process), then the rendered table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureStartup, renderStartup } from '../../bench/startup.js';
import { ensureBundle } from '../bin/build.js';

test('start-up bench: every row runs and exits 0, the table has times, ratios to node -e 0 and the targets', { timeout: 60_000 }, () => {
  ensureBundle();
  const res = measureStartup(1);
  for (const [i, t] of res.timings.entries()) {
    assert.equal(t.failure, undefined, `${res.rows[i]!.label}: ${t.failure}`);
    assert.equal(t.ms.length, 1);
    assert.ok(t.ms[0]! > 0);
  }
  const lines = renderStartup(res).split('\n');
  const row = (label: string): string[] => {
    const line = lines.find((l) => l.startsWith(`| ${label} `));
    assert.ok(line, `a row for ${label}:\n${lines.join('\n')}`);
    return line.split('|').map((c) => c.trim());
  };
  assert.equal(row('node -e 0 (the floor)')[4], '1.00x');
  for (const [label, target] of [['pathmtu explain 1400', '1.15'], ['pathmtu 127.0.0.1', '1.30']] as const) {
    const r = row(label);
    assert.match(r[2]!, /^\d+\.\d ms$/);
    assert.match(r[4]!, /^\d+\.\d\dx$/);
    assert.match(r[5]!, new RegExp(`^<= ${target}x (met|not met)$`));
    assert.match(r[7]!, /^\d+\.\d\dx$/);
  }
  assert.ok(row('unbundled: explain 1400'), 'the unbundled reference row');
});
