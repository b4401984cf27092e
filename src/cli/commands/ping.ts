// pathmtu ping <host>: a DF-aware ping. Sizes are whole IP packets unless --payload says otherwise,
// and the header line says which; routers' "too big" answers are shown with their MTU.
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { parseSweep, ping, PING_METHOD_CHOICES, isPingMethodChoice, sweepRows, type PingHeader, type PingOptions, type PingProbe, type PingResult, type SweepRow } from '../../ping/index.js';
import { FAMILY_FLAGS, familyFlags, onePositional, parseInteger, parseSeconds, useColor, hostWithoutPort } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';
import { sudoDrop } from '../../sock/privileges.js';

const help = `pathmtu ping — ping with "don't fragment" set, sizes that mean what they say

Usage:
  pathmtu ping <host> [options]

Sends ICMP echo requests of one size (or a sweep of sizes) and shows what became of each: a
reply, a router's "fragmentation needed" / "packet too big" (with the MTU it reported and who
sent it), another ICMP error, a refusal by the local stack, or silence. Every answer is matched
to its request by echo id, sequence and a per-request nonce, so other pings' replies and
duplicates are never counted as ours.

Sizes: -s gives the whole IP packet (IP header included, the unit pathmtu uses everywhere);
--payload gives the ICMP payload, which is what 'ping -s' means in iputils. For IPv4
1400 bytes = 1372 payload + 20 IP + 8 ICMP; for IPv6 the IP header is 40. The header line says
which unit you gave. Smallest: the headers + 8 bytes (the request's nonce).

Options:
  -4, -6               use IPv4 / IPv6 only
  -s, --size N         whole IP packet size in bytes (default 84 for IPv4, 104 for IPv6: 56 payload)
      --payload N      ICMP payload size in bytes instead (as 'ping -s N')
      --df             set don't fragment (the default)
      --no-df          let packets be fragmented: IPv4 clears DF (the kernel and routers may
                       fragment); IPv6 lets the kernel fragment to the path MTU it has learned
  -c, --count N        stop after N requests (default: until Ctrl-C)
  -i, --interval S     seconds between requests (default 1; below 0.2 only as root)
  -W, --timeout S      seconds to wait for each answer (default 1)
  -t, --ttl N          TTL / hop limit of the requests (a router that far answers "time exceeded")
      --sweep A:B[:S]  one request per size from A to B (whole packets, step S, default 1); ends
                       with a table of sizes that got a reply, a "too big", or nothing
  -m, --method M       auto (default): a raw ICMP socket when permitted (root or CAP_NET_RAW),
                       else an unprivileged ping socket (net.ipv4.ping_group_range); or force
                       icmp / icmp-dgram
      --json           print one JSON object at the end (fields below)
  -q, --quiet          print only the header and the summary
  -h, --help           this help

Examples:
  pathmtu ping -c 3 -s 1500 192.0.2.10          does a full 1500-byte packet get through?
  pathmtu ping -c 3 --payload 1472 192.0.2.10   the same request, counted as iputils does
  pathmtu ping --sweep 1380:1500:4 host         where do packets stop getting through?
  pathmtu ping -c 1 -t 2 -s 1400 host           what does the second router say?
  pathmtu ping -c 5 --no-df -s 1500 host        does it work when fragmentation is allowed?

Output: one line per request ("1400 bytes from A: seq=1 ttl=61 time=0.21 ms",
"From R seq=2: packet too big, next-hop MTU 1400", "seq=3: no answer within 1 s"), then the
summary: sent, received, errors, duplicates, loss, and RTT min/avg/max/mdev.
JSON fields: target, address, family, method, socket, sizeUnit, size, payload, overhead, df, ttl,
intervalMs, timeoutMs, count, sweep, probes[{seq, size, outcome (reply | tooBig | localTooBig |
timeExceeded | unreachable | lost), rttMs, ttl, from, nextHopMtu, plausible, mtu, reason,
duplicate}], summary{sent, received, errors, duplicates, late, lossPercent, rtt{min, avg, max,
mdev}, elapsedMs}, sweepReport{from, to, step, largestPassed, smallestFailed}, ignored, aborted.

Run through sudo, it opens its socket as root, then gives up root for the user who ran sudo
(SUDO_UID/SUDO_GID) before the first request, as ping does; --json then has runAs{uid, gid, groups}.

Exit status: 0 at least one reply, 1 none, 2 usage error. Ctrl-C stops and prints the summary.
`;

