// Summary arithmetic, pure: what ping prints under "--- host ping statistics ---".
import type { PingProbe, PingSummary, RttStats, SweepReport, SweepRange } from './types.js';

/** min/avg/max/mdev of round-trip times; mdev as iputils: sqrt(mean(x²) − mean(x)²). */
export function rttStats(rtts: readonly number[]): RttStats | null {
  if (rtts.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sum2 = 0;
  for (const x of rtts) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sum2 += x * x;
  }
  const avg = sum / rtts.length;
  // Rounding can leave a tiny negative variance for equal samples.
  const mdev = Math.sqrt(Math.max(0, sum2 / rtts.length - avg * avg));
  return { min, avg, max, mdev };
}

export function summarize(probes: readonly PingProbe[], late: number, elapsedMs: number): PingSummary {
  let sent = 0;
  let received = 0;
  let errors = 0;
  let duplicates = 0;
  const rtts: number[] = [];
  for (const p of probes) {
    if (p.duplicate) {
      duplicates++;
      continue;
    }
    sent++;
    if (p.outcome === 'reply') {
      received++;
      if (p.rttMs !== undefined) rtts.push(p.rttMs);
    } else if (p.outcome !== 'lost') errors++;
  }
  return {
    sent,
    received,
    errors,
    duplicates,
    late,
    lossPercent: sent === 0 ? 0 : ((sent - received) / sent) * 100,
    rtt: rttStats(rtts),
    elapsedMs,
  };
}

/** Largest size that got a reply, smallest that did not. */
export function sweepReport(range: Required<SweepRange>, probes: readonly PingProbe[]): SweepReport {
  let largestPassed: number | null = null;
  let smallestFailed: number | null = null;
  for (const p of probes) {
    if (p.duplicate) continue;
    if (p.outcome === 'reply') largestPassed = Math.max(largestPassed ?? p.size, p.size);
    else smallestFailed = Math.min(smallestFailed ?? p.size, p.size);
  }
  return { ...range, largestPassed, smallestFailed };
}

/** A run of consecutive sweep sizes that met the same fate (same outcome, router and MTU). */
export interface SweepRow {
  from: number;
  to: number;
  count: number;
  outcome: PingProbe['outcome'];
  router?: string;
  nextHopMtu?: number;
  mtu?: number;
  reason?: string;
  /** Replies only: RTT range over the run. */
  rttMinMs?: number;
  rttMaxMs?: number;
}

/** Group a sweep's probes (in size order) into rows of the same fate, for a short table. */
export function sweepRows(probes: readonly PingProbe[]): SweepRow[] {
  const rows: SweepRow[] = [];
  const sorted = probes.filter((p) => !p.duplicate).sort((a, b) => a.size - b.size);
  for (const p of sorted) {
    const router = p.outcome === 'reply' || p.outcome === 'lost' || p.outcome === 'localTooBig' ? undefined : p.from;
    const last = rows[rows.length - 1];
    if (
      last !== undefined &&
      last.outcome === p.outcome &&
      last.router === router &&
      last.nextHopMtu === p.nextHopMtu &&
      last.mtu === p.mtu &&
      last.reason === p.reason
    ) {
      last.to = p.size;
      last.count++;
      if (p.rttMs !== undefined && p.outcome === 'reply') {
        last.rttMinMs = Math.min(last.rttMinMs ?? p.rttMs, p.rttMs);
        last.rttMaxMs = Math.max(last.rttMaxMs ?? p.rttMs, p.rttMs);
      }
      continue;
    }
    const row: SweepRow = { from: p.size, to: p.size, count: 1, outcome: p.outcome };
    if (router !== undefined) row.router = router;
    if (p.nextHopMtu !== undefined) row.nextHopMtu = p.nextHopMtu;
    if (p.mtu !== undefined) row.mtu = p.mtu;
    if (p.reason !== undefined) row.reason = p.reason;
    if (p.outcome === 'reply' && p.rttMs !== undefined) {
      row.rttMinMs = p.rttMs;
      row.rttMaxMs = p.rttMs;
    }
    rows.push(row);
  }
  return rows;
}
