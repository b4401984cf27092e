// pathmtu discover <host> (also plain `pathmtu <host>`): the path MTU, exactly, and what it means.
import { parseArgs } from 'node:util';
import { discover, discoverMany, type DiscoverEvent, type DiscoverManyOptions, type DiscoverResult, type MethodChoice } from '../../discover/index.js';
import { payloadSizes } from '../../explain/payload.js';
import { UsageError } from '../../errors.js';
import { METHOD_CHOICES, isMethodChoice } from '../../probe/outcome.js';
import { FAMILY_FLAGS, familyFlags, onePositional, parseInteger, parseSeconds, hostWithoutPort } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';
import { sudoDrop } from '../../sock/privileges.js';
import { MAX_TARGETS_LIMIT } from '../targets.js';
import type { Source } from './discover-many.js';

const help = `pathmtu discover — the largest IP packet that crosses the path to a host unfragmented

Usage:
  pathmtu <host> [options]
  pathmtu discover <host> [options]
  pathmtu [discover] <target>... [-f FILE]... [-] [options]     several targets at once

Sends probes of several sizes at once with "don't fragment" set, uses every answer (routers'
"fragmentation needed" / "packet too big" messages are hints to confirm, never trusted alone;
silence is only believed once confirmed), and prints the exact path MTU: the size of the whole
IP packet, IP header included. <host> is a name, an IPv4 or IPv6 address, or a link-local IPv6
address with its interface (fe80::1%eth0).

Several targets: hosts, CIDR prefixes (198.18.5.0/28: its hosts, without the network and
broadcast addresses), lists with -f FILE (one target per line, # comments, blank lines) and '-'
for a list on stdin. They are probed at once (names resolved concurrently) and printed as a table,
one row per target in the order given, with how each answer was learned: the PTB that named it, a
black hole (only silence above it), or deliveries alone; why a target was not found is listed
under the table. With --json: NDJSON, one object per target as it finishes (the one-target
fields below; a target that could not be probed: {target, error{code, message}}).

Options:
  -4, -6               use IPv4 / IPv6 only
  -m, --method M       auto (default), icmp, icmp-dgram, udp or tcp:
                         icmp        ICMP echo over a raw socket (root or CAP_NET_RAW); round trip
                         icmp-dgram  ICMP echo over an unprivileged ping socket
                                     (net.ipv4.ping_group_range); round trip
                         udp         UDP to closed ports, answers via the error queue; no privilege
                                     needed; measures the forward path only
                         tcp         TCP SYN padded to size (root); for hosts that pass only TCP
                       auto searches with the first permitted of icmp, icmp-dgram, udp, tcp and,
                       in the same first round, sends two small probes of each other permitted
                       method: when the host answers only another one, it switches within a
                       few round trips; a method the host never answers is given up in ~2 s
      --max N          largest size to try (default: the MTU of the outgoing interface)
      --min N          smallest size to try (default: 68 for IPv4, 1280 for IPv6)
  -p, --port N         tcp: destination port (default 443); udp: first port (default 33434)
  -W, --timeout S      longest wait for one answer, in seconds (default: adaptive from the RTT)
      --json           print one JSON object (fields below)
  -q, --quiet          print only the number (nothing on failure); several targets:
                       'target address PMTU' per line, '-' for what is not known
  -v, --verbose        print each probe and what became of it (on stderr)
  -h, --help           this help
Several targets:
  -f, --file FILE      read targets from FILE ('-': stdin); may be repeated
      --both           probe each name over IPv4 and over IPv6 (one row each; addresses once)
      --rate PPS       at most PPS probes per second, all targets together
      --concurrency N  targets probed at once (default 256)
      --max-targets N  refuse more targets than N in all (default 4096), e.g. a prefix typed too short

Examples:
  pathmtu 198.18.3.2                            find the path MTU, best method available
  pathmtu -6 --method udp example.net           IPv6, without any privilege
  pathmtu --method tcp -p 22 198.18.3.2         through a firewall that only passes SSH
  pathmtu 198.18.3.2 --json | jq .pmtu
  pathmtu 198.18.3.2 198.18.7.2 2001:db8:3::2   three targets, one table
  pathmtu -f routers.txt --rate 2000            a list, at most 2000 probes a second
  pathmtu 198.18.5.0/28 --json | jq -c '[.address, .pmtu]'
  printf '198.18.3.2\\n2001:db8:3::2\\n' | pathmtu - -q      target, address, PMTU per line
  pathmtu --both dual.example.net               IPv4 and IPv6 of a dual-stack name

Output: the answer first, then what it means (largest UDP/ICMP payload, TCP MSS), then what was
seen (PTBs and who sent them, black holes). A black hole means: packets above some size vanish
and no router says why — use 'pathmtu trace <host>' to find the link.
JSON fields: target, address, family, method, direction, pmtu, exact, lowerBound, upperBound,
localMtu, kernelPmtu, probes, elapsedMs, ptbs[{from, nextHopMtu, accepted, reason}], blackHole, methodsTried,
ignored, aborted, reason.

Run through sudo, it opens the sockets of every method it may fall back to as root, then gives up
root for the user who ran sudo (SUDO_UID/SUDO_GID) before the first probe; --json then has
runAs{uid, gid, groups}.

Exit status: 0 the path MTU was found (of every target), 1 it could not be (of some target;
bounds still printed), 2 usage error (a bad line in a list is named as FILE:LINE; nothing is sent).
Ctrl-C stops and prints what is known so far (of several targets: those that finished).
Several targets: the sockets of every method, both families, are opened up front, then root goes.
`;

