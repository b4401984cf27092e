// Rank what probably took the bytes: a link whose MTU is the number itself, one encapsulation over a
// common underlay, or two stacked (PPPoE + WireGuard = 1412). Scores are products of how common each
// piece is (the priors in encapsulations.ts); confidence is derived from the score and how far the
// best candidate is ahead, and is never stated as certainty.
import type { Family } from '../wire/facts.js';
import { KNOWN_MTUS, LAYERS, UNDERLAYS, type Layer, type Underlay } from './encapsulations.js';
import type { Candidate, Confidence } from './types.js';

interface Scored extends Candidate {
  score: number;
  /** Highest confidence this kind of match may get (ranges and stacks are vaguer). */
  cap: Confidence;
}

const ORDER: Confidence[] = ['low', 'medium', 'high'];
const lower = (a: Confidence, b: Confidence): Confidence => (ORDER.indexOf(a) < ORDER.indexOf(b) ? a : b);

/** Stacks of two are plausible but rarer than one; halve them. Ranged overheads match many numbers. */
const STACK_FACTOR = 0.5;
const RANGE_FACTOR = 0.5;
/** Tunnel inside tunnel, or two L2 additions, are rarer still than a tunnel over a link (PPPoE, tags). */
const SAME_KIND_FACTOR = 0.3;
/** Stacks are only tried on underlays at least this common, to keep exotic guesses out. */
const STACK_MIN_UNDERLAY_PRIOR = 0.3;

function span(layer: Layer): readonly [number, number] {
  return typeof layer.overhead === 'number' ? [layer.overhead, layer.overhead] : layer.overhead;
}

function spanText(layer: Layer): string {
  const [min, max] = span(layer);
  return min === max ? String(min) : `(${min}..${max})`;
}

const isRanged = (layer: Layer): boolean => typeof layer.overhead !== 'number';

/** Does this layer carry the measured family (unknown family: anything goes)? */
function carries(layer: Layer, family: Family | undefined): boolean {
  return family === undefined || layer.inner === undefined || layer.inner.includes(family);
}

/** Link framing and L2 additions need a real wire; cloud virtual networks only carry IP tunnels. */
function fitsUnderlay(layer: Layer, u: Underlay): boolean {
  return layer.level === 2 || u.physical;
}

function underlaysFor(localMtu: number | undefined): Underlay[] {
  const list = UNDERLAYS.map((u) => ({ ...u }));
  if (localMtu !== undefined) {
    // The host's own link is the most likely underlay of all: we know it exists.
    const known = list.find((u) => u.mtu === localMtu);
    if (known) known.prior = Math.max(known.prior, 1);
    else list.unshift({ mtu: localMtu, name: "this host's interface", prior: 1, physical: true });
  }
  return list;
}

function underlayLabel(u: Underlay): string {
  return `${u.mtu} (${u.name})`;
}

function single(mtu: number, family: Family | undefined, u: Underlay, layer: Layer): Scored | undefined {
  const taken = u.mtu - mtu;
  const [min, max] = span(layer);
  if (taken < min || taken > max || !carries(layer, family) || !fitsUnderlay(layer, u)) return undefined;
  const ranged = isRanged(layer);
  const arithmetic = ranged
    ? `${underlayLabel(u)} - ${taken} = ${mtu}, within ${min}..${max}`
    : `${underlayLabel(u)} - ${taken} = ${mtu}`;
  return {
    cause: layer.cause,
    overhead: taken,
    underlay: u.mtu,
    confidence: 'low',
    note: `${arithmetic}: ${layer.note}`,
    score: u.prior * layer.prior * (ranged ? RANGE_FACTOR : 1),
    cap: ranged ? 'low' : 'high',
  };
}

const minOf = (layer: Layer): number => (typeof layer.overhead === 'number' ? layer.overhead : layer.overhead[0]);
const maxOf = (layer: Layer): number => (typeof layer.overhead === 'number' ? layer.overhead : layer.overhead[1]);

/** `upper` is carried inside `below` (e.g. WireGuard inside PPPoE); its outer family must fit. */
function stack(mtu: number, family: Family | undefined, u: Underlay, below: Layer, upper: Layer): Scored | undefined {
  // Runs for every pair of layers on every underlay: the arithmetic, which rules out nearly all
  // of them, comes first and allocates nothing (this loop was most of `pathmtu explain`'s time).
  const taken = u.mtu - mtu;
  if (taken < minOf(below) + minOf(upper) || taken > maxOf(below) + maxOf(upper)) return undefined;
  // A ranged overhead stacked on another tunnel would explain almost any number: only over link framing.
  if ((isRanged(below) || isRanged(upper)) && below.level === 2) return undefined;
  if (!carries(upper, family) || !fitsUnderlay(below, u)) return undefined;
  if (upper.outer !== undefined && !carries(below, upper.outer)) return undefined;
  const ranged = isRanged(below) || isRanged(upper);
  const cause = below.level === 0 ? `${upper.cause}, plus ${below.cause}` : `${upper.cause} over ${below.cause}`;
  const parts = `${spanText(below)} - ${spanText(upper)}`;
  return {
    cause,
    overhead: taken,
    underlay: u.mtu,
    confidence: 'low',
    note: `${underlayLabel(u)} - ${parts} = ${mtu}: ${below.note}; then ${upper.note}`,
    score:
      u.prior *
      below.prior *
      upper.prior *
      STACK_FACTOR *
      (ranged ? RANGE_FACTOR : 1) *
      (below.level === upper.level ? SAME_KIND_FACTOR : 1),
    cap: ranged ? 'low' : 'medium',
  };
}

