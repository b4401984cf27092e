// pathmtu check-server <host:port>: does a TCP server honour "packet too big"? (seed 004)
import { parseArgs } from 'node:util';
import { checkServer, parseHostPort, type CheckServerResult, type PhaseSummary } from '../../checkserver/index.js';
import { UsageError } from '../../errors.js';
import { FAMILY_FLAGS, familyFlags, onePositional, parseInteger, parseSeconds } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';

const help = `pathmtu check-server — does a TCP server honour ICMP "packet too big"?

Usage:
  pathmtu check-server <host>:<port> [options]
  pathmtu check-server [2001:db8::2]:443 [options]

Connects, asks the server for data (an HTTP GET, or nothing with --raw-stream for a server that
talks first) without reading it, so the server fills our receive window and pauses. Watches the
size and DF bit of every segment it sends (a packet capture), then tells it, as a router behind
a smaller link would, that its segments are too big for --mtu: an ICMP "fragmentation needed"
(IPv4) or ICMPv6 "packet too big", quoting its own segment. Then reads again and reports what
the server did.

Verdicts:
  success      it reduced its segments to fit the MTU (what a healthy TCP stack does)
  ignored      it kept sending segments too big, DF set: clients behind a smaller MTU hang
               (a PMTUD black hole)
  cleared-df   it kept the size but stopped setting DF, so routers may fragment (RFC 1191
               allows this; Linux does it when the MTU is below its min_pmtu, 552)
  no-df        it never set DF: routers fragment its packets, PMTUD does not apply
  no-data      it sent nothing larger than the MTU: ask for something bigger (--path), or it
               already caches a smaller path MTU for us (from an earlier run, ~10 minutes)
  error        no connection, the server closed early, or too little data after the PTB

Options:
  -4, -6               use IPv4 / IPv6 only (when the host is a name)
      --mtu N          the path MTU to announce, whole IP packet (default 1280; at least 68
                       for IPv4, 1280 for IPv6). Our own SYN offers the MSS of our interface
                       (1460 on Ethernet), so the server starts above this.
      --path P         HTTP path to GET (default /); pick something of 200 KB or more
      --host H         Host header (default: <host>[:<port>] as given)
      --raw-stream     send no request; just read what the server sends
  -W, --timeout S      longest wait of each step, in seconds (default 3)
      --json           print one JSON object (fields below)
  -h, --help           this help

Needs root or CAP_NET_RAW (a packet capture and a raw ICMP socket). The server caches the
announced MTU for our address for about 10 minutes; its other clients are not affected.

Examples:
  sudo pathmtu check-server example.net:80 --path /big.bin
  sudo pathmtu check-server [2001:db8::2]:8000 --raw-stream
  sudo pathmtu check-server 192.0.2.10:80 --json | jq .verdict

JSON fields: target, address, port, family, local{address, port}, mtu, request, verdict, reason,
connectMs, ptb{atMs, seq, quotedSize, copies}, firstAfterMs, firstFittingMs,
before{segments, bytes, largest, withDf, sizes[{size, df, count}]}, after{...same},
inFlight, captureDrops, gsoAware, repeatedRequest, elapsedMs, aborted. Sizes are whole IP packets on the wire.

Exit status: 0 success, 1 any other verdict, 2 usage error.
`;

