// The scheduler: one timer for every job's wake-ups, a global rate cap, and the per-router mirror
// of ICMP error budgets (pacing.ts). A job is anything that sends probes in steps — a PMTU search, a
// trace's rounds, a ping series — and says when it next wants to run:
//
//   const h = scheduler.add({ step(now) { ...send...; return { sent, wakeAt } } });
//   on an answer:  record it in the job, then scheduler.wake(h)   (the job runs again soon)
//   when done:     scheduler.remove(h)
//
// step() runs when the job's own wake-up time has come or wake() asked for it, and only while the
// global token bucket allows (a step's probes go out whole: the bucket may go into debt, and the
// next step waits until it is paid). Jobs waiting for the cap run in the order they became due.
// There is one setTimeout (for the earliest wake-up, or the bucket's refill) and one setImmediate
// (for jobs woken by answers), however many jobs run: 1,000 concurrent searches do not make 1,000
// timers.
import { MinHeap, type HeapEntry } from './heap.js';
import { LINUX_ICMP_PEER_LIMIT, Pacer } from './pacing.js';
import { DEFAULT_RATE_PPS } from './timing.js';

export interface StepResult {
  /** Probes this step sent (counted against the rate cap). */
  sent: number;
  /** When to run again on the scheduler's clock (ms), or null to wait for wake(). */
  wakeAt: number | null;
}

export interface Job {
  step(now: number): StepResult;
  /** A step threw: the job is removed and told why (default: the error is rethrown asynchronously). */
  fail?(err: unknown): void;
}

export interface JobHandle {
  readonly job: Job;
}

interface Slot extends JobHandle {
  /** Generation of the job's one timer: a heap entry of an older generation is stale. */
  gen: number;
  queued: boolean;
  removed: boolean;
  /** A one-shot timer (after()): runs even while the rate cap holds the jobs back. */
  unpaced?: boolean;
}

interface TimerEntry extends HeapEntry {
  slot: Slot;
  gen: number;
}

export interface SchedulerOptions {
  /** Global cap on probes per second, all jobs together (default DEFAULT_RATE_PPS, 2,000). */
  ratePps?: number;
  /** Probes the cap lets out at once (default max(10, 1% of ratePps)). */
  burst?: number;
  /** Clock in ms (default performance.now). */
  clock?: () => number;
}

/** Errors a router sends us while its mirrored budget says it cannot, before we stop believing it limits them. */
const OVERDRAFT_UNLIMITED = 2 * LINUX_ICMP_PEER_LIMIT.burst;

export class Scheduler {
  readonly ratePps: number;
  readonly pacer: Pacer;
  readonly #clock: () => number;
  readonly #timers = new MinHeap<TimerEntry>();
  #due: Slot[] = [];
  #dueHead = 0;
  #seq = 0;
  #jobs = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #immediate: NodeJS.Immediate | undefined;
  #running = false;
  /** Per router: errors received while the mirror said its budget was spent. */
  readonly #overdraft = new Map<string, number>();
  /** Routers that send more errors than a Linux budget allows: they do not limit (this kind). */
  readonly #unlimited = new Set<string>();

