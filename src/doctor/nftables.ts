// `nft -j list ruleset` (libnftables' JSON schema, see libnftables-json(5)) to the firewall model.
// Only what decides a PTB's fate is understood: ICMP/ICMPv6 type and code, the layer-4 protocol,
// the family, conntrack state, the loopback interface, named and anonymous sets, ranges, verdict
// maps and the verdicts. Every other condition is 'maybe'; statements that do not filter
// (counter, log, mangle...) are ignored.
import { DecodeError } from '../errors.js';
import { ICMP_CODES, ICMP_TYPES, ICMPV6_TYPES, PROTOCOLS } from './icmp-names.js';
import { tri, type Branch, type FwChain, type FwRule, type FwTable, type PtbPacket, type Tri, type Verdict } from './firewall-model.js';

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Statements that change nothing about whether the packet passes. */
const NEUTRAL = new Set(['counter', 'log', 'mangle', 'set', 'notrack', 'dup', 'ct helper', 'ct timeout', 'ct expectation', 'secmark', 'last']);
const VERDICTS = new Set(['accept', 'drop', 'reject', 'return', 'jump', 'goto', 'continue', 'queue']);

/** A value on either side of a comparison, as the packet sees it. */
type Field =
  | { kind: 'icmp-type'; v6: boolean }
  | { kind: 'icmp-code'; v6: boolean }
  | { kind: 'l4proto' }
  | { kind: 'nfproto' }
  | { kind: 'ct-state' }
  | { kind: 'iif' }
  /** A header field of another transport protocol (tcp dport, udp sport...): an ICMP packet has none. */
  | { kind: 'absent' };

/** Transport headers an ICMP message does not have; a match on any of their fields fails. */
const OTHER_L4 = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th', 'ah', 'esp', 'comp', 'gre']);

function fieldOf(left: Json): Field | undefined {
  if (!isObj(left)) return undefined;
  const payload = left.payload;
  if (isObj(payload)) {
    const proto = payload.protocol;
    const field = payload.field;
    if ((proto === 'icmp' || proto === 'icmpv6') && (field === 'type' || field === 'code')) {
      return { kind: field === 'type' ? 'icmp-type' : 'icmp-code', v6: proto === 'icmpv6' };
    }
    if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) return { kind: 'l4proto' };
    if (typeof proto === 'string' && OTHER_L4.has(proto)) return { kind: 'absent' };
    return undefined;
  }
  const meta = left.meta;
  if (isObj(meta)) {
    if (meta.key === 'l4proto') return { kind: 'l4proto' };
    if (meta.key === 'nfproto' || meta.key === 'protocol') return { kind: 'nfproto' };
    if (meta.key === 'iif' || meta.key === 'iifname') return { kind: 'iif' };
    return undefined;
  }
  const ct = left.ct;
  if (isObj(ct) && ct.key === 'state' && ct.dir === undefined) return { kind: 'ct-state' };
  return undefined;
}

/** The packet's own value of a field; undefined when the packet has no such field (other protocol). */
function packetValue(f: Field, p: PtbPacket): number | string | undefined {
  switch (f.kind) {
    case 'icmp-type':
    case 'icmp-code':
      if (f.v6 !== (p.family === 6)) return undefined;
      return f.kind === 'icmp-type' ? p.type : p.code;
    case 'l4proto':
      return p.l4proto;
    case 'nfproto':
      return p.family === 4 ? 'ipv4' : 'ipv6';
    case 'ct-state':
      return 'related'; // an ICMP error about a tracked flow of ours
    case 'iif':
    case 'absent':
      return undefined;
  }
}

/** A rule value (name or number) as the field's number; undefined when we do not know the name. */
function scalar(f: Field, v: Json): number | string | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  switch (f.kind) {
    case 'icmp-type':
      return (f.v6 ? ICMPV6_TYPES : ICMP_TYPES)[v];
    case 'icmp-code':
      return f.v6 ? undefined : ICMP_CODES[v];
    case 'l4proto':
      return PROTOCOLS[v] ?? -1; // a protocol we do not list is not ICMP
    case 'nfproto':
      return v === 'ip' ? 'ipv4' : v === 'ip6' ? 'ipv6' : v;
    case 'ct-state':
    case 'iif':
    case 'absent':
      return v;
  }
}

interface Ctx {
  /** Named sets of the rule's table: name -> elements. */
  sets: Map<string, Json[]>;
}

