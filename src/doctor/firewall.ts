// Does this host's own firewall throw away the PTBs routers send it? Reads the ruleset through the
// tools' own interfaces — `nft -j list ruleset` (JSON) and iptables-save / ip6tables-save (the
// restore format) — and asks the model what happens to a frag-needed and a packet-too-big.
import { DecodeError } from '../errors.js';
import { FRAG_NEEDED, inputFates, PACKET_TOO_BIG, type ChainFate, type FwTable } from './firewall-model.js';
import { iptablesTable, isNftBackend, savedTables } from './iptables.js';
import { nftTables } from './nftables.js';
import { runTool, toolPath } from './system.js';

export interface RulesetSources {
  /** `nft -j list ruleset` output, or null when nft is missing or refused. */
  nft: string | null;
  iptables: string | null;
  ip6tables: string | null;
  /** Why a source could not be read (missing tool, no privilege). */
  unread: string[];
}

export interface FirewallAnalysis {
  /** Fates of a frag-needed (IPv4) and a packet-too-big (IPv6) in every input base chain. */
  v4: ChainFate[];
  v6: ChainFate[];
  /** What was read: "nftables", "iptables", "ip6tables". */
  read: string[];
  unread: string[];
}

/** Read every ruleset source present, in this thread's network namespace. */
export async function readRulesets(): Promise<RulesetSources> {
  const [nft, ipt, ip6t] = await Promise.all([
    runTool(toolPath('nft'), ['-j', 'list', 'ruleset']),
    runTool(toolPath('iptables-save'), []),
    runTool(toolPath('ip6tables-save'), []),
  ]);
  const unread: string[] = [];
  const take = (name: string, r: typeof nft): string | null => {
    if (!r.found) return null; // not installed: nothing of that kind can be loaded... by that tool
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
      unread.push(`${name}: ${/not permitted|permission denied/i.test(why) ? 'needs root (CAP_NET_ADMIN) to read the ruleset' : why}`);
      return null;
    }
    return r.stdout;
  };
  return { nft: take('nft', nft), iptables: take('iptables-save', ipt), ip6tables: take('ip6tables-save', ip6t), unread };
}

/** Pure: the model's verdicts for what was read. */
export function analyseRulesets(src: RulesetSources): FirewallAnalysis {
  const tables: FwTable[] = [];
  const read: string[] = [];
  const unread = [...src.unread];
  // iptables-nft keeps its tables in nf_tables too; read those through iptables-save, which knows
  // the xt matches nft's JSON shows only by name.
  const skip = new Set<string>();
  for (const [save, family] of [[src.iptables, 'ip'], [src.ip6tables, 'ip6']] as const) {
    if (save === null) continue;
    if (isNftBackend(save)) for (const t of savedTables(save)) skip.add(`${family} ${t}`);
  }
  if (src.iptables !== null) {
    const t = iptablesTable(src.iptables, 4);
    if (t) tables.push(t);
    read.push('iptables');
  }
  if (src.ip6tables !== null) {
    const t = iptablesTable(src.ip6tables, 6);
    if (t) tables.push(t);
    read.push('ip6tables');
  }
  if (src.nft !== null) {
    try {
      tables.push(...nftTables(JSON.parse(src.nft), skip));
      read.push('nftables');
    } catch (e) {
      unread.push(`nft: its JSON could not be read (${e instanceof DecodeError || e instanceof SyntaxError ? e.message : String(e)})`);
    }
  }
  return { v4: inputFates(tables, FRAG_NEEDED), v6: inputFates(tables, PACKET_TOO_BIG), read, unread };
}

const quote = (s: string): string => (/^[A-Za-z0-9_.-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** The rule that lets the PTB through the chain that drops it: inserted first, so it wins. */
export function fixFor(f: ChainFate, family: 4 | 6): string {
  if (f.source === 'nftables') {
    const match = family === 4 ? 'icmp type destination-unreachable icmp code frag-needed' : 'icmpv6 type packet-too-big';
    return `nft insert rule ${f.family} ${quote(f.table)} ${quote(f.chain)} ${match} accept`;
  }
  return family === 4
    ? `iptables -I ${f.chain} -p icmp --icmp-type fragmentation-needed -j ACCEPT`
    : `ip6tables -I ${f.chain} -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT`;
}

/** Where a fate happened, for humans: `nftables inet filter input, rule handle 7 (icmp type ... drop)`. */
export function describeFate(f: ChainFate): string {
  const where = f.source === 'nftables' ? `nftables ${f.family} ${f.table} chain ${f.chain}` : `${f.source} ${f.table} chain ${f.chain}`;
  const via = f.rule && f.rule.chain !== f.chain ? ` (via ${f.path.join(' -> ')})` : '';
  const what = f.rule ? `${f.rule.ref}: ${f.rule.text}` : f.fate === 'drop' ? 'its policy is drop and no rule accepts it first' : 'its policy is drop, unless the rule below accepts it first';
  return `${where}${via}: ${what}`;
}
