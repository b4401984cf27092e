// pathmtu discover with several targets: hosts, -f lists, `-` for stdin, CIDR prefixes. The
// targets are read and checked first (a bad line is a usage error naming file:line, before anything
// is sent), then discoverMany() probes them and this renders: a table sorted as given, or NDJSON
// written as each target finishes. Loaded only for such runs: `pathmtu <host>` does not pay for it.
import { setMaxListeners } from 'node:events';
import { discoverMany, type DiscoverEvent, type DiscoverManyOptions, type DiscoverResult, type ManyResult } from '../../discover/index.js';
import { resolveTarget } from '../../sock/resolve.js';
import { ipFamily } from '../../wire/addr.js';
import { AbortError, PathMtuError, UsageError, type NameOption } from '../../errors.js';
import { flagNamer } from '../flags.js';
import { expandTargets, parsePrefix, parseTargetList, prefixHosts, type ExpandOptions, type Target, type TargetText } from '../targets.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type Io } from '../command.js';
import { readSources, type Source } from '../target-sources.js';

export type { Source };


export interface ManyOptions extends ExpandOptions {
  /** Options every target's discover() gets (method, max, min, port, timeoutMs). */
  discover: Omit<DiscoverManyOptions, 'signal' | 'onEvent' | 'family'>;
  json: boolean;
  quiet: boolean;
  /** Who the run gave root up for (through sudo), written into each NDJSON result as runAs. */
  runAs?: () => object;
  /** --verbose: each probe on stderr, prefixed with its target. */
  describeEvent?: (e: DiscoverEvent) => string;
}


/**
 * What resolveTarget refuses without a lookup (multicast, broadcast, inet_aton's numbers, an
 * interface that is not there), checked for every address typed and the ends of every prefix, so a
 * bad line stops the run before anything is sent, naming its place.
 */
async function preflight(entries: readonly TargetText[], family: Target['family']): Promise<void> {
  const check = async (text: string, f: Target['family'], where: string | undefined): Promise<void> => {
    try {
      await resolveTarget(text, f);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError((n) => `${where ? `${where}: ` : ''}${err.describe(n)}`);
      throw err;
    }
  };
  for (const e of entries) {
    if (e.text.includes('/')) {
      const p = parsePrefix(e.text, e.where);
      await check(prefixHosts(p).next().value as string, p.family, e.where);
    } else if (ipFamily(e.text.replace(/^\[(.*)\]$/, '$1')) !== 0) {
      await check(e.text, family, e.where);
    } else if (e.text.split('.').every((part) => /^(0x[0-9a-f]*|\d+)$/i.test(part))) {
      // Only numbers: no name, but no plain address either (010.0.0.1): refused before any lookup.
      await check(e.text, undefined, e.where);
    }
  }
}

export async function runMany(sources: readonly Source[], options: ManyOptions, io: Io): Promise<number> {
  const entries = await readSources(sources, io);
  const targets = expandTargets(entries, options);
  await preflight(entries, options.family);

  const started = performance.now();
  const results: Array<ManyResult | undefined> = new Array(targets.length);
  let fed = 0;
  let done = 0;
  let notFound = 0;
  async function* feed(): AsyncGenerator<{ target: string; family?: Target['family'] }> {
    for (const t of targets) {
      if (io.signal.aborted) return; // Ctrl-C: what is running finishes (interrupted), nothing new starts
      fed++;
      yield t.family !== undefined ? { target: t.target, family: t.family } : { target: t.target };
    }
  }
  const progress = io.stderr.isTTY && !options.describeEvent && !options.quiet ? new Progress(io, targets.length) : undefined;
  const describe = options.describeEvent;
  const names = flagNamer();
  // Every running discover() listens on the one Ctrl-C signal: that is by design, not a leak.
  setMaxListeners(0, io.signal);
  try {
    for await (const r of discoverMany(feed(), {
      ...options.discover,
      signal: io.signal,
      ...(describe ? { onEvent: (i: number, e: DiscoverEvent) => io.stderr.write(`[${label(targets[i]!, options.both)}] ${describe(e)}`) } : {}),
    })) {
      results[r.index] = r;
      done++;
      if (!found(r)) notFound++;
      if (options.json) io.stdout.write(`${JSON.stringify({ ...jsonOf(r, names), ...options.runAs?.() })}\n`);
      progress?.update(done, fed - done, notFound);
    }
  } finally {
    progress?.clear();
  }
  const elapsedMs = performance.now() - started;
  const finished = results.filter((r): r is ManyResult => r !== undefined);
  const skipped = targets.length - fed;
  if (!options.json) {
    if (options.quiet) io.stdout.write(finished.map((r) => `${r.target} ${r.ok ? r.result.address : '-'} ${r.ok && r.result.pmtu !== null ? r.result.pmtu : '-'}\n`).join(''));
    else io.stdout.write(renderTable(finished, targets, names, options.both) + summary(finished, targets.length, skipped, elapsedMs));
  }
  if (finished.some((r) => !r.ok && r.error instanceof UsageError)) return EXIT_USAGE;
  return skipped === 0 && finished.every(found) ? EXIT_OK : EXIT_FAIL;
}

const found = (r: ManyResult): boolean => r.ok && r.result.pmtu !== null && !r.result.aborted;

