// The watch state machine for one target, after RFC 8899 §4-5 (PLPMTUD), pure: no sockets, no
// timers; the caller owns the clock (ms numbers, non-decreasing) and runs the searches it asks for.
//
//   searching ──first search──▶ confirming ──PTB / MAX_PROBES losses of PMTU-sized probes──▶ searching-down
//       ▲                          │  ▲ ◀────────────── search done (same or lower PMTU) ─────────┘
//       │                          │  └──────────────── search done ◀── searching-up ◀── PMTU_RAISE_TIMER
//       │                          └──MAX_PROBES rounds with nothing answered / validated unreachable──▶ unreachable
//       └──────────────── a control probe answered again (full search) ◀─────────────────────────────┘
//
// Confirmation (RFC 8899 CONFIRMATION_TIMER, here `intervalMs`): one probe of the current PMTU and a
// small control probe. The control tells "everything lost" (unreachable) from "only large packets
// lost" (a black hole). A lost round is probed again at once, up to MAX_PROBES rounds (§5.1.2).
// A validated PTB for the PMTU-sized probe (a plausible next-hop MTU quoting the probe's nonce, the
// checks discover applies) needs no second round: the search down starts at once. The new value is
// always what a bounded search finds (a delivery of that size), never a number guessed from a loss
// or taken from a PTB alone; the reason (ptb or black hole) is what that search saw.
//
// Usage: poll(now) -> { probes, search, changes, wakeAt }: send the probes, run the search (one at
// a time: none is asked for while one runs); outcome(token, outcome, now) for each answer;
// searchDone(result, now) / searchFailed(err, now) when the search ends; poll again after each of
// these and at wakeAt. Losses are declared by the machine itself.
import type { Outcome } from '../probe/outcome.js';
import { RttEstimator } from '../search/rtt.js';
import { MIN_MTU, type Family } from '../wire/facts.js';
import type { WatchReason, WatchState } from './types.js';

export const DEFAULT_INTERVAL_S = 60;
/** RFC 8899 §5.1.1: PMTU_RAISE_TIMER, 600 s. */
export const DEFAULT_RAISE_S = 600;
/** RFC 8899 §5.1.2: MAX_PROBES, lost probes of one size before it is deemed not to pass. */
export const MAX_PROBES = 3;
/** Loss timeout of a confirmation probe: 4 x smoothed RTT, within these bounds (1 s before any sample). */
const MIN_TIMEOUT_MS = 250;
const MAX_TIMEOUT_MS = 2000;

export type Phase = WatchState['phase'];
export type SearchPurpose = 'initial' | 'down' | 'up' | 'reachable';

/** Why a search down was started. */
export type Trigger =
  | { kind: 'ptb'; from: string; mtu: number }
  | { kind: 'local'; mtu: number }
  | { kind: 'loss' };

/** A search the caller should run: discover() within [min, max] (undefined: the user's bounds). */
export interface SearchRequest {
  purpose: SearchPurpose;
  min?: number;
  max?: number;
  trigger?: Trigger;
}

export interface ProbeRequest {
  token: number;
  /** Whole IP packet size. */
  size: number;
  role: 'confirm' | 'control';
}

/** What a finished search found (a DiscoverResult has all of these). */
export interface SearchOutcome {
  family: Family;
  pmtu: number | null;
  exact: boolean;
  blackHole: boolean;
  unreachable: boolean;
  /** The outgoing interface MTU: nothing above it can be raised to. */
  localMtu: number;
  ptbs: ReadonlyArray<{ from: string; nextHopMtu: number; accepted: boolean }>;
  /** Sizes above this vanished without an ICMP error (with blackHole). */
  blackHoleAbove?: number;
  reason?: string;
}

export interface Change {
  reason: WatchReason;
  pmtu: number | null;
  previous: number | null;
  blackHole: boolean;
  ptbFrom?: string;
  detail: string;
  atMs: number;
}

export interface MachineOptions {
  intervalMs: number;
  raiseMs: number;
  /** The user's bounds (min/max of every search); undefined: the family's floor, the interface MTU. */
  min?: number;
  max?: number;
  /**
   * Ask for the raise timer's search even when the PMTU is already the largest size this host can
   * send (a target given by name: the search is when its name is resolved again).
   */
  searchAtRaise?: boolean;
}