function known(mtu: number, family: Family | undefined): Scored[] {
  return KNOWN_MTUS.filter((k) => k.mtu === mtu && (k.family === undefined || family === undefined || k.family === family)).map(
    (k) => ({
      cause: k.cause,
      overhead: 0,
      underlay: k.mtu,
      confidence: 'low' as Confidence,
      note: k.note,
      score: k.prior,
      cap: 'high' as Confidence,
    }),
  );
}

/** Confidence from the score alone, capped by the kind of match. */
function baseConfidence(c: Scored): Confidence {
  return lower(c.score >= 0.5 ? 'high' : c.score >= 0.15 ? 'medium' : 'low', c.cap);
}

/** "High" only for a clear leader: first, and at least twice as likely as the runner-up. */
function confidenceOf(c: Scored, rank: number, next: Scored | undefined): Confidence {
  const level = baseConfidence(c);
  if (level === 'high' && (rank > 0 || (next !== undefined && next.score * 2 > c.score))) return 'medium';
  return level;
}

/** Cause prefix of the fallback candidate, so callers can tell "nothing fits" apart. */
export const UNEXPLAINED = 'no common cause';

/** Nothing in the tables fits: say how many bytes are missing from the nearest common underlay. */
function unexplained(mtu: number, underlays: Underlay[]): Candidate {
  // The most common underlay above the number (Ethernet for most), the nearest one on a tie.
  const above = underlays.filter((u) => u.mtu > mtu).sort((a, b) => b.prior - a.prior || a.mtu - b.mtu)[0];
  if (above === undefined) {
    return {
      cause: 'a link configured to this MTU',
      overhead: 0,
      underlay: mtu,
      confidence: 'low',
      note: 'larger than the common jumbo sizes; a custom interface or switch setting',
    };
  }
  const taken = above.mtu - mtu;
  return {
    cause: `${UNEXPLAINED}: ${taken} bytes below ${above.name}`,
    overhead: taken,
    underlay: above.mtu,
    confidence: 'low',
    note: `no common encapsulation adds exactly ${taken} bytes to ${underlayLabel(above)}; perhaps several stacked tunnels, an MTU someone configured by hand, or a router reporting a wrong next-hop MTU`,
  };
}

export interface RankOptions {
  family?: Family;
  localMtu?: number;
  /** How many candidates to return at most. */
  limit?: number;
}

/** Likely causes of a path MTU, most likely first. Pure: same input, same list. */
export function rankCandidates(mtu: number, options: RankOptions = {}): Candidate[] {
  const { family, localMtu, limit = 6 } = options;
  const underlays = underlaysFor(localMtu);
  const found: Scored[] = known(mtu, family);
  for (const u of underlays) {
    if (u.mtu <= mtu) continue;
    for (const layer of LAYERS) {
      const one = single(mtu, family, u, layer);
      if (one) found.push(one);
    }
    if (u.prior < STACK_MIN_UNDERLAY_PRIOR) continue;
    for (const below of LAYERS) {
      for (const upper of LAYERS) {
        if (below === upper || below.level > upper.level) continue;
        // Same level: keep one order only (table order), so A+B and B+A are not both listed.
        if (below.level === upper.level && LAYERS.indexOf(below) > LAYERS.indexOf(upper)) continue;
        const two = stack(mtu, family, u, below, upper);
        if (two) found.push(two);
      }
    }
  }
  if (found.length === 0) return [unexplained(mtu, underlays)];
  // Stable order: confidence, score, then fewer bytes of overhead, then name. Names compare by code
  // unit, not localeCompare: the order must not depend on the user's locale, and ICU's collator
  // costs more to start than all of `pathmtu explain` (README, "Start-up").
  const level = (c: Scored): number => ORDER.indexOf(baseConfidence(c));
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  found.sort(
    (a, b) => level(b) - level(a) || b.score - a.score || a.overhead - b.overhead || byName(a.cause, b.cause),
  );
  const seen = new Set<string>();
  const unique = found.filter((c) => {
    const key = `${c.cause}@${c.underlay}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.slice(0, limit).map((c, i, all) => ({
    cause: c.cause,
    overhead: c.overhead,
    underlay: c.underlay,
    confidence: confidenceOf(c, i, all[i + 1]),
    note: c.note,
  }));
}
