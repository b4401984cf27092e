// What a trace's path MTU means (src/explain), shared by trace() and renderTrace().
import { explain } from '../explain/explain.js';
import type { Explanation } from '../explain/types.js';
import type { TraceResult } from './types.js';

/** explain() for a trace's answer; null without a path MTU or outside what explain reasons about. */
export function explainTrace(r: Pick<TraceResult, 'pmtu' | 'family' | 'localMtu' | 'method'>): Explanation | null {
  if (r.pmtu === null) return null;
  try {
    return explain({ mtu: Math.min(r.pmtu, 65535), family: r.family, localMtu: Math.min(r.localMtu, 65535), method: r.method });
  } catch {
    return null; // e.g. an IPv6 loopback larger than 65535
  }
}