/** A target as a row names it: with its family when --both made two of it. */
function label(t: Target, both: boolean | undefined): string {
  return both && !t.literal && t.family !== undefined ? `${t.target} (IPv${t.family})` : t.target;
}

function errorText(err: Error, names: NameOption): string {
  return err instanceof PathMtuError ? err.describe(names) : err.message;
}

/** NDJSON: a found target in the single-target schema; one that could not be probed: target and error. */
function jsonOf(r: ManyResult, names: NameOption): object {
  if (r.ok) return r.result;
  const c = (r.error as Error & { code?: unknown }).code;
  const code = typeof c === 'string' ? c : 'ERR_UNEXPECTED';
  return { target: r.target, ...(r.family !== undefined ? { family: r.family } : {}), error: { code, message: errorText(r.error, names) } };
}

/** How the answer was learned, in a few words: the PTB that named it, a black hole, or deliveries alone. */
export function learned(r: DiscoverResult): string {
  if (r.pmtu === null) {
    if (r.aborted) return 'interrupted';
    if (r.unreachable) return 'unreachable';
    if (r.lowerBound === 0) return 'nothing delivered';
    return `between ${r.lowerBound} and ${r.upperBound}`;
  }
  const ptb = r.ptbs.find((p) => p.accepted && p.nextHopMtu === r.pmtu);
  const how = r.blackHole ? 'black hole' : ptb ? `PTB from ${ptb.from}` : 'delivered';
  return r.exact ? how : `${how}, not exact`;
}

/** Why the targets that were not found exactly were not (or not probed): under the table, at most NOTES lines. */
function notes(sorted: readonly ManyResult[], targets: readonly Target[], names: NameOption, both: boolean | undefined): string {
  const why: string[] = [];
  for (const r of sorted) {
    const text = !r.ok ? errorText(r.error, names) : (!r.result.exact || r.result.pmtu === null) && !r.result.aborted ? r.result.reason : undefined;
    if (!text) continue;
    // A reason that starts with the address names its target already ("198.18.5.2 answered none…").
    const address = r.ok ? r.result.address : undefined;
    why.push(address !== undefined && text.startsWith(`${address} `) ? `  ${text}` : `  ${label(targets[r.index]!, both)}: ${text}`);
  }
  if (why.length === 0) return '';
  const lines = why.slice(0, NOTES);
  if (why.length > NOTES) lines.push(`  … and ${why.length - NOTES} more (--json gives every reason)`);
  return `\nwhy not found or not exact:\n${lines.join('\n')}\n`;
}
const NOTES = 10;

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One row per finished target, in the order given; the address column only when some name was resolved. */
export function renderTable(finished: readonly ManyResult[], targets: readonly Target[], names: NameOption, both?: boolean): string {
  const sorted = [...finished].sort((a, b) => a.index - b.index);
  const showAddress = sorted.some((r) => r.ok && r.result.address !== r.target);
  const head = ['target', ...(showAddress ? ['address'] : []), 'PMTU', 'exact', 'learned', 'method', 'probes', 'time'];
  const right = new Set(['PMTU', 'probes', 'time']);
  const rows = sorted.map((r) => {
    const t = label(targets[r.index]!, both);
    if (!r.ok) return [t, ...(showAddress ? ['-'] : []), '-', '-', 'not probed', '-', '-', '-'];
    const x = r.result;
    return [t, ...(showAddress ? [x.address] : []), x.pmtu === null ? '-' : String(x.pmtu), x.pmtu === null ? '-' : x.exact ? 'yes' : 'no', learned(x), x.method, String(x.probes), duration(x.elapsedMs)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : right.has(head[i]!) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n${notes(sorted, targets, names, both)}`;
}

function summary(finished: readonly ManyResult[], total: number, skipped: number, elapsedMs: number): string {
  const ok = finished.filter(found);
  const exact = ok.filter((r) => r.ok && r.result.exact).length;
  const failed = finished.filter((r) => !r.ok).length;
  const probes = finished.reduce((n, r) => n + (r.ok ? r.result.probes : 0), 0);
  const parts = [`${ok.length} found (${exact} exact)`];
  if (finished.length - ok.length - failed > 0) parts.push(`${finished.length - ok.length - failed} not found`);
  if (failed > 0) parts.push(`${failed} not probed (error)`);
  const head = `\n${total} ${total === 1 ? 'target' : 'targets'}: ${parts.join(', ')}; ${probes} probes in ${duration(elapsedMs)}\n`;
  return skipped > 0 ? `${head}interrupted: ${skipped} of ${total} targets were not probed\n` : head;
}

/** `37/200 done, 64 probing, 2 not found` on the terminal's stderr, at most ten times a second. */
class Progress {
  private last = 0;
  private shown = false;
  constructor(
    private readonly io: Io,
    private readonly total: number,
  ) {}

  update(done: number, running: number, notFound: number): void {
    const now = performance.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    this.shown = true;
    this.io.stderr.write(`\r\x1b[K${done}/${this.total} done, ${running} probing${notFound ? `, ${notFound} not found` : ''}`);
  }

  clear(): void {
    if (this.shown) this.io.stderr.write('\r\x1b[K');
  }
}
