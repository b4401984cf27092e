// What the server did with our PTB, from the segments seen before and after it. Pure.
//
// RFC 1191 §3 leaves a host two honest answers to "fragmentation needed": send smaller segments
// (what Linux, BSD and Windows TCP do) or stop setting DF and let routers fragment. Ignoring it
// is the third, dishonest one: its clients behind a smaller MTU see connections hang once the
// first full-sized segment is sent (a PMTUD black hole, RFC 2923 §2.1).
import type { WireSegment } from './segment.js';

export type Verdict = 'success' | 'ignored' | 'cleared-df' | 'no-df' | 'no-data' | 'error';

export interface VerdictInput {
  family: 4 | 6;
  /** The pseudo path MTU we announced. */
  mtu: number;
  /** Data segments before the PTB was sent. */
  before: WireSegment[];
  /** Data segments sent after the server had the PTB (in-flight ones already left out). */
  after: WireSegment[];
  /** Whether a PTB was sent at all. */
  ptbSent: boolean;
}

export interface VerdictResult {
  verdict: Verdict;
  reason: string;
}

/**
 * Judge. After the PTB, a server that honoured it has no reason to send anything above `mtu`,
 * but it only proves so when it had more data than fits below it: too little data is no answer.
 */
export function judge(v: VerdictInput): VerdictResult {
  const bigBefore = v.before.filter((s) => s.size > v.mtu);
  if (bigBefore.length === 0) {
    const largest = Math.max(0, ...v.before.map((s) => s.size));
    return {
      verdict: 'no-data',
      reason: v.before.length === 0
        ? 'the server sent no data'
        : `the server sent nothing larger than ${v.mtu} bytes (largest ${largest}): ask for something larger, or it already caches a smaller path MTU for us`,
    };
  }
  if (v.family === 4 && bigBefore.every((s) => !s.df)) {
    return {
      verdict: 'no-df',
      reason: 'the server never sets DF: routers fragment its packets, so PMTUD does not apply (nor fail)',
    };
  }
  if (!v.ptbSent) return { verdict: 'error', reason: 'no PTB could be sent' };
  if (v.after.length === 0) return { verdict: 'error', reason: 'the server sent no data after the PTB' };
  const bigAfter = v.after.filter((s) => s.size > v.mtu);
  const largestAfter = Math.max(...v.after.map((s) => s.size));
  if (bigAfter.length === 0) {
    const bytes = v.after.reduce((a, s) => a + s.payload, 0);
    // Less than one MTU of data would fit under the MTU even if the PTB had been ignored.
    if (bytes <= v.mtu) {
      return { verdict: 'error', reason: `too little data after the PTB (${bytes} bytes) to tell whether the server reduced its segments` };
    }
    return { verdict: 'success', reason: `the server reduced its segments to ${largestAfter} bytes (at most ${v.mtu})` };
  }
  if (bigAfter.every((s) => !s.df)) {
    return {
      verdict: 'cleared-df',
      reason: `the server kept sending ${Math.max(...bigAfter.map((s) => s.size))}-byte segments but without DF${v.family === 6 ? ' (fragmented)' : ''}: routers may fragment them`,
    };
  }
  return {
    verdict: 'ignored',
    reason: `the server kept sending ${Math.max(...bigAfter.map((s) => s.size))}-byte segments with DF: a PMTUD black hole for clients behind an MTU of ${v.mtu}`,
  };
}