export interface Poll {
  probes: ProbeRequest[];
  search: SearchRequest | null;
  changes: Change[];
  /** When to poll again if nothing arrives before; null while a search runs. */
  wakeAt: number | null;
}

interface RoundProbe {
  token: number;
  size: number;
  sentAt: number;
  /** undefined while in flight. */
  result?: 'delivered' | 'lost' | 'tooBig' | 'localTooBig' | 'unreachable';
  tooBig?: { from: string; mtu: number };
  localMtu?: number;
  unreachable?: string;
}

interface Round {
  startedAt: number;
  confirm?: RoundProbe;
  control?: RoundProbe;
}

export class WatchMachine {
  phase: Phase = 'searching';
  pmtu: number | null = null;
  blackHole = false;
  family: Family | null = null;
  localMtu: number | null = null;
  /** Last search failure (resolution, sockets...), cleared by the next success. */
  error: string | undefined;
  private searching = false;
  private pendingSearch: SearchRequest | null = { purpose: 'initial' };
  private readonly changes: Change[] = [];
  private round: Round | null = null;
  private nextConfirmAt = Infinity;
  private raiseAt = Infinity;
  private retryAt = Infinity;
  /** Consecutive rounds with the PMTU-sized probe lost and the control delivered. */
  private misses = 0;
  /** Consecutive rounds with nothing delivered at all. */
  private silent = 0;
  private nextToken = 1;
  private readonly rtt = new RttEstimator(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);

  constructor(private readonly opts: MachineOptions) {
    if (!(opts.intervalMs > 0) || !(opts.raiseMs > 0)) throw new RangeError('intervalMs and raiseMs must be positive');
  }