  constructor(opts: SchedulerOptions = {}) {
    this.#clock = opts.clock ?? (() => performance.now());
    this.ratePps = opts.ratePps ?? DEFAULT_RATE_PPS;
    this.pacer = new Pacer({ ratePps: this.ratePps, ...(opts.burst !== undefined ? { burst: opts.burst } : {}) }, this.#clock());
  }

  now(): number {
    return this.#clock();
  }

  /** Jobs added and not yet removed. */
  get jobs(): number {
    return this.#jobs;
  }

  /** Add a job; its first step runs as soon as the cap allows. */
  add(job: Job): JobHandle {
    const slot: Slot = { job, gen: 0, queued: false, removed: false };
    this.#jobs++;
    this.#enqueue(slot);
    this.#arm();
    return slot;
  }

  /**
   * Call `fn` once, `ms` from now, on the scheduler's one timer (a job's deadline that is no step of
   * its own: auto's switch to another method). Not paced: it sends nothing by itself.
   */
  after(ms: number, fn: () => void): { cancel(): void } {
    let slot: Slot;
    const job: Job = {
      step: () => {
        this.remove(slot);
        fn();
        return { sent: 0, wakeAt: null };
      },
    };
    slot = { job, gen: 0, queued: false, removed: false, unpaced: true };
    this.#jobs++;
    this.#timers.push({ at: this.now() + Math.max(0, ms), seq: this.#seq++, slot, gen: 0 });
    this.#arm();
    return { cancel: () => this.remove(slot) };
  }

  /** Run the job's step again soon (an answer came). Its pending wake-up, if any, is superseded. */
  wake(handle: JobHandle): void {
    const slot = handle as Slot;
    if (slot.removed) return;
    this.#enqueue(slot);
    this.#arm();
  }

  /** The job is over: no more steps. Idempotent. */
  remove(handle: JobHandle): void {
    const slot = handle as Slot;
    if (slot.removed) return;
    slot.removed = true;
    slot.gen++;
    this.#jobs--;
    if (this.#jobs === 0) this.#disarm();
  }

  /** An ICMP error from `router` reached us: it spent one token of its budget (pacing.ts). */
  routerError(router: string, now = this.now()): void {
    if (this.#unlimited.has(router)) return;
    if (this.pacer.routerExhausted(router, now)) {
      const over = (this.#overdraft.get(router) ?? 0) + 1;
      this.#overdraft.set(router, over);
      // Linux does not limit IPv4 frag-needed nor, by default, IPv6 PTB: a router that keeps
      // answering past its budget has none for us; stop planning for its silence.
      if (over >= OVERDRAFT_UNLIMITED) this.#unlimited.add(router);
    }
    this.pacer.icmpError(router, now);
  }

  /** True when `router`'s next error to us will most likely be dropped: plan for silence. */
  routerExhausted(router: string, now = this.now()): boolean {
    return !this.#unlimited.has(router) && this.pacer.routerExhausted(router, now);
  }

  #enqueue(slot: Slot): void {
    if (slot.queued || slot.removed) return;
    slot.queued = true;
    this.#due.push(slot);
  }

  /** Run what is due now, as far as the cap allows; then arm the one timer for what comes next. */
  #run(): void {
    if (this.#running) return;
    this.#running = true;
    try {
      const now = this.now();
      const timers: Slot[] = [];
      for (let e = this.#timers.peek(); e !== undefined && e.at <= now; e = this.#timers.peek()) {
        this.#timers.pop();
        if (e.gen !== e.slot.gen || e.slot.removed) continue;
        if (e.slot.unpaced) timers.push(e.slot);
        else this.#enqueue(e.slot);
      }
      for (const slot of timers) {
        if (slot.removed) continue;
        try {
          slot.job.step(now);
        } catch (err) {
          process.nextTick(() => {
            throw err;
          });
        }
      }
      while (this.#dueHead < this.#due.length && this.pacer.mayPoll(now)) {
        const slot = this.#due[this.#dueHead++]!;
        slot.queued = false;
        if (slot.removed) continue;
        slot.gen++; // its pending wake-up is superseded by what this step returns
        let r: StepResult;
        try {
          r = slot.job.step(now);
        } catch (err) {
          this.remove(slot);
          if (slot.job.fail) slot.job.fail(err);
          else process.nextTick(() => { throw err; });
          continue;
        }
        this.pacer.sent(r.sent, now);
        if (!slot.removed && r.wakeAt !== null) this.#timers.push({ at: r.wakeAt, seq: this.#seq++, slot, gen: slot.gen });
      }
      if (this.#dueHead === this.#due.length) {
        this.#due = [];
        this.#dueHead = 0;
      } else if (this.#dueHead > 1024 && this.#dueHead * 2 > this.#due.length) {
        this.#due = this.#due.slice(this.#dueHead);
        this.#dueHead = 0;
      }
    } finally {
      this.#running = false;
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#running) return;
    // Jobs woken by answers: on the check phase, so every answer of this poll phase is read first.
    if (this.#dueHead < this.#due.length) {
      const now = this.now();
      if (this.pacer.mayPoll(now)) {
        this.#immediate ??= setImmediate(() => {
          this.#immediate = undefined;
          this.#run();
        });
        return;
      }
      return this.#setTimer(this.pacer.nextPollAt(now));
    }
    // Stale entries (superseded wake-ups, removed jobs) do not hold a timer.
    let e = this.#timers.peek();
    while (e !== undefined && e.gen !== e.slot.gen) {
      this.#timers.pop();
      e = this.#timers.peek();
    }
    if (e === undefined) return this.#disarm();
    this.#setTimer(e.at);
  }

  #setTimer(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run();
    }, Math.max(0, at - this.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }
}