const options = {
  ...FAMILY_FLAGS,
  mtu: { type: 'string' },
  path: { type: 'string' },
  host: { type: 'string' },
  'raw-stream': { type: 'boolean', default: false },
  timeout: { type: 'string', short: 'W' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  const { host, port } = parseHostPort(onePositional(positionals, '<host>:<port>', 'pathmtu check-server example.net:80'));
  const family = familyFlags(values['4'], values['6']);
  const mtu = parseInteger('--mtu', values.mtu, 68, 65535);
  const timeoutMs = parseSeconds('--timeout', values.timeout, 60);
  if (values['raw-stream'] && (values.path !== undefined || values.host !== undefined)) {
    throw new UsageError('--raw-stream sends no request: --path and --host do not apply');
  }
  if (values.host !== undefined && !/^[^\s\x00-\x1f\x7f]+$/.test(values.host)) {
    throw new UsageError(`--host must be one word without control characters, got '${values.host}'`);
  }
  const result = await checkServer(host, port, {
    ...(family !== undefined ? { family } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(values.path !== undefined ? { path: values.path } : {}),
    ...(values.host !== undefined ? { hostHeader: values.host } : {}),
    rawStream: values['raw-stream'],
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    signal: io.signal,
  });
  io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : render(result));
  return result.verdict === 'success' ? EXIT_OK : EXIT_FAIL;
}

const ms = (v: number): string => (v < 10 ? `${v.toFixed(1)} ms` : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`);

function sizes(p: PhaseSummary, family: 4 | 6, max = 6): string {
  const mixed = p.withDf > 0 && p.withDf < p.segments;
  const shown = p.sizes.slice(0, max).map((s) => `${s.size}×${s.count}${mixed || (family === 4 && !s.df) ? (s.df ? ' DF' : ' no-DF') : ''}`);
  const rest = p.sizes.length - shown.length;
  return shown.join(', ') + (rest > 0 ? `, … (${rest} more ${rest === 1 ? 'size' : 'sizes'})` : '');
}

function phase(label: string, p: PhaseSummary, family: 4 | 6): string[] {
  if (p.segments === 0) return [`  ${label}: no data segments`];
  const df = family === 4 ? (p.withDf === p.segments ? 'all with DF' : p.withDf === 0 ? 'none with DF' : `${p.withDf} with DF`) : p.withDf === p.segments ? 'unfragmented' : `${p.segments - p.withDf} fragmented`;
  return [`  ${label}: ${p.segments} segments, ${p.bytes} bytes, largest ${p.largest} (${df})`, `    sizes: ${sizes(p, family)}`];
}

export function render(r: CheckServerResult): string {
  const host = r.target === r.address ? r.address : `${r.target} (${r.address})`;
  const out: string[] = [];
  out.push(`check-server ${host} port ${r.port}, ${r.request}, announcing an MTU of ${r.mtu} (IPv${r.family})`);
  out.push(`verdict: ${r.verdict} — ${r.reason}`);
  if (r.connectMs !== null) out.push(`  connected in ${ms(r.connectMs)}${r.local ? ` from ${fmtAddr(r.local.address, r.local.port)}` : ''}`);
  out.push(...phase('before the PTB', r.before, r.family));
  if (r.ptb) {
    out.push(
      `  PTB sent at ${ms(r.ptb.atMs)}: ${r.family === 4 ? 'frag-needed' : 'packet too big'}, MTU ${r.mtu}, quoting a ${r.ptb.quotedSize}-byte segment at seq ${r.ptb.seq} (${r.ptb.copies} ${r.ptb.copies === 1 ? 'copy' : 'copies'})`,
    );
    if (r.repeatedRequest) out.push('  the response had arrived whole before the PTB: asked again on the same connection');
    out.push(...phase('after the PTB', r.after, r.family));
    if (r.inFlight > 0) out.push(`    (${r.inFlight} segments already in flight when the PTB was sent are left out)`);
    if (r.firstFittingMs !== null) out.push(`  first segment that fits: ${ms(r.firstFittingMs)} after the PTB`);
    else if (r.firstAfterMs !== null) out.push(`  first segment after the PTB: ${ms(r.firstAfterMs)} after it`);
  }
  if (r.captureDrops > 0) out.push(`  note: the capture lost ${r.captureDrops} frames (a busy host): some segments are not counted`);
  if (!r.gsoAware) out.push('  note: the kernel gave no segment sizes for offloaded super-packets; sizes may be overstated');
  out.push(`  done in ${ms(r.elapsedMs)}${r.aborted ? ' (interrupted)' : ''}`);
  return `${out.join('\n')}\n`;
}

function fmtAddr(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export const checkServerCommand: Command = {
  name: 'check-server',
  help,
  options,
  run,
};
