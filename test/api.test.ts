// The package as an application imports it: one entry point, every tool there, typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test("import('pathmtu') resolves to the built entry point with every tool", async () => {
  const api = await import('pathmtu');
  for (const fn of ['discover', 'trace', 'ping', 'readCache', 'flushCache', 'inject', 'checkServer', 'explain', 'interfaceMtu', 'resolveTarget']) {
    assert.equal(typeof (api as Record<string, unknown>)[fn], 'function', fn);
  }
  assert.equal(typeof api.PathMtuSearch, 'function');
  assert.equal(typeof api.ProbeSocket.open, 'function');
  assert.ok(new api.DecodeError('x', 'y') instanceof api.PathMtuError);
  assert.equal(typeof api.wire.checksum.checksum, 'function');
});

test('library calls reject bad input with UsageError before touching the network', async () => {
  const { discover, UsageError } = await import('pathmtu');
  await assert.rejects(discover('127.0.0.1', { max: 10 }), UsageError);
  await assert.rejects(discover('127.0.0.1', { method: 'smoke-signals' as never }), UsageError);
  await assert.rejects(discover(''), UsageError);
  await assert.rejects(discover('::1', { family: 4 }), UsageError);
});

test('an aborted signal stops discover before it starts', async () => {
  const { discover } = await import('pathmtu');
  await assert.rejects(discover('127.0.0.1', { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR');
});
