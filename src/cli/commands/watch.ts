// pathmtu watch <targets...> | -f FILE: keep path MTUs true over time and report each change.
import { DEFAULT_INTERVAL_S, DEFAULT_RAISE_S } from '../../watch/machine.js';
import { parseArgs } from 'node:util';
import { PermissionError, UsageError } from '../../errors.js';
import { METHOD_CHOICES, isMethodChoice } from '../../probe/outcome.js';
import { Watcher, WatchTargetError } from '../../watch/watcher.js';
import type { WatchEvent, WatchOptions, WatchState } from '../../watch/types.js';
import { FAMILY_FLAGS, familyFlags, hostWithoutPort, parseInteger, parseSeconds } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type Command, type Io, type ParseArgsOptionsConfig } from '../command.js';
import { readSources, type Source } from '../target-sources.js';
import { expandTargets, MAX_TARGETS_LIMIT } from '../targets.js';
import { sudoDrop } from '../../sock/privileges.js';

const help = `pathmtu watch — keep path MTUs true over time and report every change

Usage:
  pathmtu watch <target>... [options]
  pathmtu watch -f FILE [options]

Finds each target's path MTU (as 'pathmtu discover' does), then keeps it true with little traffic,
after RFC 8899's timers:
  - every --interval it confirms the PMTU with one probe of that size and one small control probe;
  - a "packet too big" for it (validated against the probe it quotes), or PMTU-sized probes lost
    3 times while the small ones pass, starts a search down at once: the new value is what that
    search finds delivered, never a number guessed from a loss;
  - after --raise without a change it tries larger sizes (a search up from the current PMTU);
  - nothing answered 3 times in a row (or a validated "unreachable"): the target is down; it is
    probed at every interval and searched again when it answers.
At the defaults this costs about 2 probes per target per minute, plus a search every 10 minutes.

Each change is one event: when a target's PMTU is first known, lowered (reason ptb: a router said
so; black-hole: probes above it vanish and no router says why; local-mtu: this host's own interface
MTU dropped), raised (raise), a name that now resolves to another address (address: the PMTU
is the new address's; names are resolved again at each raise timer), or the target goes
unreachable or comes back (unreachable, reachable).

Run through sudo, it opens the sockets of every method (and family) the targets may need as root,
then gives up root for the user who ran sudo (SUDO_UID/SUDO_GID) before the first probe, as
discover does: every search and confirmation after that goes through those sockets.

Options:
  -f, --file FILE      targets from FILE, one per line ('#' comments; '-' for stdin); may be repeated;
                       prefixes (198.18.5.0/28) expand to their hosts, as in discover
      --max-targets N  refuse more than N targets in all (default 4096)
  -i, --interval S     seconds between confirmations of each target (default 60; fractions allowed)
      --raise S        seconds after which a larger PMTU is tried (default 600, RFC 8899's
                       PMTU_RAISE_TIMER)
  -4, -6               use IPv4 / IPv6 only
  -m, --method M       auto (default), icmp, icmp-dgram, udp or tcp (see 'pathmtu discover --help');
                       auto picks a method per target at its first search and keeps it
      --max N          largest size to consider (default: the outgoing interface MTU)
      --min N          smallest size to consider (default: 68 for IPv4, 1280 for IPv6)
  -p, --port N         tcp: destination port (default 443); udp: first port (default 33434)
      --json           one JSON object per line (NDJSON) per event, on stdout
  -h, --help           this help

Output: on a terminal, a live table (target, PMTU, state, since when, last change, probes/s of
the last minute) redrawn in place, with the latest events below it. Otherwise (a pipe, a file, or
--json) one line per event:
  2026-11-30T15:40:02Z 198.18.2.2  1500  path MTU 1500
  2026-11-30T15:47:12Z 198.18.2.2  1500 → 1400  PTB 1400 from 198.18.0.2
  2026-11-30T15:58:40Z 198.18.2.2  1400 → 1500  raise to 1500 succeeded
JSON fields: time, target, address, family, method, pmtu (null when unknown), previous (null for a
target's first event), reason (initial, ptb, black-hole, local-mtu, raise, address, unreachable, reachable),
blackHole, ptbFrom (reason ptb), detail. A target that cannot be watched (unknown host, no
permission) is reported on stderr and retried at every interval.

Examples:
  pathmtu watch 192.0.2.10 2001:db8::10
  pathmtu watch -f targets.txt --json | jq -c 'select(.reason != "initial")'
  pathmtu watch --interval 10 --raise 120 -m udp vpn-gateway.example.net

Exit status: 0 after Ctrl-C (or when the reader of the output goes away), 1 when a method needs a
privilege this process lacks, 2 usage error.
`;

