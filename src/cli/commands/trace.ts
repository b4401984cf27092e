// pathmtu trace <host>: the path hop by hop, the MTU that reaches each hop, black holes located.
import { parseArgs } from 'node:util';
import type { MethodChoice } from '../../discover/index.js';
import { UsageError } from '../../errors.js';
import { isMethodChoice, METHOD_CHOICES } from '../../probe/outcome.js';
import { DEFAULT_MAX_HOPS, renderTrace, trace, type TraceEvent, type TraceResult } from '../../trace/index.js';
import { FAMILY_FLAGS, familyFlags, onePositional, parseInteger, parseSeconds, useColor, hostWithoutPort } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';
import { sudoDrop } from '../../sock/privileges.js';

const help = `pathmtu trace — the path to a host hop by hop, with the MTU that reaches each hop

Usage:
  pathmtu trace <host> [options]

First finds the exact path MTU (as 'pathmtu discover' does), then maps the hops with small probes
of every TTL at once, and shows where the MTU drops, by how much, and which router said so (its
"fragmentation needed" / "packet too big", a PTB). When large packets vanish and nobody says why
(a black hole), it sends the vanishing size with every TTL: routers before the culprit link still
answer "time exceeded", nobody after it does — that names the link. A PTB that claims less than a
size that was delivered anyway is flagged as bogus. Ends with what the MTU probably means and the
commands that fix it.

Options:
  -4, -6               use IPv4 / IPv6 only
  -m, --method M       auto (default), icmp, icmp-dgram, udp or tcp (see 'pathmtu discover --help');
                       every phase uses the method discover settled on
  -n, --numeric        do not look up hop names (names are looked up for at most 0.5 s)
      --max-hops N     highest TTL to try (default ${DEFAULT_MAX_HOPS})
      --max N          largest size to try (default: the MTU of the outgoing interface)
  -p, --port N         tcp: destination port (default 443); udp: first port (default 33434)
  -W, --timeout S      longest wait for one answer, in seconds (default: adaptive from the RTT)
      --json           print one JSON object (fields below)
  -h, --help           this help

Reading the picture:
  0  this host        the interface MTU the route leaves by
  n  address  rtt  MTU  ████   one line per hop; the number and bar are the path MTU to that hop:
                               the largest packet that reaches it (what a probe of that size with
                               this TTL measures, as tracepath and scamper show); for the target,
                               the path MTU; a shorter bar is a drop. Empty when it cannot be known
                               (a hop inside a black hole's bracket)
  ▼ 1500→1400 (−100)           drawn between two hop lines: the MTU drops on the link between them,
                               and who said so (the PTB's sender is the hop line above it)
  PTB 1400                     this router sent a packet-too-big naming its next-hop MTU (PTB 0: an
                               RFC 792 router named none; the value then comes from probing)
  bogus PTB 1300               a PTB contradicted by a larger packet that was delivered
  *                            a hop that never answers (the trace goes on past it)
  ╳ black hole                 packets above the path MTU vanish on the link below this line
                               ("somewhere before hop N" when hops in between never answer, even
                               after a pause for their ICMP rate limit to refill)

Examples:
  pathmtu trace 192.0.2.10
  pathmtu trace -6 -n example.net
  pathmtu trace --method udp host      without any privilege (forward path only)
  pathmtu trace host --json | jq '.hops[] | {ttl, address, mtu}'

JSON fields: target, address, family, method, direction, pmtu, exact, localMtu, reached,
hops[{ttl, address, name?, rttMs, mtu, ptb?{from, nextHopMtu, accepted, reason}, destination?}],
drops[{afterTtl, from, to, evidence, by, uncertain?, afterTtlMax?, zeroMtu?}] (the link after hop
afterTtl; uncertain: somewhere after hops afterTtl..afterTtlMax), firstHop, blackHole (null |
{afterTtl, lastAnswering, firstSilent, firstSilentTtl, size, afterTtlMax, uncertain, beyond}),
bogusPtbs[{from, ttl, nextHopMtu, contradictedBy}],
explanation[{cause, overhead, underlay, confidence}], fixes[{what, command}], summary, probes,
elapsedMs, reason, aborted.

Run through sudo, it opens the sockets of every method it may fall back to as root, then gives
up root for the user who ran sudo (SUDO_UID/SUDO_GID) before the first probe; every phase goes
on through those sockets. --json then has runAs{uid, gid, groups}.

Exit status: 0 the path was traced and its MTU found, 1 it could not be, 2 usage error.
Colour only on a terminal (NO_COLOR turns it off). Ctrl-C stops and prints what is known.
`;

