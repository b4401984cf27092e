// Small numeric helpers for the benchmarks: medians and the way we print times and ratios.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seconds with a precision that suits the magnitude: 0.004 s, 0.21 s, 5.3 s, 87 s. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 0.1) return `${s.toFixed(3)} s`;
  if (s < 1) return `${s.toFixed(2)} s`;
  if (s < 10) return `${s.toFixed(1)} s`;
  return `${s.toFixed(0)} s`;
}

/**
 * "410x faster" or "tracepath 18x faster": how many times quicker one side was. `peerAtLeast`
 * marks a peer that was cut off by a timeout, so its real time is only a lower bound.
 */
export function speedup(oursMs: number, peerMs: number, peer: string, peerAtLeast = false): string {
  const r = peerMs / oursMs;
  const fmt = (x: number): string => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
  if (r >= 1) return `${peerAtLeast ? '>' : ''}${fmt(r)}x faster`;
  return `${peer} ${fmt(1 / r)}x faster`;
}
