// Terminal text for an Explanation: the answer first, then payload sizes, likely causes, and fixes.
// Prose wraps to the width; commands never wrap (they are meant to be copied). Colour only on request.
import type { Confidence, Explanation } from './types.js';

export interface RenderOptions {
  color: boolean;
  /** Terminal columns; prose wraps to this (at least 40). */
  width: number;
}

/** How many candidates get their reasoning printed under them. */
const NOTES_SHOWN = 3;

type Paint = (text: string) => string;

const SGR = { bold: '1', dim: '2', green: '32', yellow: '33', cyan: '36' } as const;

function painter(color: boolean): (style: keyof typeof SGR) => Paint {
  return (style) => (text) => (color ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text);
}

/** Greedy word wrap; every line gets `indent`. Words longer than the line stay whole. */
export function wrap(text: string, width: number, indent: string): string[] {
  const room = Math.max(10, width - indent.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= room) line += ` ${word}`;
    else {
      lines.push(indent + line);
      line = word;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

export function renderExplanation(expl: Explanation, options: RenderOptions): string {
  const width = Math.max(40, Math.floor(options.width) || 80);
  const paint = painter(options.color);
  const bold = paint('bold');
  const dim = paint('dim');
  const cmd = paint('cyan');
  const confColor: Record<Confidence, Paint> = { high: paint('green'), medium: paint('yellow'), low: dim };
  const out: string[] = [];

  out.push(...wrap(expl.summary, width, '').map(bold), '');

  const ip = expl.family === 6 ? 40 : 20;
  out.push(bold('Largest payloads in one packet'));
  const sizes: Array<[string, number, string]> = [
    ['UDP payload', expl.payload.udp, `${expl.mtu} - ${ip} IPv${expl.family} - 8 UDP`],
    ['ping -s', expl.payload.icmp, `${expl.mtu} - ${ip} - 8 ICMP`],
    ['TCP MSS', expl.payload.tcpMss, `${expl.mtu} - ${ip} - 20 TCP, no options`],
  ];
  for (const [label, bytes, sum] of sizes) {
    const line = `  ${label.padEnd(14)}${String(bytes).padStart(5)} bytes`;
    // The arithmetic is a courtesy: dropped when the terminal is too narrow for it.
    const full = `${line}  (${sum})`;
    out.push(full.length <= width ? full : line);
  }
  out.push('');

  const aside = '  (candidates, not certainties)';
  out.push(bold('Likely causes') + ('Likely causes'.length + aside.length <= width ? dim(aside) : ''));
  const indent = ' '.repeat(10);
  expl.candidates.forEach((c, i) => {
    const tag = confColor[c.confidence](c.confidence.padEnd(6));
    const bytes = c.overhead > 0 ? ` (${c.overhead} bytes from ${c.underlay})` : '';
    // Wrap uncoloured text, then colour the confidence tag on the first line.
    const head = wrap(`${c.cause}${bytes}`, width, indent);
    out.push(`  ${tag}  ${head[0]!.slice(indent.length)}`, ...head.slice(1));
    // The reasoning of the leading candidates; the rest stay one line each to keep the answer short.
    if (i < NOTES_SHOWN) out.push(...wrap(c.note, width, indent).map(dim));
  });
  out.push('');

  out.push(bold('Fixes'));
  const numberWidth = `${expl.fixes.length}. `.length;
  const fixIndent = ' '.repeat(2 + numberWidth);
  expl.fixes.forEach((f, i) => {
    const n = `${i + 1}.`.padEnd(numberWidth);
    const what = wrap(f.what, width, fixIndent);
    out.push(`  ${n}${what[0]!.slice(fixIndent.length)}`, ...what.slice(1));
    for (const line of f.command.split('\n')) out.push(`${fixIndent}  ${cmd(`$ ${line}`)}`);
    out.push(...wrap(f.why, width, fixIndent).map(dim));
  });
  return `${out.join('\n')}\n`;
}
