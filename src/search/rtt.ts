// Round-trip estimation and the loss timeout (RFC 6298 smoothing, different margins).
//
// Why not RFC 6298's RTO = SRTT + 4*RTTVAR with a 1 s floor: TCP's floor protects against spurious
// retransmission of a stream; here a probe that looks lost only costs one more probe, so the floor
// can be small. The margin is multiplicative (2*SRTT) as well as variance-based because the answer
// to a large probe can come from a different host than the RTT samples (a router's ICMP slow path,
// a destination generating a rate-limited port unreachable), and samples are few and taken in bursts,
// which makes RTTVAR collapse. Floor 50 ms: above scheduler and ICMP generation jitter on a loaded
// host, still 20x below the fixed 1 s of ping/tracepath. Ceiling 3 s: the RFC 6298 initial RTO x 3.

import { DEFAULT_MIN_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS, INITIAL_TIMEOUT_MS } from '../engine/timing.js';

// The defaults live in the engine (one place for every job); re-exported for the search's users.
export { DEFAULT_MIN_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS, INITIAL_TIMEOUT_MS };

export class RttEstimator {
  srtt: number | undefined;
  rttvar = 0;
  samples = 0;
  constructor(
    private readonly minTimeout: number,
    private readonly maxTimeout: number,
    hint?: number,
  ) {
    if (hint !== undefined && hint > 0) {
      this.srtt = hint;
      this.rttvar = hint / 2;
    }
  }

  /** RFC 6298 §2.2/2.3 smoothing (alpha 1/8, beta 1/4). */
  sample(rttMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    if (this.srtt === undefined || this.samples === 0) {
      // A hint is replaced by the first real measurement.
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.samples++;
  }

  /** How long after sending an unanswered probe is declared lost. */
  timeout(): number {
    const raw = this.srtt === undefined ? INITIAL_TIMEOUT_MS : 2 * this.srtt + 4 * this.rttvar;
    return Math.min(this.maxTimeout, Math.max(this.minTimeout, raw));
  }

  /**
   * How long after sending we still expect a delivery: past it, an unanswered probe whose peers
   * (sent no earlier) were answered is "overdue" (planned around, not yet counted as lost), and a
   * too-big report is "settled" (no delivery of the same probe contradicts it, as a forged PTB that
   * races the real answer would be).
   */
  settle(): number {
    // Without any RTT measurement there is no telling how late a delivery may come: wait a timeout.
    return this.srtt === undefined ? this.timeout() : 1.25 * this.srtt + 1;
  }
}