const options = {
  ...FAMILY_FLAGS,
  size: { type: 'string', short: 's' },
  payload: { type: 'string' },
  df: { type: 'boolean' },
  'no-df': { type: 'boolean' },
  count: { type: 'string', short: 'c' },
  interval: { type: 'string', short: 'i' },
  timeout: { type: 'string', short: 'W' },
  ttl: { type: 'string', short: 't' },
  sweep: { type: 'string' },
  method: { type: 'string', short: 'm' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  const host = hostWithoutPort(onePositional(positionals, '<host>', 'pathmtu ping -c 3 -s 1400 192.0.2.10'), 'ping', (port, h) => `ICMP echo has no ports (pathmtu ping ${h}); to probe through TCP port ${port}: pathmtu --method tcp -p ${port} ${h}`);
  if (values.df && values['no-df']) throw new UsageError('--df and --no-df exclude each other');
  if (values.size !== undefined && values.payload !== undefined) throw new UsageError('-s/--size (whole packet) and --payload exclude each other');
  if (values.sweep !== undefined && (values.size !== undefined || values.payload !== undefined)) {
    throw new UsageError('--sweep sets the sizes itself; drop -s/--payload');
  }
  if (values.sweep !== undefined && values.count !== undefined) throw new UsageError('--sweep sends one request per size; drop -c');
  if (values.json && values.quiet) throw new UsageError('--json and --quiet exclude each other');
  const method = values.method ?? 'auto';
  if (!isPingMethodChoice(method)) {
    throw new UsageError(`--method must be ${PING_METHOD_CHOICES.slice(0, -1).join(', ')} or ${PING_METHOD_CHOICES.at(-1)}; got '${method}'`);
  }
  const family = familyFlags(values['4'], values['6']);
  const size = parseInteger('--size', values.size, 1, 65535);
  const payload = parseInteger('--payload', values.payload, 0, 65535);
  const count = parseInteger('-c', values.count, 1, 999_999_999);
  const intervalMs = parseSeconds('-i', values.interval, 3600);
  const timeoutMs = parseSeconds('-W', values.timeout, 600);
  const ttl = parseInteger('-t', values.ttl, 1, 255);
  const sweep = values.sweep !== undefined ? parseSweep(values.sweep) : undefined;

  const color = !values.json && useColor(io.stdout, io.env);
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  let header: PingHeader | undefined;
  const sudo = sudoDrop(io.env); // through sudo: give up root once the sockets are open
  const opts: PingOptions = {
    method,
    df: !values['no-df'],
    signal: io.signal,
    ...sudo.hook,
    ...(family !== undefined ? { family } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(payload !== undefined ? { payload } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(sweep !== undefined ? { sweep } : {}),
    onStart: (h) => {
      header = h;
      if (!values.json) io.stdout.write(`${renderHeader(h)}\n`);
    },
    onReply: (p) => {
      if (!values.json && !values.quiet && header !== undefined) io.stdout.write(`${renderProbe(p, header, paint)}\n`);
    },
  };
  const result = await ping(host, opts);
  if (values.json) io.stdout.write(`${JSON.stringify({ ...result, ...sudo.report() }, null, 2)}\n`);
  else io.stdout.write(renderSummary(result));
  return result.summary.received > 0 ? EXIT_OK : EXIT_FAIL;
}

function ms(x: number): string {
  return x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
}

function seconds(msValue: number): string {
  const s = msValue / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')} s`;
}

/** "1400 (1372 payload + 28)": the whole packet first, as pathmtu counts. */
function sizeText(size: number, h: PingHeader): string {
  return `${size} (${size - h.overhead} payload + ${h.overhead})`;
}

export function renderHeader(h: PingHeader): string {
  const host = h.target === h.address ? h.address : `${h.target} (${h.address})`;
  const what =
    h.sweep !== null
      ? `sweep of whole IP packets ${h.sweep.from}..${h.sweep.to}${h.sweep.step !== 1 ? ` step ${h.sweep.step}` : ''} (payload = size - ${h.overhead})`
      : h.sizeUnit === 'payload'
        ? `payload ${h.payload} (as ping -s), whole IP packet ${sizeText(h.size!, h)}`
        : `size ${sizeText(h.size!, h)}, whole IP packet`;
  const df = h.df ? 'DF set' : h.family === 4 ? 'DF clear (may be fragmented)' : 'fragmentation allowed';
  const sock = h.socket === 'raw' ? 'raw ICMP socket' : 'ping socket';
  const ttl = h.ttl !== null ? `, ${h.family === 4 ? 'TTL' : 'hop limit'} ${h.ttl}` : '';
  return `PING ${host}: ${what}, ${df}${ttl}, ${sock}`;
}

function errorText(p: PingProbe, family: 4 | 6): string {
  switch (p.outcome) {
    case 'tooBig':
      return `packet too big, next-hop MTU ${p.nextHopMtu}${p.plausible === false && p.reason ? ` (implausible: ${p.reason})` : ''}`;
    case 'timeExceeded':
      return family === 4 ? 'time to live exceeded' : 'hop limit exceeded';
    case 'unreachable':
      return `destination unreachable: ${p.reason ?? 'unknown code'}`;
    default:
      return p.outcome;
  }
}

export function renderProbe(p: PingProbe, h: PingHeader, paint: (code: string, s: string) => string = (_c, s) => s): string {
  const dup = p.duplicate ? ' (DUP!)' : '';
  const sized = h.sweep !== null ? ` (${p.size} bytes)` : '';
  switch (p.outcome) {
    case 'reply': {
      const ttl = p.ttl !== undefined ? ` ttl=${p.ttl}` : '';
      return `${p.size} bytes from ${p.from}: seq=${p.seq}${ttl} time=${ms(p.rttMs ?? 0)} ms${dup}`;
    }
    case 'localTooBig':
      return paint('33', `seq=${p.seq}: local error: ${p.size} bytes exceed the interface MTU ${p.mtu} (not sent)${dup}`);
    case 'lost':
      return paint('31', `seq=${p.seq}: no answer within ${seconds(h.timeoutMs)}${sized}`);
    case 'unreachable':
      if (p.from === undefined) return paint('31', `seq=${p.seq}: ${p.reason ?? 'not sent'}${sized}`);
      return paint('31', `From ${p.from} seq=${p.seq}: ${errorText(p, h.family)}${sized}${dup}`);
    default:
      return paint('33', `From ${p.from} seq=${p.seq}: ${errorText(p, h.family)}${sized}${dup}`);
  }
}

function pct(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function rowText(r: SweepRow, family: 4 | 6): string {
  switch (r.outcome) {
    case 'reply':
      return r.rttMinMs !== undefined ? `reply (${ms(r.rttMinMs)}${r.rttMaxMs !== r.rttMinMs ? `..${ms(r.rttMaxMs!)}` : ''} ms)` : 'reply';
    case 'tooBig':
      return `packet too big from ${r.router}, next-hop MTU ${r.nextHopMtu}`;
    case 'localTooBig':
      return `refused locally: interface MTU ${r.mtu}`;
    case 'lost':
      return 'vanished (no answer)';
    case 'timeExceeded':
      return `${family === 4 ? 'time to live' : 'hop limit'} exceeded at ${r.router}`;
    case 'unreachable':
      return r.router !== undefined ? `unreachable from ${r.router}: ${r.reason}` : `${r.reason}`;
  }
}

export function renderSweep(r: PingResult): string {
  const rep = r.sweepReport!;
  const rows = sweepRows(r.probes);
  const out = [`--- sweep of ${r.address}: ${rep.from}..${rep.to}${rep.step !== 1 ? ` step ${rep.step}` : ''} (whole IP packets) ---`];
  const ranges = rows.map((row) => (row.from === row.to ? String(row.from) : `${row.from}..${row.to}`));
  const width = Math.max(4, ...ranges.map((s) => s.length));
  out.push(`  ${'size'.padEnd(width)}  result`);
  rows.forEach((row, i) => out.push(`  ${ranges[i].padEnd(width)}  ${rowText(row, r.family)}`));
  if (rep.largestPassed !== null) out.push(`largest that passed: ${sizeText(rep.largestPassed, r)}`);
  else out.push('no size passed');
  // Routers send a burst of about 6 errors, then 1 per second: silence right above a PTB may be that.
  const ptbAt = rows.findIndex((row) => row.outcome === 'tooBig');
  if (ptbAt >= 0 && rows.slice(ptbAt + 1).some((row) => row.outcome === 'lost')) {
    out.push('  (sizes that vanished above a "too big" may only have met the router\'s ICMP rate limit)');
  }
  return `${out.join('\n')}\n`;
}

export function renderSummary(r: PingResult): string {
  const s = r.summary;
  const out: string[] = [];
  if (r.sweepReport !== null) out.push(renderSweep(r).trimEnd());
  out.push(`--- ${r.target} ping statistics ---`);
  const parts = [`${s.sent} packets transmitted`, `${s.received} received`];
  if (s.duplicates > 0) parts.push(`+${s.duplicates} duplicates`);
  if (s.errors > 0) parts.push(`+${s.errors} errors`);
  if (s.late > 0) parts.push(`${s.late} late`);
  parts.push(`${pct(s.lossPercent)}% packet loss`);
  parts.push(`time ${Math.round(s.elapsedMs)}ms`);
  out.push(parts.join(', '));
  if (s.rtt !== null) out.push(`rtt min/avg/max/mdev = ${[s.rtt.min, s.rtt.avg, s.rtt.max, s.rtt.mdev].map((x) => x.toFixed(3)).join('/')} ms`);
  if (r.ignored > 0) out.push(`${r.ignored} answer(s) ignored: not ours (another ping's, or quoting no request we sent)`);
  if (r.aborted) out.push('(interrupted)');
  return `${out.join('\n')}\n`;
}

export const pingCommand: Command = { name: 'ping', help, options, run };
