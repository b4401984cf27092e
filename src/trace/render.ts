// The terminal picture of a trace: one line per hop with the MTU after it as a bar, so a drop is
// visible at a glance, the routers that sent PTBs, silent hops (*), the black-hole link; then what
// it means (src/explain). Colour only when asked for; prose wraps to the width, bars shrink to it.
import { renderExplanation, wrap } from '../explain/render.js';
import { explainTrace } from './explained.js';
import type { TraceHop, TraceResult } from './types.js';

export interface RenderTraceOptions {
  color: boolean;
  /** Terminal columns (at least 40). */
  width: number;
  /** Append the explanation and fixes (default true). */
  explain?: boolean;
}

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', magenta: '35', cyan: '36' } as const;
type Style = keyof typeof SGR;

function ms(v: number | null): string {
  if (v === null) return '';
  return v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;
}

/** Bar length for an MTU: the smallest value on the path gets a third of the room, the largest all of it. */
function barScale(values: number[], room: number): (mtu: number) => number {
  const hi = Math.max(...values);
  const lo = Math.min(...values);
  if (hi === lo) return () => room;
  const base = lo - (hi - lo) / 2;
  return (mtu) => Math.max(1, Math.round((room * (mtu - base)) / (hi - base)));
}

function hopRange(a: number, b: number): string {
  return a === b ? `hop ${a}` : `hops ${a}..${b}`;
}

/** The line drawn between two hop lines where the MTU drops. */
function dropLine(d: TraceResult['drops'][number]): string {
  const why =
    d.evidence === 'ptb' ? (d.zeroMtu ? `PTB without an MTU from ${d.by}, value from probing` : `PTB from ${d.by}`)
    : d.evidence === 'black-hole' ? 'no ICMP error'
    : d.evidence === 'local' ? "this host's stack"
    : 'unexplained';
  const where = d.uncertain && d.afterTtlMax !== undefined ? `, somewhere before hop ${d.afterTtlMax + 1}` : '';
  return `▼ ${d.from}→${d.to} (−${d.from - d.to}) ${why}${where}`;
}

export function renderTrace(r: TraceResult, options: RenderTraceOptions): string {
  const width = Math.max(40, Math.floor(options.width) || 80);
  const paint = (s: Style, t: string): string => (options.color ? `\x1b[${SGR[s]}m${t}\x1b[0m` : t);
  const ctx: Ctx = { r, width, color: options.color, paint };
  const out = [...headerLines(ctx), '', ...hopLines(ctx), '', ...summaryLines(ctx)];
  out.push(`  ${r.probes} probes in ${r.elapsedMs < 1000 ? `${Math.round(r.elapsedMs)} ms` : `${(r.elapsedMs / 1000).toFixed(2)} s`}`);

  let text = `${out.join('\n')}\n`;
  if (options.explain !== false) {
    const ex = explainTrace(r);
    if (ex) text += `\n${renderExplanation(ex, { color: options.color, width })}`;
  }
  return text;
}

/** What every step of the rendering needs: the result, the width and the painter. */
interface Ctx {
  r: TraceResult;
  width: number;
  color: boolean;
  paint: (s: Style, t: string) => string;
}

interface Row {
  ttl: string;
  who: string;
  rtt: string;
  mtu: number | null;
  notes: Array<[Style, string]>;
  silent: boolean;
}

/** Column widths and the bar's room, from all rows at once. */
interface Layout {
  ttlW: number;
  whoW: number;
  rttW: number;
  mtuW: number;
  /** Columns before the bar. */
  fixed: number;
  /** Columns of the longest bar. */
  room: number;
  bar: (mtu: number) => number;
}

function headerLines({ r, width, paint }: Ctx): string[] {
  const host = r.target === r.address ? r.address : `${r.target} (${r.address})`;
  const how = `${r.method}, ${r.direction === 'forward' ? 'forward path' : 'round trip'}`;
  const head = r.pmtu !== null ? `path MTU ${r.pmtu}${r.exact ? '' : ' (not exact)'}` : 'no path MTU';
  return wrap(`trace to ${host}: ${head}, ${r.hops.length} hop${r.hops.length === 1 ? '' : 's'}, via ${how}`, width, '').map((l) => paint('bold', l));
}

function hopLabel(h: TraceHop): string {
  // A silent hop placed by its PTB is known by that address only.
  if (h.address === null) return h.ptb ? `* (${h.ptb.from})` : '*';
  const base = h.name ? `${h.name} (${h.address})` : h.address;
  return h.destination ? `${base} target` : base;
}

function hopNotes(r: TraceResult, h: TraceHop): Array<[Style, string]> {
  const notes: Array<[Style, string]> = [];
  if (h.ptb) {
    const bogus = r.bogusPtbs.find((b) => b.from === h.address && b.nextHopMtu === h.ptb!.nextHopMtu);
    if (h.ptb.accepted) notes.push(['cyan', h.ptb.nextHopMtu === 0 ? 'PTB 0 (no MTU given)' : `PTB ${h.ptb.nextHopMtu}`]);
    else if (bogus) notes.push(['magenta', `bogus PTB ${h.ptb.nextHopMtu} (${bogus.contradictedBy} delivered)`]);
    else notes.push(['dim', `ignored PTB ${h.ptb.nextHopMtu}`]);
  }
  if (h.unreachable) notes.push(['red', h.unreachable]);
  if (h.address === null) notes.push(['dim', 'no answer']);
  return notes;
}