/** Is the packet's value a member of `right` (a value, a set, a range, a named set, a flag list)? */
function member(f: Field, value: number | string, right: Json, ctx: Ctx): Tri {
  if (typeof right === 'string' && right.startsWith('@')) {
    const elems = ctx.sets.get(right.slice(1));
    return elems === undefined ? 'maybe' : anyOf(elems.map((e) => member(f, value, e, ctx)));
  }
  if (Array.isArray(right)) return anyOf(right.map((e) => member(f, value, e, ctx)));
  if (isObj(right)) {
    if (Array.isArray(right.set)) return anyOf(right.set.map((e) => member(f, value, e, ctx)));
    if (Array.isArray(right.range) && right.range.length === 2) {
      const lo = scalar(f, right.range[0]);
      const hi = scalar(f, right.range[1]);
      if (typeof lo !== 'number' || typeof hi !== 'number' || typeof value !== 'number') return 'maybe';
      return tri.of(lo <= value && value <= hi);
    }
    if (isObj(right.elem) && 'val' in right.elem) return member(f, value, right.elem.val, ctx);
    return 'maybe';
  }
  const r = scalar(f, right);
  if (r === undefined) return 'maybe';
  return tri.of(r === value);
}

function anyOf(values: Tri[]): Tri {
  if (values.includes('yes')) return 'yes';
  return values.includes('maybe') ? 'maybe' : 'no';
}

function compare(op: string, f: Field, value: number | string, right: Json, ctx: Ctx): Tri {
  switch (op) {
    case '==':
    case 'in':
      return member(f, value, right, ctx);
    case '!=':
      return tri.not(member(f, value, right, ctx));
    case '<':
    case '>':
    case '<=':
    case '>=': {
      const r = scalar(f, right);
      if (typeof r !== 'number' || typeof value !== 'number') return 'maybe';
      return tri.of(op === '<' ? value < r : op === '>' ? value > r : op === '<=' ? value <= r : value >= r);
    }
    default:
      return 'maybe';
  }
}

/** One `match` expression for the packet. */
function matchExpr(m: Obj, p: PtbPacket, ctx: Ctx): Tri {
  const op = typeof m.op === 'string' ? m.op : '==';
  const f = fieldOf(m.left);
  if (f === undefined) return 'maybe';
  if (f.kind === 'iif') {
    // A PTB from a router never arrives on loopback; any other interface is a condition we cannot decide.
    const lo = member({ kind: 'iif' }, 'lo', m.right, ctx) === 'yes';
    if (!lo) return 'maybe';
    return op === '!=' ? 'yes' : op === '==' || op === 'in' ? 'no' : 'maybe';
  }
  const value = packetValue(f, p);
  // A field of another protocol (icmp type on an ICMPv6 packet): the rule cannot match.
  if (value === undefined) return 'no';
  return compare(op, f, value, m.right, ctx);
}

function verdictOf(stmt: Obj): Verdict | undefined | 'unsupported' {
  for (const key of Object.keys(stmt)) {
    if (!VERDICTS.has(key)) continue;
    if (key === 'jump' || key === 'goto') {
      const t = (stmt[key] as Obj | null)?.target;
      return typeof t === 'string' ? { kind: key, target: t } : 'unsupported';
    }
    if (key === 'continue') return undefined;
    if (key === 'queue') return 'unsupported'; // a userspace program decides
    return { kind: key as 'accept' | 'drop' | 'reject' | 'return' };
  }
  return undefined;
}