const options = {
  ...FAMILY_FLAGS,
  file: { type: 'string', short: 'f', multiple: true },
  'max-targets': { type: 'string' },
  interval: { type: 'string', short: 'i' },
  raise: { type: 'string' },
  method: { type: 'string', short: 'm' },
  max: { type: 'string' },
  min: { type: 'string' },
  port: { type: 'string', short: 'p' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

/** Seconds, from 0.1 (tests) to `max`. */
function seconds(flag: string, text: string | undefined, max: number): number | undefined {
  const ms = parseSeconds(flag, text, max);
  if (ms === undefined) return undefined;
  if (ms < 100) throw new UsageError(`${flag} must be at least 0.1 seconds, got ${text!.trim()}`);
  return ms / 1000;
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args: argv, strict: true, allowPositionals: true, options, tokens: true });
  if (positionals.length === 0 && values.file === undefined) throw new UsageError('missing <target>, e.g. pathmtu watch 192.0.2.10 (or -f FILE)');
  for (const t of positionals) if (t !== '-' && !t.includes('/')) hostWithoutPort(t, 'watch', (port, h) => `to probe through TCP port ${port}: pathmtu watch --method tcp -p ${port} ${h}`);
  const method = values.method ?? 'auto';
  if (!isMethodChoice(method)) throw new UsageError(`--method must be one of ${METHOD_CHOICES.join(', ')}; got '${values.method}'`);
  const family = familyFlags(values['4'], values['6']);
  // Hosts, prefixes, -f lists and '-' as discover takes them: a bad line is named FILE:LINE.
  const sources: Source[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') sources.push(t.value === '-' ? { kind: 'stdin' } : { kind: 'arg', text: t.value });
    else if (t.kind === 'option' && t.name === 'file') sources.push({ kind: 'file', path: t.value! });
  }
  const maxTargets = parseInteger('--max-targets', values['max-targets'], 1, MAX_TARGETS_LIMIT);
  const targets = expandTargets(await readSources(sources, io), { ...(family !== undefined ? { family } : {}), ...(maxTargets !== undefined ? { maxTargets } : {}) }).map((t) => t.target);
  const intervalS = seconds('--interval', values.interval, 86_400);
  const raiseS = seconds('--raise', values.raise, 7 * 86_400);
  const max = parseInteger('--max', values.max, 68, 65575);
  const min = parseInteger('--min', values.min, 68, 65575);
  const port = parseInteger('--port', values.port, 1, 65535);
  if (min !== undefined && max !== undefined && max < min) throw new UsageError(`--max ${max} is below --min ${min}`);

  const stop = new AbortController();
  const sudo = sudoDrop(io.env); // through sudo: give up root once the sockets are open
  const opts: WatchOptions = {
    method,
    signal: stop.signal,
    ...sudo.hook,
    ...(family !== undefined ? { family } : {}),
    ...(intervalS !== undefined ? { intervalS } : {}),
    ...(raiseS !== undefined ? { raiseS } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(min !== undefined ? { min } : {}),
    ...(port !== undefined ? { port } : {}),
  };
  const watcher = new Watcher(targets, opts);
  const live = Boolean(io.stdout.isTTY) && !values.json && io.env.TERM !== 'dumb';
  const view = live ? new LiveTable(io, watcher, opts) : null;
  let fatal: PermissionError | undefined;
  const finished = new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
    stop.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  watcher.on('change', (e) => {
    if (values.json) io.stdout.write(`${JSON.stringify(e)}\n`);
    else if (view) view.event(eventLine(e));
    else io.stdout.write(`${eventLine(e)}\n`);
  });
  watcher.on('error', (err) => {
    // A privilege the method needs is missing: no retry will grant it.
    if (err instanceof WatchTargetError && err.cause instanceof PermissionError) {
      fatal ??= err.cause;
      stop.abort();
      return;
    }
    const line = `pathmtu watch: ${err.message}`;
    if (view) view.event(line);
    else io.stderr.write(`${line}\n`);
  });

  view?.start();
  await watcher.start();
  await finished;
  await watcher.stop();
  view?.stop();
  if (fatal !== undefined) {
    io.stderr.write(`pathmtu watch: ${fatal.message}\n`);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

/** "2026-11-30T15:40:02Z 198.18.2.2  1500 → 1400  PTB 1400 from 198.18.0.2" */
export function eventLine(e: WatchEvent): string {
  const time = e.time.replace(/\.\d+Z$/, 'Z');
  const host = e.target === e.address ? e.address : `${e.target} (${e.address})`;
  const value = (v: number | null): string => (v === null ? '—' : String(v));
  const change = e.reason === 'initial' ? value(e.pmtu) : `${value(e.previous)} → ${value(e.pmtu)}`;
  const detail = e.reason === 'unreachable' && !e.detail.startsWith('unreachable') ? `target unreachable: ${e.detail}` : e.detail;
  return `${time} ${host}  ${change}  ${detail}`;
}

/** "45s", "3m05s", "2h03m", "4d02h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** The table's rows, as text (also for tests). */
export function renderTable(states: WatchState[], nowMs: number, width = 120): string[] {
  const rows = states.map((s) => {
    const host = s.address !== null && s.address !== s.target ? `${s.target} (${s.address})` : s.target;
    const pmtu = s.pmtu === null ? '—' : `${s.pmtu}${s.blackHole ? '*' : ''}`;
    const state = s.error !== undefined && s.pmtu === null ? 'error' : s.phase;
    const since = s.sinceMs === null ? '' : duration(nowMs - s.sinceMs);
    const last = s.lastEvent === null ? (s.error ?? '') : `${s.lastEvent.reason === 'initial' ? '' : `${s.lastEvent.previous ?? '—'} → ${s.lastEvent.pmtu ?? '—'} `}${s.lastEvent.detail}`;
    return [host, pmtu, state, since, last, s.probesPerSecond.toFixed(2)];
  });
  const head = ['TARGET', 'PMTU', 'STATE', 'SINCE', 'LAST CHANGE', 'PROBES/S'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  w[4] = Math.min(w[4], 48);
  const line = (r: string[]): string => {
    const cells = r.map((c, i) => (i === 4 && c.length > w[4] ? `${c.slice(0, w[4] - 1)}…` : c));
    const text = `${cells[0].padEnd(w[0])}  ${cells[1].padStart(w[1])}  ${cells[2].padEnd(w[2])}  ${cells[3].padStart(w[3])}  ${cells[4].padEnd(w[4])}  ${cells[5].padStart(w[5])}`;
    return text.length > width ? text.slice(0, width) : text;
  };
  return [line(head), ...rows.map(line)];
}

/** mtr-like: the table redrawn in place every second and at each event, the latest events below. */
class LiveTable {
  private lines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly recent: string[] = [];

  constructor(
    private readonly io: Io,
    private readonly watcher: Watcher,
    private readonly opts: WatchOptions,
  ) {}

  start(): void {
    this.io.stdout.write('\x1b[?25l'); // hide the cursor while redrawing
    this.draw();
    this.timer = setInterval(() => this.draw(), 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    this.io.stdout.write('\x1b[?25h');
  }

  event(line: string): void {
    this.recent.push(line);
    if (this.recent.length > 5) this.recent.shift();
    this.draw();
  }

  private draw(final = false): void {
    const width = Math.max(40, (this.io.stdout.columns ?? 120) - 1);
    const states = this.watcher.states();
    const interval = this.opts.intervalS ?? DEFAULT_INTERVAL_S;
    const raise = this.opts.raiseS ?? DEFAULT_RAISE_S;
    const title = `pathmtu watch: ${states.length} target${states.length === 1 ? '' : 's'}, confirm every ${interval} s, raise after ${raise} s${final ? '' : '   (Ctrl-C to quit)'}`;
    const body = [title.slice(0, width), '', ...renderTable(states, Date.now(), width)];
    if (this.recent.length > 0) body.push('', ...this.recent.map((l) => l.slice(0, width)));
    // Back to the top of the previous drawing, clear below, draw again.
    const up = this.lines > 0 ? `\x1b[${this.lines}F\x1b[J` : '';
    this.io.stdout.write(`${up}${body.join('\n')}\n`);
    this.lines = body.length;
  }
}

export const watchCommand: Command = { name: 'watch', help, options, flags: { intervalS: '--interval', raiseS: '--raise' }, run };