const options = {
  ...FAMILY_FLAGS,
  method: { type: 'string', short: 'm' },
  max: { type: 'string' },
  min: { type: 'string' },
  port: { type: 'string', short: 'p' },
  timeout: { type: 'string', short: 'W' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  verbose: { type: 'boolean', short: 'v', default: false },
  file: { type: 'string', short: 'f', multiple: true },
  both: { type: 'boolean', default: false },
  rate: { type: 'string' },
  concurrency: { type: 'string' },
  'max-targets': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args: argv, strict: true, allowPositionals: true, options, tokens: true });
  const method = (values.method ?? 'auto') as MethodChoice;
  if (!isMethodChoice(method)) {
    throw new UsageError(`--method must be one of ${METHOD_CHOICES.join(', ')}; got '${values.method}'`);
  }
  if (values['4'] && values['6']) throw new UsageError('-4 and -6 exclude each other (--both probes a name over each family)');
  if (values.both && (values['4'] || values['6'])) throw new UsageError('--both probes each family: leave out -4/-6');
  const family = familyFlags(values['4'], values['6']);
  const max = parseInteger('--max', values.max, 68, 65575);
  const min = parseInteger('--min', values.min, 68, 65575);
  const port = parseInteger('--port', values.port, 1, 65535);
  const timeoutMs = parseSeconds('--timeout', values.timeout, 60);
  if (values.quiet && values.verbose) throw new UsageError('--quiet and --verbose exclude each other');
  const ratePps = parseInteger('--rate', values.rate, 1, 10_000_000);
  const concurrency = parseInteger('--concurrency', values.concurrency, 1, 65536);
  const maxTargets = parseInteger('--max-targets', values['max-targets'], 1, MAX_TARGETS_LIMIT);

  const sudo = sudoDrop(io.env); // through sudo: give up root once the sockets are open
  // Several targets (or a list, stdin, a prefix, --both): the table / NDJSON of discover-many.ts.
  const many = positionals.length > 1 || values.file !== undefined || values.both || positionals.some((p) => p === '-' || p.includes('/'));
  if (many) {
    const sources: Source[] = [];
    for (const t of tokens) {
      if (t.kind === 'positional') sources.push(t.value === '-' ? { kind: 'stdin' } : { kind: 'arg', text: t.value });
      else if (t.kind === 'option' && t.name === 'file') sources.push({ kind: 'file', path: t.value! });
    }
    const { runMany } = await import('./discover-many.js');
    return runMany(
      sources,
      {
        discover: {
          method,
          ...(max !== undefined ? { max } : {}),
          ...(min !== undefined ? { min } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(ratePps !== undefined ? { ratePps } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...sudo.hook,
        },
        runAs: sudo.report,
        ...(family !== undefined ? { family } : {}),
        both: values.both,
        ...(maxTargets !== undefined ? { maxTargets } : {}),
        json: values.json,
        quiet: values.quiet,
        ...(values.verbose ? { describeEvent } : {}),
      },
      io,
    );
  }
  const host = hostWithoutPort(onePositional(positionals, '<host>', 'pathmtu discover 198.18.3.2'), 'discover', (port, h) => `to probe through TCP port ${port}: pathmtu --method tcp -p ${port} ${h}`);

  const discoverOptions = {
    method,
    ...(family !== undefined ? { family } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(min !== undefined ? { min } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    signal: io.signal,
  };
  const onEvent = values.verbose ? (e: DiscoverEvent) => io.stderr.write(describeEvent(e)) : undefined;
  // --concurrency and --max-targets are caps one host is within; --rate is honoured through
  // discoverMany, which holds the global packet rate (the output stays the one-target output).
  const result = ratePps === undefined ? await discover(host, { ...discoverOptions, ...sudo.hook, ...(onEvent ? { onEvent } : {}) }) : await discoverOne(host, { ...discoverOptions, ...sudo.hook, ratePps, ...(onEvent ? { onEvent: (_: number, e: DiscoverEvent) => onEvent(e) } : {}) });

  if (values.json) io.stdout.write(`${JSON.stringify({ ...result, ...sudo.report() }, null, 2)}\n`);
  else if (values.quiet) {
    if (result.pmtu !== null) io.stdout.write(`${result.pmtu}\n`);
  } else io.stdout.write(render(result));
  return result.pmtu !== null && !result.aborted ? EXIT_OK : EXIT_FAIL;
}

/** One host through discoverMany (for --rate): its result, or the error it failed with. */
async function discoverOne(host: string, options: DiscoverManyOptions): Promise<DiscoverResult> {
  for await (const r of discoverMany([host], options)) {
    if (!r.ok) throw r.error;
    return r.result;
  }
  throw new Error('discoverMany gave no result for its one target');
}

function describeEvent(e: DiscoverEvent): string {
  const t = (ms: number): string => `${ms.toFixed(1).padStart(8)} ms`;
  switch (e.type) {
    case 'method':
      return `method ${e.method} (${e.direction === 'forward' ? 'forward path' : 'round trip'})\n`;
    case 'probe':
      return `${t(e.atMs)}  -> ${String(e.size).padStart(5)} bytes  #${e.token}\n`;
    case 'outcome': {
      const o = e.outcome;
      const what =
        o.kind === 'delivered' ? `delivered (${o.rttMs.toFixed(2)} ms)`
        : o.kind === 'tooBig' ? `too big: ${o.from} says next-hop MTU ${o.nextHopMtu}${o.plausible ? '' : ` (implausible: ${o.reason})`}`
        : o.kind === 'localTooBig' ? `refused locally: interface MTU ${o.mtu}`
        : o.kind === 'timeExceeded' ? `time exceeded at ${o.from}`
        : o.kind === 'unreachable' ? `unreachable: ${o.reason} (from ${o.from})`
        : 'lost';
      return `${t(e.atMs)}  <- ${String(o.size).padStart(5)} bytes  ${what}\n`;
    }
    case 'ignored':
      return `${t(e.atMs)}  ignored ${e.ignored.what} from ${e.ignored.from}: ${e.ignored.reason}\n`;
    case 'fallback':
      return `${e.reason}; trying the next method\n`;
  }
}

export function render(r: DiscoverResult): string {
  const out: string[] = [];
  const host = r.target === r.address ? r.address : `${r.target} (${r.address})`;
  const dir = r.direction === 'forward' ? 'forward path' : 'round trip';
  if (r.pmtu !== null) {
    out.push(`path MTU to ${host}: ${r.pmtu} bytes, via ${r.method}, ${dir}${r.exact ? '' : ' (not exact)'}`);
    const p = payloadSizes(r.pmtu, r.family);
    out.push(`  largest UDP payload ${p.udp}, ICMP echo payload ${p.icmp} (ping -s ${p.icmp}), TCP MSS ${p.tcpMss}`);
    const largest = r.family === 4 ? 65535 : 65575; // what the IP length fields allow
    if (r.pmtu === largest && r.localMtu > largest) out.push(`  the largest packet IPv${r.family} can carry (interface MTU ${r.localMtu})`);
    else if (r.pmtu < r.localMtu) out.push(`  ${r.localMtu - r.pmtu} bytes less than the local interface MTU ${r.localMtu}`);
    else out.push(`  the local interface MTU (${r.localMtu}) is the limit`);
  } else {
    out.push(`path MTU to ${host}: not found via ${r.method}${r.aborted ? ' (interrupted)' : ''}`);
  }
  if (r.pmtu === null && r.unreachable) {
    out.push(`  ${r.reason ?? 'unreachable'}`);
  } else if (r.pmtu === null && r.lowerBound === 0 && !r.aborted) {
    out.push(`  nothing was delivered${r.reason ? ` — ${r.reason}` : ''}`);
    out.push('  (the host may be down, or filter these probes: try another --method, or --method tcp -p <an open port>)');
  } else if (!r.exact || r.pmtu === null) {
    out.push(`  known: between ${r.lowerBound} and ${r.upperBound} bytes${r.reason ? ` — ${r.reason}` : ''}`);
  }
  for (const ptb of r.ptbs) {
    const n = ptb.sizes.length;
    const what = ptb.accepted ? 'PTB' : 'ignored PTB';
    out.push(`  ${what} from ${ptb.from}: next-hop MTU ${ptb.nextHopMtu}${ptb.accepted ? '' : ` (${ptb.reason})`}${n > 1 ? ` — for ${n} probes of ${Math.min(...ptb.sizes)}..${Math.max(...ptb.sizes)} bytes` : ''}`);
  }
  if (r.pmtu !== null && r.kernelPmtu !== null && r.kernelPmtu !== r.pmtu && r.kernelPmtu < 65535) {
    if (r.kernelPmtu > r.pmtu && r.exact) {
      out.push(`  this host's kernel still lets applications send ${r.kernelPmtu}-byte packets to ${r.address}: above ${r.pmtu} they will vanish`);
    } else if (r.kernelPmtu < r.pmtu) {
      out.push(`  this host's kernel has ${r.kernelPmtu} cached for ${r.address} (a PTB within the last 10 minutes): 'pathmtu cache ${r.address}'`);
    }
  }
  if (r.blackHole) {
    out.push(`  black hole: packets above ${r.blackHoleAbove ?? r.lowerBound} bytes vanish and no router says why`);
    out.push(`    (a router filtering "fragmentation needed"/"packet too big", or an L2 MTU mismatch);`);
    out.push(`    'pathmtu trace ${r.target}' locates the link`);
  }
  const ignored = Object.entries(r.ignored).sort((a, b) => b[1] - a[1]);
  const total = ignored.reduce((n, [, count]) => n + count, 0);
  if (total > 0) {
    // Forged, stray or unproven (a quote too short to carry our nonce): name the commonest reasons.
    const reasons = ignored.slice(0, 3).map(([reason, count]) => `${count}× ${reason}`);
    if (ignored.length > 3) reasons.push('…');
    out.push(`  ${total} answer(s) ignored, not proven to answer our probes: ${reasons.join('; ')}`);
  }
  if (r.methodsTried.length > 1) out.push(`  methods: ${r.methodsTried.map((m) => `${m.method} (${m.outcome})`).join(', ')}`);
  out.push(`  ${r.probes} ${r.probes === 1 ? 'probe' : 'probes'} in ${r.elapsedMs < 1000 ? `${Math.round(r.elapsedMs)} ms` : `${(r.elapsedMs / 1000).toFixed(2)} s`}`);
  return `${out.join('\n')}\n`;
}

export const discoverCommand: Command = { name: 'discover', help, options, run };