/** Columns: ttl, address (and name), rtt, mtu, bar, note. Row 0 is this host (TTL 0). */
function hopRows(r: TraceResult): Row[] {
  const rows: Row[] = [];
  rows.push({ ttl: '0', who: 'this host', rtt: '', mtu: r.firstHop ? r.firstHop.interfaceMtu : r.localMtu, notes: [['dim', `interface MTU ${r.localMtu}`]], silent: false });
  for (const h of r.hops) {
    rows.push({ ttl: String(h.ttl), who: hopLabel(h), rtt: ms(h.rttMs), mtu: h.mtu, notes: hopNotes(r, h), silent: h.address === null });
  }
  if (!r.reached && !r.aborted) rows.push({ ttl: '', who: '…', rtt: '', mtu: null, notes: [['dim', 'no answer further on']], silent: true });
  return rows;
}

function layout(rows: Row[], width: number): Layout {
  const ttlW = Math.max(...rows.map((x) => x.ttl.length));
  const whoW = Math.min(Math.max(...rows.map((x) => x.who.length)), Math.max(15, Math.floor(width / 2)));
  const rttW = Math.max(0, ...rows.map((x) => x.rtt.length));
  const mtuW = Math.max(4, ...rows.map((x) => String(x.mtu ?? '').length));
  const fixed = 2 + ttlW + 2 + whoW + 2 + rttW + 2 + mtuW + 1;
  // The bar gets what the longest note leaves (between 6 and 30 columns); notes that still do not
  // fit go on their own line.
  const longestNote = Math.max(0, ...rows.map((x) => x.notes.map(([, t]) => t).join('  ').length));
  const room = Math.max(6, Math.min(30, width - fixed - 2 - longestNote));
  const mtus = rows.flatMap((x) => (x.mtu !== null ? [x.mtu] : []));
  const bar = mtus.length > 0 ? barScale(mtus, room) : () => 0;
  return { ttlW, whoW, rttW, mtuW, fixed, room, bar };
}

function hopLines(ctx: Ctx): string[] {
  const rows = hopRows(ctx.r);
  const lay = layout(rows, ctx.width);
  const out: string[] = [];
  rows.forEach((row, i) => {
    out.push(...rowLines(ctx, lay, row));
    // rows[i] is TTL i; drops past the last row go after it.
    out.push(...linkMarks(ctx, lay, i, i === rows.length - 1));
  });
  return out;
}

/** One hop line with its bar and notes (the notes on their own lines when they do not fit). */
function rowLines({ r, width, color, paint }: Ctx, lay: Layout, row: Row): string[] {
  const { ttlW, whoW, rttW, mtuW, fixed, room } = lay;
  const who = row.who.length > whoW ? `${row.who.slice(0, whoW - 1)}…` : row.who.padEnd(whoW);
  const n = row.mtu !== null ? lay.bar(row.mtu) : 0;
  const reduced = row.mtu !== null && row.mtu < r.localMtu;
  const noteText = row.notes.map(([, t]) => t).join('  ');
  const painted = row.notes.map(([st, t]) => paint(st, t)).join('  ');
  const pad = noteText === '' ? '' : ' '.repeat(room - n);
  const barText = row.mtu !== null ? paint(reduced ? 'yellow' : 'green', '█'.repeat(n)) + pad : pad;
  const line = `  ${row.ttl.padStart(ttlW)}  ${row.silent ? paint('dim', who) : who}  ${row.rtt.padStart(rttW)}  ${String(row.mtu ?? '').padStart(mtuW)} ${barText}`;
  // Without a bar (no MTU known) the notes still start in their column.
  const left = row.mtu === null && noteText !== '' ? line : line.trimEnd();
  if (noteText === '') return [left];
  if (fixed + room + 2 + noteText.length <= width) return [`${left}  ${painted}`];
  return [left, ...wrap(noteText, width, ' '.repeat(4 + ttlW)).map((l) => (color ? paint(row.notes[0]![0], l) : l))];
}

/** The marks between two hop lines: a drop and the black hole, on the link after hop `ttlHere`. */
function linkMarks({ r, width, paint }: Ctx, lay: Layout, ttlHere: number, lastRow: boolean): string[] {
  const out: string[] = [];
  const indent = ' '.repeat(4 + lay.ttlW);
  for (const d of r.drops.filter((x) => x.afterTtl === ttlHere || (lastRow && x.afterTtl > ttlHere))) {
    out.push(...wrap(dropLine(d), width, indent).map((l) => paint('yellow', l)));
  }
  // The black-hole link sits between the last hop that answered large probes and the next one.
  const bh = r.blackHole;
  if (bh && bh.afterTtl === ttlHere) {
    const span = bh.uncertain ? ` (somewhere before hop ${bh.afterTtlMax + 1})` : '';
    const text = `╳ black hole: packets over ${bh.size - 1} bytes vanish here${span}, no ICMP error`;
    out.push(...wrap(text, width, indent).map((l) => paint('red', l)));
  }
  return out;
}