function verdictText(v: Verdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.target}` : v.kind;
}

/** A compact text of a rule for the report (nft's own syntax would need libnftables). */
function ruleText(expr: Json[]): string {
  return expr
    .map((e) => {
      if (!isObj(e)) return JSON.stringify(e);
      const key = Object.keys(e)[0] ?? '?';
      if (key === 'match' && isObj(e.match)) {
        const m = e.match;
        return `${describe(m.left)} ${m.op === '==' ? '' : `${String(m.op)} `}${describe(m.right)}`.replace(/\s+/g, ' ');
      }
      if (VERDICTS.has(key)) {
        const v = verdictOf(e);
        return v && v !== 'unsupported' ? verdictText(v) : key;
      }
      return key;
    })
    .join(' ');
}

function describe(v: Json): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(describe).join(',');
  if (isObj(v)) {
    if (isObj(v.payload)) return `${String(v.payload.protocol)} ${String(v.payload.field)}`;
    if (isObj(v.meta)) return `meta ${String(v.meta.key)}`;
    if (isObj(v.ct)) return `ct ${String(v.ct.key)}`;
    if (Array.isArray(v.set)) return `{ ${v.set.map(describe).join(', ')} }`;
    if (Array.isArray(v.range)) return `${describe(v.range[0])}-${describe(v.range[1])}`;
    if (isObj(v.prefix)) return `${describe(v.prefix.addr)}/${describe(v.prefix.len)}`;
    return Object.keys(v)[0] ?? '?';
  }
  return String(v);
}

function toRule(r: Obj, ctx: Ctx): FwRule {
  const expr = Array.isArray(r.expr) ? r.expr : [];
  const ref = `handle ${String(r.handle)}`;
  const text = ruleText(expr);
  return {
    ref,
    text,
    branches(p: PtbPacket): Branch[] {
      const conds: Tri[] = [];
      for (const e of expr) {
        if (!isObj(e)) {
          conds.push('maybe');
          continue;
        }
        if (isObj(e.match)) {
          conds.push(matchExpr(e.match, p, ctx));
          continue;
        }
        // A verdict map: `icmp type vmap { ... : drop }` — each element is its own branch.
        if (isObj(e.vmap)) return vmapBranches(e.vmap, tri.and(conds), p, ctx);
        const v = verdictOf(e);
        if (v === 'unsupported') return [];
        if (v !== undefined) return [{ when: tri.and(conds), verdict: v }];
        const key = Object.keys(e)[0] ?? '';
        if (!NEUTRAL.has(key)) conds.push('maybe'); // limit, quota, fib, xt, ... : a condition we cannot decide
      }
      return [];
    },
  };
}

function vmapBranches(vmap: Obj, before: Tri, p: PtbPacket, ctx: Ctx): Branch[] {
  const f = fieldOf(vmap.key);
  const value = f ? packetValue(f, p) : undefined;
  const data = vmap.data;
  const elems: Json[] = typeof data === 'string' && data.startsWith('@') ? (ctx.sets.get(data.slice(1)) ?? []) : isObj(data) && Array.isArray(data.set) ? data.set : [];
  const out: Branch[] = [];
  for (const el of elems) {
    if (!Array.isArray(el) || el.length !== 2 || !isObj(el[1])) continue;
    const v = verdictOf(el[1]);
    if (v === undefined || v === 'unsupported') continue;
    const hit: Tri = f === undefined ? 'maybe' : value === undefined ? 'no' : member(f, value, el[0], ctx);
    out.push({ when: tri.and([before, hit]), verdict: v });
  }
  return out;
}

/**
 * Tables of an `nft -j list ruleset` answer. `skip` names tables ("family name") read elsewhere
 * (iptables-nft's own tables, analysed through iptables-save, which understands their xt matches).
 */
export function nftTables(json: unknown, skip: Set<string> = new Set()): FwTable[] {
  const list = isObj(json) ? json.nftables : undefined;
  if (!Array.isArray(list)) throw new DecodeError('nft JSON', 'no "nftables" array at the top');
  const tables = new Map<string, FwTable>();
  const sets = new Map<string, Map<string, Json[]>>();
  const key = (family: Json, table: Json): string => `${String(family)} ${String(table)}`;
  const tableOf = (o: Obj): FwTable | undefined => tables.get(key(o.family, o.table));
  for (const item of list) {
    if (!isObj(item)) continue;
    if (isObj(item.table)) {
      const t = item.table;
      const k = key(t.family, t.name);
      if (!skip.has(k)) tables.set(k, { source: 'nftables', family: String(t.family), name: String(t.name), chains: new Map() });
      sets.set(k, new Map());
    } else if (isObj(item.set) || isObj(item.map)) {
      const s = (item.set ?? item.map) as Obj;
      sets.get(key(s.family, s.table))?.set(String(s.name), Array.isArray(s.elem) ? s.elem : []);
    }
  }
  for (const item of list) {
    if (!isObj(item)) continue;
    if (isObj(item.chain)) {
      const c = item.chain;
      const t = tableOf(c);
      if (!t) continue;
      const chain: FwChain = { name: String(c.name), rules: [] };
      if (typeof c.hook === 'string') {
        chain.base = {
          hook: c.hook,
          priority: typeof c.prio === 'number' ? c.prio : 0,
          policy: c.policy === 'drop' ? 'drop' : 'accept',
          ...(typeof c.type === 'string' ? { type: c.type } : {}),
        };
      }
      t.chains.set(chain.name, chain);
    } else if (isObj(item.rule)) {
      const r = item.rule;
      const t = tableOf(r);
      const chain = t?.chains.get(String(r.chain));
      if (!t || !chain) continue;
      chain.rules.push(toRule(r, { sets: sets.get(key(r.family, r.table)) ?? new Map() }));
    }
  }
  return [...tables.values()];
}
