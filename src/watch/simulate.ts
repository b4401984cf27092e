// The watch machine against a simulated path (src/search/simulate.ts) on a virtual clock: its
// confirmation probes and the searches it asks for (PathMtuSearch) cross the same SimPath, whose
// model a script changes mid-run (a link MTU lowered, a router that starts dropping its PTBs, a
// target that goes silent). Pure and seeded: same seed, same run.
import { PathMtuSearch } from '../search/search.js';
import { SimPath, type SimEvent, type SimPathModel } from '../search/simulate.js';
import { WatchMachine, type Change, type MachineOptions, type SearchOutcome, type SearchRequest } from './machine.js';

export interface WatchScriptStep {
  atMs: number;
  /** Change the model in place (its hops, silentTarget...). */
  apply: (model: SimPathModel) => void;
}

export interface WatchSimResult {
  changes: Change[];
  /** Every probe sent: confirmation rounds and searches. */
  probes: number;
  searches: Array<{ atMs: number; request: SearchRequest; result: SearchOutcome; endMs: number }>;
  machine: WatchMachine;
}

/** Run a PathMtuSearch for `req` on `sim` from `start`; returns what it found and when it ended. */
export function searchOn(sim: SimPath, req: SearchRequest, opts: { min?: number; max?: number }, start: number): { result: SearchOutcome; endMs: number; probes: number } {
  const localMtu = sim.model.localMtu ?? 1500;
  const max = Math.min(req.max ?? opts.max ?? localMtu, localMtu);
  const floor = req.min ?? opts.min;
  const search = new PathMtuSearch({ family: sim.family, max, maxIsLocal: max >= localMtu, ...(floor !== undefined ? { floor } : {}) }, start);
  const queue: Array<SimEvent & { token: number; seq: number }> = [];
  let seq = 0;
  let now = start;
  for (let step = 0; step < 100_000; step++) {
    const { send, wakeAt } = search.poll(now);
    for (const o of send) for (const e of sim.send(o.size, now)) queue.push({ ...e, token: o.token, seq: seq++ });
    if (search.finished) break;
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = Math.min(queue.length > 0 ? queue[0].at : Infinity, wakeAt ?? Infinity);
    if (next === Infinity) break;
    now = Math.max(now, next);
    while (queue.length > 0 && queue[0].at <= now) {
      const e = queue.shift()!;
      search.record(e.token, e.outcome, now);
    }
  }
  const r = search.result();
  return {
    result: {
      family: sim.family,
      pmtu: r.pmtu,
      exact: r.exact,
      blackHole: r.blackHole,
      unreachable: r.reason?.startsWith('unreachable') ?? false,
      localMtu,
      ptbs: r.ptbs,
      ...(r.blackHoleAbove !== undefined ? { blackHoleAbove: r.blackHoleAbove } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    },
    endMs: now,
    probes: r.probes,
  };
}

export function simulateWatch(model: SimPathModel, opts: MachineOptions, untilMs: number, script: WatchScriptStep[] = [], seed = 1): WatchSimResult {
  const sim = new SimPath(model, seed);
  const machine = new WatchMachine(opts);
  const steps = [...script].sort((a, b) => a.atMs - b.atMs);
  const answers: Array<SimEvent & { token: number; seq: number }> = [];
  const out: WatchSimResult = { changes: [], probes: 0, searches: [], machine };
  let seq = 0;
  let now = 0;
  let searchEnd: { at: number; result: SearchOutcome } | null = null;
  for (let i = 0; i < 10_000_000 && now <= untilMs; i++) {
    while (steps.length > 0 && steps[0].atMs <= now) steps.shift()!.apply(model);
    if (searchEnd !== null && searchEnd.at <= now) {
      machine.searchDone(searchEnd.result, now);
      searchEnd = null;
    }
    answers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (answers.length > 0 && answers[0].at <= now) {
      const e = answers.shift()!;
      machine.outcome(e.token, e.outcome, now);
    }
    // As the Watcher does: at the raise timer the interface MTU is read again.
    if (machine.raiseDue(now)) machine.localMtu = model.localMtu ?? 1500;
    const p = machine.poll(now);
    out.changes.push(...p.changes);
    for (const probe of p.probes) {
      out.probes++;
      for (const e of sim.send(probe.size, now)) answers.push({ ...e, token: probe.token, seq: seq++ });
    }
    if (p.search !== null) {
      const s = searchOn(sim, p.search, opts, now);
      out.probes += s.probes;
      out.searches.push({ atMs: now, request: p.search, result: s.result, endMs: s.endMs });
      searchEnd = { at: s.endMs, result: s.result };
    }
    const next = Math.min(
      p.wakeAt ?? Infinity,
      searchEnd?.at ?? Infinity,
      answers.length > 0 ? Math.min(...answers.map((a) => a.at)) : Infinity,
      steps.length > 0 ? steps[0].atMs : Infinity,
    );
    if (next === Infinity) break;
    // Never step back; a wake-up that is due now is served on the next pass.
    now = Math.max(now, next);
  }
  return out;
}