/** What the picture says, in words. */
function summaryLines(ctx: Ctx): string[] {
  const { r, width, paint } = ctx;
  const out: string[] = [];
  const say = (text: string, style?: Style): void => {
    for (const l of wrap(text, width, '  ')) out.push(style ? paint(style, l) : l);
  };
  if (r.firstHop) {
    const fh = r.firstHop;
    const how = fh.evidence === 'black-hole' ? 'bigger packets vanish on it without an error' : fh.evidence === 'ptb' ? 'a packet-too-big says so' : "this host's own stack says so";
    say(`First hop: this host's interface allows ${fh.interfaceMtu} bytes, but the first link carries only ${fh.carries} (${how}). Lower the interface MTU, or fix what sits on that link (a tunnel, a VLAN tag, a smaller far end).`, 'yellow');
  }
  for (const d of r.drops) {
    if (d.afterTtl === 0 && r.firstHop) continue;
    say(dropSentence(r, d));
  }
  if (r.blackHole) blackHoleSentences(r, r.blackHole, say);
  for (const b of r.bogusPtbs) {
    say(`Bogus PTB from ${b.from}${b.ttl !== null ? ` (hop ${b.ttl})` : ''}: it claims a next-hop MTU of ${b.nextHopMtu}, but ${b.contradictedBy}-byte probes were delivered. Ignored.`, 'magenta');
  }
  if (r.reason) say(`Note: ${r.reason}.`, 'dim');
  return out;
}

function dropSentence(r: TraceResult, d: TraceResult['drops'][number]): string {
  const where =
    d.uncertain && d.afterTtlMax !== undefined ? `on a link after hop ${d.afterTtl} and before hop ${d.afterTtlMax + 1} (the hops between never answered)`
    : d.afterTtl === 0 ? 'on the first link'
    : `after hop ${d.afterTtl}`;
  const placed = r.hops.some((h) => h.address === d.by || h.ptb?.from === d.by);
  const why =
    d.evidence === 'ptb' ? `${d.zeroMtu ? 'a PTB with next-hop MTU 0 (an RFC 792 router; the value comes from probing)' : 'PTB'} from ${d.by}${placed ? '' : ' (hop not identified)'}`
    : d.evidence === 'black-hole' ? 'no ICMP error: a black hole'
    : d.evidence === 'local' ? "this host's stack"
    : 'no router said why (rate-limited ICMP, or the way back)';
  return `MTU drops ${where}: ${d.from} → ${d.to} (−${d.from - d.to}), ${why}.`;
}

function blackHoleSentences(r: TraceResult, bh: NonNullable<TraceResult['blackHole']>, say: (text: string, style?: Style) => void): void {
  const last = bh.lastAnswering ?? 'this host';
  if (bh.afterTtl === 0) {
    say(`Black hole on the first link, from this host: probes of ${bh.size} bytes vanish before hop 1 answers them.`, 'red');
  } else if (bh.uncertain) {
    say(`Black hole on a link after hop ${bh.afterTtl} (${last}) and before hop ${bh.afterTtlMax + 1}: probes of ${bh.size} bytes get time-exceeded up to hop ${bh.afterTtl}; ${hopRange(bh.afterTtl + 1, bh.afterTtlMax)} never answered, even after a pause for an ICMP rate limit to refill, so the link cannot be told more exactly.`, 'red');
  } else {
    say(`Black hole on the link after hop ${bh.afterTtl} (${last}): probes of ${bh.size} bytes get time-exceeded up to hop ${bh.afterTtl} and vanish beyond it.`, 'red');
  }
  if (bh.beyond === 'answers') {
    const gap = bh.uncertain ? ` (${hopRange(bh.afterTtl + 1, bh.afterTtlMax)} never answer${bh.afterTtlMax > bh.afterTtl + 1 ? '' : 's'}, so the link is somewhere in between)` : '';
    const who =
      bh.afterTtl === 0
        ? 'a tunnel or L2 segment on the first link carries less than this host\'s interface MTU, and nothing says so'
        : `router ${last} drops its "fragmentation needed"/"packet too big", or the far end of its link has a smaller MTU (an L2 mismatch drops silently)`;
    say(`Hop ${bh.firstSilentTtl} (${bh.firstSilent}) still answers small probes, so it is the size that vanishes${gap}: ${who}.`);
  } else {
    say('Nothing beyond answers at all, not even small probes: this cannot be told apart from a path that filters every ICMP error.');
  }
  if (r.direction === 'round-trip' && r.hops.some((h) => h.destination && h.ttl === bh.firstSilentTtl)) {
    say('With echo probes the reply must come back at the same size: the limit may also be on the way back.', 'dim');
  }
}