const PHASES: Record<string, string> = {
  discover: 'finding the path MTU',
  hops: 'mapping hops',
  drops: 'following MTU drops',
  'black-hole': 'locating the black hole',
  names: 'looking up names',
};

/** One status line on stderr, rewritten in place; only on a terminal. */
function progress(io: Io): { onEvent: (e: TraceEvent) => void; clear: () => void } {
  if (!io.stderr.isTTY) return { onEvent: () => {}, clear: () => {} };
  let shown = false;
  let phase = 'discover';
  let last = 0;
  const show = (text: string): void => {
    const width = Math.max(20, (io.stderr.columns ?? 80) - 1);
    io.stderr.write(`\r\x1b[K${text.slice(0, width)}`);
    shown = true;
  };
  return {
    onEvent: (e) => {
      if (e.type === 'phase') {
        phase = e.phase;
        show(`${PHASES[phase] ?? phase}…`);
      } else if (e.atMs - last >= 50) {
        last = e.atMs;
        show(`${PHASES[phase] ?? phase}… ${e.sent} probes sent${e.outstanding > 0 ? `, ${e.outstanding} awaiting an answer` : ''}`);
      }
    },
    clear: () => {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}

const options = {
  ...FAMILY_FLAGS,
  method: { type: 'string', short: 'm' },
  numeric: { type: 'boolean', short: 'n', default: false },
  'max-hops': { type: 'string' },
  max: { type: 'string' },
  port: { type: 'string', short: 'p' },
  timeout: { type: 'string', short: 'W' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  const host = hostWithoutPort(onePositional(positionals, '<host>', 'pathmtu trace 192.0.2.10'), 'trace', (port, h) => `to trace through TCP port ${port}: pathmtu trace --method tcp -p ${port} ${h}`);
  const method = (values.method ?? 'auto') as MethodChoice;
  if (!isMethodChoice(method)) {
    throw new UsageError(`--method must be one of ${METHOD_CHOICES.join(', ')}; got '${values.method}'`);
  }
  const family = familyFlags(values['4'], values['6']);
  const maxHops = parseInteger('--max-hops', values['max-hops'], 1, 255);
  const max = parseInteger('--max', values.max, 68, 65575);
  const port = parseInteger('--port', values.port, 1, 65535);
  const timeoutMs = parseSeconds('--timeout', values.timeout, 60);

  const sudo = sudoDrop(io.env); // through sudo: give up root once the sockets are open
  const status = values.json ? { onEvent: () => {}, clear: () => {} } : progress(io);
  let result: TraceResult;
  try {
    result = await trace(host, {
      method,
      names: !values.numeric,
      ...(family !== undefined ? { family } : {}),
      ...(maxHops !== undefined ? { maxHops } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      signal: io.signal,
      ...sudo.hook,
      onEvent: status.onEvent,
    });
  } finally {
    status.clear();
  }

  if (values.json) io.stdout.write(`${JSON.stringify({ ...result, ...sudo.report() }, null, 2)}\n`);
  else io.stdout.write(renderTrace(result, { color: useColor(io.stdout, io.env), width: io.stdout.columns ?? 80 }));
  return result.pmtu !== null && result.reached && !result.aborted ? EXIT_OK : EXIT_FAIL;
}

export const traceCommand: Command = { name: 'trace', help, options, run };
