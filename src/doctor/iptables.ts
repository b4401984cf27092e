// iptables-save / ip6tables-save output to the firewall model. iptables has no JSON; its save
// format is the machine-readable form (what iptables-restore reads back): `*table`, one
// `:CHAIN POLICY [packets:bytes]` line per chain, one `-A CHAIN <match options> -j TARGET` per rule,
// `COMMIT`. Only the filter table's INPUT chain (and the chains it jumps to) decides a PTB's fate.
import { IPTABLES_ICMP, IPTABLES_ICMPV6, PROTOCOLS } from './icmp-names.js';
import { tri, type Branch, type FwChain, type FwRule, type FwSource, type FwTable, type PtbPacket, type Tri, type Verdict } from './firewall-model.js';

/** Split a save line into words, honouring the double quotes iptables-save puts around comments. */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN']);
/** Match modules that never exclude a packet. */
const NEUTRAL_MODULES = new Set(['comment', 'icmp', 'icmp6', 'conntrack', 'state']);

function icmpSpec(text: string, v6: boolean): { type: number; code?: number } | 'any' | undefined {
  if (text === 'any') return 'any';
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (m) return { type: Number(m[1]), ...(m[2] !== undefined ? { code: Number(m[2]) } : {}) };
  return (v6 ? IPTABLES_ICMPV6 : IPTABLES_ICMP)[text];
}

/** The conditions of one `-A` line for the packet, and its target. */
function parseRule(args: string[], p: PtbPacket): { when: Tri; target?: string } {
  const conds: Tri[] = [];
  let target: string | undefined;
  let neg = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '!') {
      neg = true;
      continue;
    }
    const val = args[i + 1];
    const cond = (t: Tri): void => {
      conds.push(neg ? tri.not(t) : t);
      neg = false;
    };
    switch (a) {
      case '-p':
      case '--protocol': {
        i++;
        const v = (val ?? '').toLowerCase();
        const n = /^\d+$/.test(v) ? Number(v) : v === 'all' ? 0 : (PROTOCOLS[v] ?? -1);
        cond(n === 0 ? 'yes' : tri.of(n === p.l4proto));
        break;
      }
      case '--icmp-type':
      case '--icmpv6-type': {
        i++;
        const v6 = a === '--icmpv6-type';
        if (v6 !== (p.family === 6)) {
          cond('no');
          break;
        }
        const spec = icmpSpec(val ?? '', v6);
        if (spec === undefined) cond('maybe');
        else if (spec === 'any') cond('yes');
        else cond(tri.of(spec.type === p.type && (spec.code === undefined || spec.code === p.code)));
        break;
      }
      case '--ctstate':
      case '--state': {
        i++;
        cond(tri.of((val ?? '').split(',').includes('RELATED')));
        break;
      }
      case '-i':
      case '--in-interface': {
        i++;
        // A router's PTB never arrives on loopback; other interfaces we cannot decide.
        if (val === 'lo') cond('no');
        else cond('maybe');
        break;
      }
      case '-m':
      case '--match':
        i++;
        if (!NEUTRAL_MODULES.has(val ?? '')) conds.push('maybe');
        neg = false;
        break;
      case '--comment':
        i++;
        break;
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        i++;
        target = `${a === '-g' || a === '--goto' ? 'goto:' : ''}${val ?? ''}`;
        // Target options follow; none of them filter.
        i = args.length;
        break;
      default:
        // -s, -d, -o, -f and module options (--dport, --limit, ...): a condition we cannot decide.
        if (a.startsWith('-')) {
          if (val !== undefined && !val.startsWith('-')) i++;
          cond('maybe');
        }
    }
  }
  return { when: tri.and(conds), ...(target !== undefined ? { target } : {}) };
}

function verdictFor(target: string, chains: Set<string>): Verdict | undefined {
  const goto = target.startsWith('goto:');
  const name = goto ? target.slice(5) : target;
  if (!goto && BUILTIN_TARGETS.has(name)) return { kind: name.toLowerCase() as 'accept' | 'drop' | 'reject' | 'return' };
  if (chains.has(name)) return { kind: goto ? 'goto' : 'jump', target: name };
  // LOG, MARK, CT... and extension targets we do not know: they do not end the walk.
  return undefined;
}

/**
 * The filter table of an iptables-save (or ip6tables-save) answer as a model table. Other tables
 * (nat, mangle, raw) are skipped. Returns undefined when there is no filter table.
 */
export function iptablesTable(save: string, family: 4 | 6): FwTable | undefined {
  const source: FwSource = family === 4 ? 'iptables' : 'ip6tables';
  let current: string | undefined;
  const chains = new Map<string, FwChain>();
  const lines: Array<{ chain: string; args: string[]; text: string }> = [];
  let sawFilter = false;
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = line.slice(1);
      if (current === 'filter') sawFilter = true;
      continue;
    }
    if (current !== 'filter') continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name) continue;
      const chain: FwChain = { name, rules: [] };
      if (['INPUT', 'FORWARD', 'OUTPUT'].includes(name)) {
        chain.base = { hook: name.toLowerCase(), priority: 0, policy: policy === 'DROP' ? 'drop' : 'accept', type: 'filter' };
      }
      chains.set(name, chain);
    } else if (line.startsWith('-A ')) {
      const w = words(line);
      lines.push({ chain: w[1] ?? '', args: w.slice(2), text: line });
    }
  }
  if (!sawFilter) return undefined;
  const names = new Set(chains.keys());
  for (const { chain, args, text } of lines) {
    const c = chains.get(chain);
    if (!c) continue;
    const rule: FwRule = {
      ref: `rule ${c.rules.length + 1} of ${chain}`,
      text,
      branches(p: PtbPacket): Branch[] {
        if (p.family !== family) return [];
        const r = parseRule(args, p);
        const v = r.target !== undefined ? verdictFor(r.target, names) : undefined;
        return v ? [{ when: r.when, verdict: v }] : [];
      },
    };
    c.rules.push(rule);
  }
  return { source, family: family === 4 ? 'ip' : 'ip6', name: 'filter', chains };
}

/** Table names an iptables-save answer lists (`*filter`, `*nat`...). */
export function savedTables(save: string): string[] {
  return save
    .split('\n')
    .filter((l) => l.startsWith('*'))
    .map((l) => l.slice(1).trim());
}

/** Does this iptables talk to nf_tables (iptables-nft), so its tables also show in `nft list ruleset`? */
export function isNftBackend(save: string): boolean {
  return /\(nf_tables\)/.test(save);
}
