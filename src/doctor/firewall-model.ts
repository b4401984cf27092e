// The firewall question doctor asks, independent of where the rules came from: would this host's
// INPUT hook let a "fragmentation needed" (ICMP type 3 code 4) or an ICMPv6 "packet too big"
// (type 2) in? If not, the host is its own PMTUD black hole: routers do their job, the answer is
// thrown away on arrival, and TCP stalls on every path narrower than the local link.
//
// nftables (JSON) and iptables-save are both translated to this small model (tables of chains of
// rules); one evaluator walks it like the kernel does, rule by rule, following jumps, ending at
// the base chain's policy. A condition the evaluator cannot decide (a source address, an input
// interface, a rate limit) makes the answer "maybe" instead of a guess.
import type { Family } from '../wire/facts.js';
import { ICMP6_PACKET_TOO_BIG, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from '../wire/icmp-types.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../wire/protocols.js';

/** The packet whose fate we ask about: a PTB arriving for a flow this host started. */
export interface PtbPacket {
  family: Family;
  /** IP protocol number of the ICMP message: 1 (ICMP) or 58 (ICMPv6). */
  l4proto: number;
  type: number;
  code: number;
}

/** IPv4: destination unreachable (3), fragmentation needed and DF set (4) — RFC 1191. */
export const FRAG_NEEDED: PtbPacket = { family: 4, l4proto: IPPROTO_ICMP, type: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED };
/** IPv6: packet too big (2), code 0 — RFC 8201. */
export const PACKET_TOO_BIG: PtbPacket = { family: 6, l4proto: IPPROTO_ICMPV6, type: ICMP6_PACKET_TOO_BIG, code: 0 };

/**
 * Three-valued truth of a rule's condition for the packet. A PTB for our own flow is conntrack
 * state "related" and never arrives on the loopback interface: those are decided; anything about
 * addresses, interfaces, marks or rates is 'maybe'.
 */
export type Tri = 'yes' | 'no' | 'maybe';

export type Verdict =
  | { kind: 'accept' | 'drop' | 'reject' | 'return' }
  | { kind: 'jump' | 'goto'; target: string };

/** One way a rule can end: its condition for this packet, and the verdict it then gives. */
export interface Branch {
  when: Tri;
  verdict: Verdict;
}

export interface FwRule {
  /** How a human finds the rule: `handle 7` (nft) or the iptables-save line. */
  ref: string;
  /** The rule as text, for the report. */
  text: string;
  /** The branches this rule takes for the packet (a verdict map has several; plain rules one; none = no verdict). */
  branches(p: PtbPacket): Branch[];
}

export interface FwChain {
  name: string;
  rules: FwRule[];
  /** Set on base chains (attached to a hook). `type` is nft's chain type (filter, nat, route). */
  base?: { hook: string; priority: number; policy: 'accept' | 'drop'; type?: string };
}

export type FwSource = 'nftables' | 'iptables' | 'ip6tables';

export interface FwTable {
  source: FwSource;
  /** nft family (ip, ip6, inet, ...); iptables tables are 'ip' / 'ip6'. */
  family: string;
  name: string;
  chains: Map<string, FwChain>;
}

/** What happened to the packet in one input base chain. */
export interface ChainFate {
  source: FwSource;
  family: string;
  table: string;
  chain: string;
  /** accept: passes this chain; drop: certainly dropped (or rejected); maybe-drop: dropped under a condition we cannot decide. */
  fate: 'accept' | 'drop' | 'maybe-drop';
  /** The rule that drops it (or may), or undefined when the chain's policy does. */
  rule?: { ref: string; text: string; chain: string };
  /** Chains traversed to reach that rule, base chain first. */
  path: string[];
  /** Why the answer is only "maybe" (the undecidable rules met on the way). */
  conditions: string[];
}

/** Does a table of this family see packets of family f? (inet sees both; netdev, bridge, arp are other hooks.) */
export function tableSees(family: string, f: Family): boolean {
  return family === 'inet' || (family === 'ip' && f === 4) || (family === 'ip6' && f === 6);
}

interface Walk {
  /** How the walk ended for sure: a verdict, or falling off the end of a non-base chain. */
  end: 'accept' | 'drop' | 'fallthrough';
  /** Some undecidable branch before that end could have accepted / dropped the packet instead. */
  mayAccept: boolean;
  mayDrop: boolean;
  /** The rule that drops (end = drop), or the first one that may (mayDrop). */
  rule?: { ref: string; text: string; chain: string };
  path: string[];
}

const MAX_DEPTH = 16; // nft itself refuses jump loops; this only stops a malformed ruleset from looping us

/**
 * Evaluate one chain for the packet, rule by rule. An undecidable branch does not stop the walk:
 * it records that the packet may have been accepted or dropped there, and the walk goes on to the
 * first certain end. `conditions` collects those undecidable rules for the report.
 */
function walkChain(table: FwTable, chain: FwChain, p: PtbPacket, conditions: string[], depth: number): Walk {
  const path = [chain.name];
  let mayAccept = false;
  let mayDrop = false;
  let dropRule: Walk['rule'];
  for (const rule of chain.rules) {
    for (const b of rule.branches(p)) {
      if (b.when === 'no') continue;
      const here = { ref: rule.ref, text: rule.text, chain: chain.name };
      let w: Walk;
      switch (b.verdict.kind) {
        case 'accept':
          w = { end: 'accept', mayAccept: false, mayDrop: false, path };
          break;
        case 'drop':
        case 'reject':
          w = { end: 'drop', mayAccept: false, mayDrop: false, rule: here, path };
          break;
        case 'return':
          w = { end: 'fallthrough', mayAccept: false, mayDrop: false, path };
          break;
        case 'jump':
        case 'goto': {
          const sub = table.chains.get(b.verdict.target);
          if (sub === undefined || depth >= MAX_DEPTH) {
            conditions.push(`${rule.ref}: ${b.verdict.kind} to chain ${b.verdict.target}, which could not be followed`);
            mayDrop = true;
            dropRule ??= here;
            continue;
          }
          const s = walkChain(table, sub, p, conditions, depth + 1);
          w = { ...s, path: [...path, ...s.path] };
          break;
        }
      }
      if (b.when === 'maybe') conditions.push(`${rule.ref}: ${rule.text}`);
      const sure = b.when === 'yes';
      // Fold what the branch may have done into this walk's uncertainty.
      if (w.mayAccept || (!sure && w.end === 'accept')) mayAccept = true;
      if (w.mayDrop || (!sure && w.end === 'drop')) {
        mayDrop = true;
        dropRule ??= w.rule;
      }
      if (!sure) continue;
      if (w.end === 'fallthrough') {
        // A jumped-to chain ran out (or returned): carry on here. A goto's chain running out, or
        // a return, ends this chain as well.
        if (b.verdict.kind === 'jump') continue;
        return endOfChain(chain, mayAccept, mayDrop, dropRule, w.path);
      }
      return { ...w, mayAccept, mayDrop, rule: w.end === 'drop' ? w.rule : dropRule };
    }
  }
  return endOfChain(chain, mayAccept, mayDrop, dropRule, path);
}

/** Falling off a chain: a base chain's policy decides; a regular chain returns to its caller. */
function endOfChain(chain: FwChain, mayAccept: boolean, mayDrop: boolean, dropRule: Walk['rule'], path: string[]): Walk {
  if (chain.base) {
    const end = chain.base.policy === 'drop' ? 'drop' : 'accept';
    return { end, mayAccept, mayDrop, rule: end === 'drop' ? undefined : dropRule, path };
  }
  return { end: 'fallthrough', mayAccept, mayDrop, rule: dropRule, path };
}

/**
 * Hooks a PTB addressed to this host passes, in order: prerouting, then input. (A nat chain never
 * sees it: an ICMP error is "related", and nat chains see only a connection's first packet.)
 */
const HOOK_ORDER: Record<string, number> = { prerouting: 0, input: 1 };

function onTheWayIn(chain: FwChain): boolean {
  const b = chain.base;
  if (!b || HOOK_ORDER[b.hook] === undefined) return false;
  return b.type === undefined || b.type === 'filter';
}

/**
 * The packet's fate in every base chain it meets on its way in (prerouting and input filter chains
 * of the tables that see its family), in the order the kernel runs them.
 */
export function inputFates(tables: FwTable[], p: PtbPacket): ChainFate[] {
  const base: Array<{ table: FwTable; chain: FwChain }> = [];
  for (const table of tables) {
    if (!tableSees(table.family, p.family)) continue;
    for (const chain of table.chains.values()) if (onTheWayIn(chain)) base.push({ table, chain });
  }
  base.sort((a, b) => HOOK_ORDER[a.chain.base!.hook]! - HOOK_ORDER[b.chain.base!.hook]! || a.chain.base!.priority - b.chain.base!.priority);
  return base.map(({ table, chain }) => {
    const conditions: string[] = [];
    const w = walkChain(table, chain, p, conditions, 0);
    // A certain drop that an earlier undecidable rule may have accepted first is only a "maybe";
    // so is a certain accept that an earlier undecidable rule may have dropped.
    const fate: ChainFate['fate'] = w.end === 'drop' ? (w.mayAccept ? 'maybe-drop' : 'drop') : w.mayDrop ? 'maybe-drop' : 'accept';
    return {
      source: table.source,
      family: table.family,
      table: table.name,
      chain: chain.name,
      fate,
      ...(fate !== 'accept' && w.rule ? { rule: w.rule } : {}),
      path: w.path,
      conditions: fate === 'maybe-drop' ? conditions : [],
    };
  });
}

/** Three-valued helpers for the translators. */
export const tri = {
  and(values: Tri[]): Tri {
    if (values.includes('no')) return 'no';
    return values.includes('maybe') ? 'maybe' : 'yes';
  },
  not(v: Tri): Tri {
    return v === 'yes' ? 'no' : v === 'no' ? 'yes' : 'maybe';
  },
  of(b: boolean): Tri {
    return b ? 'yes' : 'no';
  },
};