  /** Loss timeout of one confirmation probe, ms. */
  get timeoutMs(): number {
    return this.rtt.srtt === undefined ? 1000 : Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, 4 * this.rtt.srtt));
  }

  poll(now: number): Poll {
    const probes: ProbeRequest[] = [];
    if (!this.searching) this.step(now, probes);
    let search: SearchRequest | null = null;
    if (!this.searching && this.pendingSearch !== null) {
      search = this.pendingSearch;
      this.pendingSearch = null;
      this.searching = true;
      this.round = null;
      // A target coming back stays 'unreachable' until its search has found the PMTU.
      if (search.purpose === 'down') this.phase = 'searching-down';
      else if (search.purpose === 'up') this.phase = 'searching-up';
      else if (this.phase !== 'unreachable') this.phase = 'searching';
    }
    return { probes, search, changes: this.changes.splice(0), wakeAt: this.searching ? null : this.wakeAt() };
  }

  /** An answer to one of the probes poll() asked for (late or unknown tokens are ignored). */
  outcome(token: number, outcome: Outcome, now: number): void {
    const r = this.round;
    if (r === null) return;
    const p = r.confirm?.token === token ? r.confirm : r.control?.token === token ? r.control : undefined;
    if (p === undefined) return;
    if (outcome.kind === 'delivered') {
      // A delivery always wins, even after the probe was declared lost.
      if (p.result !== 'delivered') {
        this.rtt.sample(Number.isFinite(outcome.rttMs) ? outcome.rttMs : now - p.sentAt);
        p.result = 'delivered';
      }
      return;
    }
    if (p.result !== undefined) return;
    switch (outcome.kind) {
      case 'tooBig':
        // The checks discover uses: the quote carries the probe's nonce, the value is plausible
        // (below the probe, not below the floor). Anything else is no answer.
        if (outcome.unproven === undefined && outcome.plausible && outcome.nextHopMtu < p.size) {
          p.result = 'tooBig';
          p.tooBig = { from: outcome.from, mtu: outcome.nextHopMtu };
        }
        return;
      case 'localTooBig':
        p.result = 'localTooBig';
        p.localMtu = outcome.mtu;
        return;
      case 'unreachable':
        if (outcome.unproven === undefined) {
          p.result = 'unreachable';
          p.unreachable = `${outcome.reason} from ${outcome.from}`;
        }
        return;
      default:
        return; // time exceeded (TTL not limited here), or an explicit 'lost': the timeout decides
    }
  }

  /**
   * The target's name resolves to another address now: the search about to run is on that address,
   * and its result is told as one 'address' change (whatever its PMTU), with these words first.
   */
  addressChanged(detail: string): void {
    this.moved = detail;
  }

  searchDone(result: SearchOutcome, now: number): void {
    const moved = this.moved;
    this.moved = undefined;
    this.searching = false;
    this.error = undefined;
    this.family = result.family;
    this.localMtu = result.localMtu;
    this.misses = 0;
    this.silent = 0;
    const before = this.pmtu;
    const purpose = this.lastPurpose;
    const trigger = this.lastTrigger;
    if (result.pmtu === null) {
      if (purpose === 'up' && !result.unreachable) {
        // The current PMTU itself no longer passed: a search down finds what does.
        this.askSearch({ purpose: 'down', trigger: { kind: 'loss' } });
        return;
      }
      if (purpose === 'reachable') {
        this.nextConfirmAt = now + this.opts.intervalMs; // answered a small probe, not a search: still down
        return;
      }
      this.goUnreachable(now, result.reason ?? 'no answer');
      return;
    }
    const pmtu = result.pmtu;
    const wasUnreachable = purpose === 'reachable';
    this.phase = 'confirming';
    this.nextConfirmAt = now + this.opts.intervalMs;
    this.raiseAt = now + this.opts.raiseMs;
    if (moved !== undefined) {
      this.set(pmtu, result.blackHole);
      this.emit(now, 'address', before, `${moved}; path MTU ${pmtu}${result.blackHole ? `, black hole above ${pmtu}` : ''}`);
      return;
    }
    if (purpose === 'initial' && before === null) {
      this.set(pmtu, result.blackHole);
      this.emit(now, 'initial', null, initialDetail(result), result.blackHole ? {} : firstPtb(result, pmtu));
      return;
    }
    if (wasUnreachable) {
      this.set(pmtu, result.blackHole);
      this.emit(now, 'reachable', null, `answers again; path MTU ${pmtu}${result.blackHole ? `, black hole above ${pmtu}` : ''}`);
      return;
    }
    if (before !== null && pmtu < before) {
      this.set(pmtu, result.blackHole);
      const ptb = firstPtb(result, pmtu);
      if (pmtu === result.localMtu) {
        // This host's own interface is the limit now (it was larger than `before`): no router to blame.
        this.emit(now, 'local-mtu', before, `local interface MTU ${result.localMtu}`);
      } else if (result.blackHole) {
        const via = trigger?.kind === 'ptb' ? `PTB ${trigger.mtu} from ${trigger.from}, then ` : '';
        this.emit(now, 'black-hole', before, `${via}black hole above ${pmtu}`);
      } else if (ptb.ptbFrom !== undefined) {
        this.emit(now, 'ptb', before, `PTB ${pmtu} from ${ptb.ptbFrom}`, ptb);
      } else if (trigger?.kind === 'ptb') {
        this.emit(now, 'ptb', before, `PTB ${trigger.mtu} from ${trigger.from}`, { ptbFrom: trigger.from });
      } else {
        this.emit(now, 'black-hole', before, `probes above ${pmtu} vanish${result.exact ? '' : ` (${result.reason ?? 'not exact'})`}`);
      }
      return;
    }
    if (before !== null && pmtu > before && purpose === 'up') {
      this.set(pmtu, result.blackHole);
      this.emit(now, 'raise', before, `raise to ${pmtu} succeeded`);
      return;
    }
    // Same value (a false alarm: a lost probe, a stale PTB), or a search down that found more than
    // the PMTU it was bounded by (cannot be: max is the PMTU): nothing changed but what was learnt.
    // A search bounded by the PMTU cannot tell a black hole above it: only a search up does.
    if (pmtu === before && purpose === 'up') this.blackHole = result.blackHole;
  }

  /** The search could not run (name no longer resolves, a socket error...). Retried at the interval. */
  searchFailed(err: Error, now: number): void {
    this.moved = undefined;
    this.searching = false;
    this.error = err.message;
    if (this.pmtu !== null) {
      this.phase = 'confirming';
      this.nextConfirmAt = now + this.opts.intervalMs;
      return;
    }
    if (this.phase === 'unreachable') this.nextConfirmAt = now + this.opts.intervalMs;
    else {
      this.phase = 'error';
      this.retryAt = now + this.opts.intervalMs;
    }
  }

  // ---------------------------------------------------------------------------------------------

  private lastPurpose: SearchPurpose = 'initial';
  /** Set by addressChanged() for the search that runs next. */
  private moved: string | undefined;
  private lastTrigger: Trigger | undefined;

  private askSearch(s: SearchRequest): void {
    this.pendingSearch = s;
    this.lastPurpose = s.purpose;
    this.lastTrigger = s.trigger;
  }

  private set(pmtu: number, blackHole: boolean): void {
    this.pmtu = pmtu;
    this.blackHole = blackHole;
  }

  private emit(now: number, reason: WatchReason, previous: number | null, detail: string, extra: { ptbFrom?: string } = {}): void {
    this.changes.push({ reason, pmtu: this.pmtu, previous, blackHole: this.blackHole, detail, atMs: now, ...(extra.ptbFrom !== undefined ? { ptbFrom: extra.ptbFrom } : {}) });
  }

  private goUnreachable(now: number, why: string): void {
    const previous = this.pmtu;
    const first = this.phase === 'searching' && previous === null;
    this.phase = 'unreachable';
    this.round = null;
    this.nextConfirmAt = now + this.opts.intervalMs;
    this.raiseAt = Infinity;
    if (previous === null && !first) return; // already unknown: nothing to tell again
    this.pmtu = null;
    this.blackHole = false;
    this.emit(now, 'unreachable', previous, why);
  }

  private controlSize(): number {
    const floor = this.opts.min ?? MIN_MTU[this.family ?? 4];
    return this.pmtu !== null ? Math.min(floor, this.pmtu) : floor;
  }

  /**
   * The raise timer is due and no round or search is in the way: the caller may refresh `localMtu`
   * (the interface MTU may have grown since the last search) before the next poll.
   */
  raiseDue(now: number): boolean {
    return this.phase === 'confirming' && !this.searching && this.pendingSearch === null && this.round === null && now >= this.raiseAt;
  }

  /** Settle the round in flight, start searches or rounds that are due. */
  private step(now: number, probes: ProbeRequest[]): void {
    if (this.pendingSearch !== null) return;
    if (this.phase === 'error') {
      if (now >= this.retryAt) {
        this.retryAt = Infinity;
        this.askSearch({ purpose: 'initial' });
      }
      return;
    }
    if (this.round !== null) {
      const timeout = this.timeoutMs;
      for (const p of [this.round.confirm, this.round.control]) {
        if (p !== undefined && p.result === undefined && now >= p.sentAt + timeout) p.result = 'lost';
      }
      if (!this.settle(now)) return;
    }
    if (this.pendingSearch !== null) return;
    if (this.phase === 'confirming' && now >= this.raiseAt && this.round === null) {
      // A name's search is asked for even at the ceiling: its caller resolves it again there.
      if (this.pmtu !== null && (this.pmtu < this.ceiling() || this.opts.searchAtRaise === true)) {
        this.askSearch({ purpose: 'up', min: this.pmtu });
        return;
      }
      this.raiseAt = now + this.opts.raiseMs; // already at the largest size this host can send
    }
    if (this.round === null && now >= this.nextConfirmAt) this.startRound(now, probes);
  }

  private ceiling(): number {
    const local = this.localMtu ?? Infinity;
    return Math.min(local, this.opts.max ?? Infinity);
  }

  private startRound(now: number, probes: ProbeRequest[]): void {
    const round: Round = { startedAt: now };
    const control = this.controlSize();
    if (this.phase === 'confirming' && this.pmtu !== null) {
      round.confirm = { token: this.nextToken++, size: this.pmtu, sentAt: now };
      probes.push({ token: round.confirm.token, size: this.pmtu, role: 'confirm' });
    }
    // When the PMTU is the floor itself, the confirmation probe is its own control.
    if (round.confirm === undefined || control < round.confirm.size) {
      round.control = { token: this.nextToken++, size: control, sentAt: now };
      probes.push({ token: round.control.token, size: control, role: 'control' });
    }
    this.round = round;
    this.nextConfirmAt = now + this.opts.intervalMs;
  }

  /** Act on the round when its answers decide something; true when it is over. */
  private settle(now: number): boolean {
    const r = this.round!;
    const c = r.confirm;
    const k = r.control;
    // Decisive at once: a validated PTB or the local stack's refusal for the PMTU-sized probe.
    if (c?.result === 'tooBig') {
      this.round = null;
      this.askSearch({ purpose: 'down', max: this.pmtu!, trigger: { kind: 'ptb', from: c.tooBig!.from, mtu: c.tooBig!.mtu } });
      return true;
    }
    if (c?.result === 'localTooBig') {
      this.round = null;
      this.askSearch({ purpose: 'down', max: Math.min(this.pmtu!, c.localMtu!), trigger: { kind: 'local', mtu: c.localMtu! } });
      return true;
    }
    const refused = [c, k].find((p) => p?.result === 'unreachable');
    if (refused !== undefined) {
      this.round = null;
      this.goUnreachable(now, `unreachable: ${refused.unreachable}`);
      return true;
    }
    if ([c, k].some((p) => p !== undefined && p.result === undefined)) return false;
    this.round = null;
    const confirmed = c === undefined || c.result === 'delivered';
    const alive = c?.result === 'delivered' || k?.result === 'delivered';
    if (this.phase === 'unreachable') {
      if (alive) this.askSearch({ purpose: 'reachable' });
      return true;
    }
    if (confirmed && alive) {
      this.misses = 0;
      this.silent = 0;
      return true;
    }
    if (alive) {
      // PMTU-sized probe lost while the small one passed: probe again at once, MAX_PROBES rounds.
      this.silent = 0;
      if (++this.misses >= MAX_PROBES) {
        this.misses = 0;
        this.askSearch({ purpose: 'down', max: this.pmtu!, trigger: { kind: 'loss' } });
      } else this.nextConfirmAt = now;
      return true;
    }
    this.misses = 0;
    if (++this.silent >= MAX_PROBES) {
      this.silent = 0;
      this.goUnreachable(now, `no answer to ${MAX_PROBES} rounds of probes (${[c, k].filter((p) => p !== undefined).map((p) => p!.size).join(' and ')} bytes)`);
    } else this.nextConfirmAt = now;
    return true;
  }

  private wakeAt(): number | null {
    if (this.pendingSearch !== null) return -Infinity;
    if (this.phase === 'error') return this.retryAt === Infinity ? null : this.retryAt;
    let at = this.nextConfirmAt;
    if (this.phase === 'confirming') at = Math.min(at, this.raiseAt);
    const r = this.round;
    if (r !== null) {
      at = Infinity; // a round in flight: its timeouts come first, the next round after it
      for (const p of [r.confirm, r.control]) if (p !== undefined && p.result === undefined) at = Math.min(at, p.sentAt + this.timeoutMs);
      if (at === Infinity) at = -Infinity; // settled by answers: act now
    }
    return at === Infinity ? null : at;
  }
}

function initialDetail(r: SearchOutcome): string {
  const parts = [`path MTU ${r.pmtu}${r.exact ? '' : ' (not exact)'}`];
  if (r.blackHole) parts.push(`black hole above ${r.blackHoleAbove ?? r.pmtu}`);
  else {
    const ptb = firstPtb(r, r.pmtu!);
    if (ptb.ptbFrom !== undefined) parts.push(`PTB ${r.pmtu} from ${ptb.ptbFrom}`);
  }
  return parts.join(', ');
}

/** The router whose accepted PTB named exactly the PMTU found. */
function firstPtb(r: SearchOutcome, pmtu: number): { ptbFrom?: string } {
  const p = r.ptbs.find((x) => x.accepted && x.nextHopMtu === pmtu);
  return p !== undefined ? { ptbFrom: p.from } : {};
}
