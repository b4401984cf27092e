// The shapes trace() takes and returns. Sizes are whole IP packets (header included), as everywhere.
import type { MethodChoice } from '../discover/discover.js';
import type { MethodName } from '../probe/outcome.js';
import type { Family } from '../wire/facts.js';
import type { Direction } from '../probe/prober.js';
import type { Confidence } from '../explain/types.js';
import type { Engine } from '../engine/engine.js';

export interface TraceOptions {
  /** Address family: 4 or 6 (default: what the name resolves to first). */
  family?: Family;
  /** Probe method, as for discover (default 'auto'). Every phase of the trace uses the one discover settled on. */
  method?: MethodChoice;
  /** Highest TTL / hop limit to try (default 30). */
  maxHops?: number;
  /** Largest size to consider (default: the MTU of the outgoing interface). */
  max?: number;
  /** Longest wait for one answer, in ms (default adaptive from the RTT, at most 3000). */
  timeoutMs?: number;
  /** Destination port for tcp (default 443) or first port for udp (default 33434). */
  port?: number;
  /**
   * Look up reverse names of the hops (default false in the library, the CLI's default is on).
   * Each lookup is capped at 500 ms and never delays the answer beyond that.
   */
  names?: boolean;
  signal?: AbortSignal;
  /** What the trace is doing, for progress displays. */
  onEvent?: (event: TraceEvent) => void;
  /**
   * Called once, before the first probe, when every socket the trace may use is open (see
   * DiscoverOptions.onSocketsOpen): nothing after it needs privilege. The CLI gives up root here.
   */
  onSocketsOpen?: () => void;
  /** The engine to run on (default: the process-wide one): its scheduler times every round, under its rate cap. */
  engine?: Engine;
}

export type TracePhase = 'discover' | 'hops' | 'drops' | 'black-hole' | 'names';

export type TraceEvent =
  | { type: 'phase'; phase: TracePhase; atMs: number }
  | { type: 'probes'; phase: TracePhase; sent: number; outstanding: number; atMs: number };

/** What a router's packet-too-big said, as it appears on its hop. */
export interface HopPtb {
  /** The PTB's source: the hop's own address, or the only name a silent hop has. */
  from: string;
  nextHopMtu: number;
  /** False when the value is contradicted by a delivery or implausible; see `reason`. */
  accepted: boolean;
  reason: string;
}

export interface TraceHop {
  /** TTL / hop limit at which this hop answers. */
  ttl: number;
  /** Who answered (time-exceeded, or the destination itself); null for a silent hop (`*`). */
  address: string | null;
  /** Reverse DNS name, when asked for and found in time. */
  name?: string;
  /** Round-trip time of the small probe this hop answered, in ms. */
  rttMs: number | null;
  /**
   * Path MTU to this hop: the largest packet that reaches it (what a TTL-limited probe of that size
   * measures, as tracepath and scamper show). A drop on the link after hop k shows from hop k + 1
   * on; the drop itself, its sender and evidence are in `drops`. For the destination, the path
   * MTU. Carried over across silent hops; null when a black hole is only bracketed and this hop
   * lies inside the bracket (it may or may not be behind the link).
   */
  mtu: number | null;
  /** The packet-too-big this router sent (its egress MTU), when it sent one. */
  ptb?: HopPtb;
  /** This hop is the destination. */
  destination?: boolean;
  /** Unreachable reported at this hop (the path ends here). */
  unreachable?: string;
}

/** Where large packets vanish without an ICMP error (scamper's TTL-limited location). */
export interface BlackHole {
  /** The link that eats them starts after this TTL (0: the first link, from this host). */
  afterTtl: number;
  /** Last hop that still answered a probe of the vanishing size (null: this host). */
  lastAnswering: string | null;
  /** First hop beyond it that answers small probes but not the large one (null: none answered). */
  firstSilent: string | null;
  /** TTL of firstSilent; more than afterTtl + 1 when silent hops lie in between. */
  firstSilentTtl: number | null;
  /** Size of the probes that vanish (the path MTU + 1). */
  size: number;
  /**
   * The link is after hop afterTtl and no later than after hop afterTtlMax. Equal to afterTtl when
   * the place is pinned; larger when hops in between never answered (silent, or their ICMP rate
   * limit spent even after a pause for it to refill): then `uncertain` is true.
   */
  afterTtlMax: number;
  uncertain: boolean;
  /**
   * 'answers': hops beyond the link still answer small probes, so it is the size that vanishes (a
   * router dropping its "fragmentation needed", or an L2 MTU mismatch). 'silent': nothing beyond
   * answers at all, so this cannot be told apart from a path that filters all ICMP.
   */
  beyond: 'answers' | 'silent';
}

export interface BogusPtb {
  from: string;
  /** Hop of the sender, when it could be placed. */
  ttl: number | null;
  nextHopMtu: number;
  /** Size of a probe that was delivered although the PTB said it could not be. */
  contradictedBy: number;
}

/** A place where the path MTU gets smaller. */
export interface MtuDrop {
  /** The link after this TTL is the smaller one (0: this host's first link). */
  afterTtl: number;
  from: number;
  to: number;
  /** Who said so: a router's PTB (its address), this host's stack, or a located black hole. */
  evidence: 'ptb' | 'local' | 'black-hole' | 'unexplained';
  by: string | null;
  /**
   * Present only when the evidence brackets the place instead of pinning it: the link is after one
   * of the hops afterTtl..afterTtlMax (a black hole next to hops that never answered).
   */
  uncertain?: true;
  afterTtlMax?: number;
  /** The sender's PTB named no usable next-hop MTU (0, an RFC 792 router): `to` comes from probing. */
  zeroMtu?: true;
}

/** The host's own interface allows more than the first link carries (VXLAN, L2 mismatch, ...). */
export interface FirstHop {
  interfaceMtu: number;
  /** What actually crosses the first link. */
  carries: number;
  evidence: 'ptb' | 'local' | 'black-hole';
}

export interface TraceResult {
  target: string;
  address: string;
  family: Family;
  method: MethodName;
  direction: Direction;
  /** The path MTU (from discover), or null when none was found. */
  pmtu: number | null;
  exact: boolean;
  localMtu: number;
  /** The destination answered within maxHops. */
  reached: boolean;
  hops: TraceHop[];
  drops: MtuDrop[];
  firstHop: FirstHop | null;
  blackHole: BlackHole | null;
  bogusPtbs: BogusPtb[];
  /** Likely causes of the path MTU (src/explain), most likely first. */
  explanation: Array<{ cause: string; overhead: number; underlay: number; confidence: Confidence }>;
  fixes: Array<{ what: string; command: string }>;
  /** explain()'s one-paragraph summary of the path MTU. */
  summary: string | null;
  /** Probes sent by the trace phases and by discover. */
  probes: number;
  elapsedMs: number;
  /** Why there is no path MTU, or why the picture is incomplete. */
  reason?: string;
  aborted: boolean;
}
