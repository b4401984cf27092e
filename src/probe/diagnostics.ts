// Every probe any tool sends, and what became of it, published on one diagnostics_channel
// ('pathmtu:probe', as undici publishes its requests) in one shape, and logged with
// util.debuglog('pathmtu') when NODE_DEBUG=pathmtu is set. Both cost one boolean test per probe
// when nobody listens.
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import type { Family } from '../wire/facts.js';
import type { Outcome } from './outcome.js';

/** The diagnostics_channel every probe and outcome is published on. */
export const PROBE_CHANNEL = 'pathmtu:probe';

/** The tool that sent the probe. */
export type ProbeTool = 'discover' | 'trace' | 'ping' | 'check-server' | 'inject';

interface ProbeMessageBase {
  tool: ProbeTool;
  /**
   * How it was sent: a probe method (icmp, icmp-dgram, udp, tcp), or 'ptb' for the crafted
   * "fragmentation needed" / "packet too big" that check-server and inject send.
   */
  method: string;
  family: Family;
  /** The address probed (for a PTB: the host it was sent to). */
  target: string;
  /** Whole IP packet size of the probe (for a PTB: the size of the packet it says was too big). */
  size: number;
  /** TTL / hop limit, when the probe was limited. */
  ttl?: number;
  /** Pairs a probe with its outcomes; unique within one run of one tool. */
  token: number;
  /** Milliseconds since the tool's run began. */
  atMs: number;
}

/** A probe left. */
export interface ProbeSentMessage extends ProbeMessageBase {
  type: 'probe';
  /** A PTB's next-hop MTU (method 'ptb' only). */
  nextHopMtu?: number;
}

/** What became of a probe: an answer, or 'lost' when its wait ended without one. */
export interface ProbeOutcomeMessage extends ProbeMessageBase {
  type: 'outcome';
  /**
   * The outcome's kind (delivered, tooBig, localTooBig, timeExceeded, unreachable, lost); for
   * check-server, its verdict on the server (success, ignored, cleared-df, ...).
   */
  kind: string;
  /** The probe outcome itself (absent for check-server's verdict). */
  outcome?: Outcome;
  /** Words for a verdict or an outcome that has a reason. */
  reason?: string;
}

export type ProbeMessage = ProbeSentMessage | ProbeOutcomeMessage;

const probeChannel = channel(PROBE_CHANNEL);
const debug = debuglog('pathmtu');

/** Publish one message (subscribers of 'pathmtu:probe') and log it under NODE_DEBUG=pathmtu. */
export function publishProbe(message: ProbeMessage): void {
  if (probeChannel.hasSubscribers) probeChannel.publish(message);
  if (debug.enabled) debug('%s', describeProbe(message));
}

/** True when someone listens: callers may skip building messages otherwise. */
export function probeDiagnosticsActive(): boolean {
  return probeChannel.hasSubscribers || debug.enabled;
}

/** One line per message, as NODE_DEBUG=pathmtu prints it. */
export function describeProbe(m: ProbeMessage): string {
  const head = `${m.tool} ${m.type} ${m.method} ${m.target} size=${m.size}${m.ttl !== undefined ? ` ttl=${m.ttl}` : ''} token=${m.token} at=${m.atMs.toFixed(2)}ms`;
  if (m.type === 'probe') return m.nextHopMtu !== undefined ? `${head} nextHopMtu=${m.nextHopMtu}` : head;
  const o = m.outcome;
  const parts = [`${head} ${m.kind}`];
  if (o !== undefined && 'from' in o) parts.push(`from=${o.from}`);
  if (o?.rttMs !== undefined) parts.push(`rtt=${o.rttMs.toFixed(3)}ms`);
  if (o?.kind === 'tooBig') parts.push(`nextHopMtu=${o.nextHopMtu}${o.plausible ? '' : ' (implausible)'}`);
  if (o?.kind === 'localTooBig') parts.push(`mtu=${o.mtu}`);
  if (m.reason !== undefined) parts.push(`(${m.reason})`);
  return parts.join(' ');
}

/**
 * A tool run's publisher: fixes tool, family, target and the start time, so each probe is one
 * call. Cheap when nobody listens (nothing is built).
 */
export class ProbeReporter {
  readonly #tool: ProbeTool;
  readonly #family: Family;
  readonly #target: string;
  readonly #t0: number;

  constructor(tool: ProbeTool, family: Family, target: string, startedAt: number = performance.now()) {
    this.#tool = tool;
    this.#family = family;
    this.#target = target;
    this.#t0 = startedAt;
  }

  #base(method: string, token: number, size: number, ttl: number | undefined): ProbeMessageBase {
    const base: ProbeMessageBase = { tool: this.#tool, method, family: this.#family, target: this.#target, size, token, atMs: performance.now() - this.#t0 };
    if (ttl !== undefined) base.ttl = ttl;
    return base;
  }

  sent(method: string, token: number, size: number, ttl?: number, nextHopMtu?: number): void {
    if (!probeDiagnosticsActive()) return;
    const m: ProbeSentMessage = { type: 'probe', ...this.#base(method, token, size, ttl) };
    if (nextHopMtu !== undefined) m.nextHopMtu = nextHopMtu;
    publishProbe(m);
  }

  /** An outcome of the probe `token` (a probe outcome, or 'lost' when its wait ended). */
  settled(method: string, token: number, outcome: Outcome): void {
    if (!probeDiagnosticsActive()) return;
    const m: ProbeOutcomeMessage = { type: 'outcome', ...this.#base(method, token, outcome.size, outcome.ttl), kind: outcome.kind, outcome };
    if ('reason' in outcome && outcome.reason !== undefined) m.reason = outcome.reason;
    publishProbe(m);
  }

  /** A verdict that is no probe outcome (check-server's judgement of the server). */
  verdict(method: string, token: number, size: number, kind: string, reason: string): void {
    if (!probeDiagnosticsActive()) return;
    publishProbe({ type: 'outcome', ...this.#base(method, token, size, undefined), kind, reason });
  }
}
