// Child of unprivileged.test.ts: runs as nobody inside the lab's client namespace and reports, as
// one JSON line, which methods it may open and what icmp-dgram probes give.
import { availableMethods, createProber } from '../../src/probe/index.js';
import type { Family } from '../../src/wire/facts.js';
import type { ProbeOutcome } from '../../src/probe/prober.js';

const family = Number(process.argv[2]) as Family;
const server = process.argv[3]!;
const sizes = process.argv.slice(4).map(Number);

function failure(fn: () => unknown): { name: string; code?: string; message: string } | null {
  try {
    (fn() as { close?: () => void } | undefined)?.close?.();
    return null;
  } catch (err) {
    const e = err as Error & { code?: string };
    return { name: e.name, code: e.code, message: e.message };
  }
}

const report: Record<string, unknown> = {
  uid: process.getuid?.(),
  gid: process.getgid?.(),
  available: availableMethods(family),
  icmp: failure(() => createProber('icmp', family)),
  tcp: failure(() => createProber('tcp', family)),
};

let prober;
try {
  prober = createProber('icmp-dgram', family);
} catch (err) {
  const e = err as Error & { code?: string };
  report.dgram = { name: e.name, code: e.code, message: e.message };
  console.log(JSON.stringify(report));
  process.exit(0);
}
const outcomes: ProbeOutcome[] = [];
prober.on('outcome', (_t, o) => outcomes.push(o));
for (const size of sizes) prober.send(server, size);
const until = Date.now() + 2000;
while (outcomes.length < sizes.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
prober.close();
report.outcomes = outcomes;
console.log(JSON.stringify(report));
