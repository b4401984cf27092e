// pathmtu inject <target> --mtu N --about <dst>[:port]: send a crafted frag-needed / packet-too-big.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { inject, type InjectResult } from '../../inject/index.js';
import { UsageError } from '../../errors.js';
import { familyFlags, onePositional, parseInteger, hostWithoutPort } from '../args.js';
import { EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';

const help = `pathmtu inject — tell a host its packets to a peer are too big (a crafted ICMP error)

Usage:
  pathmtu inject <target> --mtu N --about <dst>[:port] [options]

Sends <target> an ICMPv4 "fragmentation needed" (type 3 code 4, next-hop MTU N) or an ICMPv6
"packet too big" (MTU N), as a router on the way to <dst> would: it quotes a packet <target>
sent to <dst> (IPv4: the IP header and the first 548 bytes; IPv6: as much as fits in 1280), of a
size that did not fit. If the target believes it, it caches MTU N for <dst> for about 10 minutes
('pathmtu cache <dst>' run on the target shows it; 'pathmtu cache --flush <dst>' undoes it).
Use it to test whether a host or server honours PMTUD (seed 004's question), only on hosts you
are allowed to test. Needs a raw socket: root or CAP_NET_RAW.

What a Linux target believes:
  --proto icmp   (default) the quote is an ICMP echo reply from the target: honoured with no
                 socket involved (IPv6: any quoted ICMPv6 is)
  --proto udp    honoured only while the target has a socket on <target>:<src-port> for <dst>:<port>
  --proto tcp    honoured only for an open connection, with --seq inside the data in flight

Options:
      --mtu N          the MTU to claim (IPv4 68+, IPv6 1280+; below that only with --force;
                       Linux clamps IPv4 entries at net.ipv4.route.min_pmtu, 552)
      --about D[:P]    the peer the quoted packet went to, and its port (udp/tcp); IPv6 with a
                       port as [2001:db8::1]:443
      --proto P        icmp (default), udp or tcp
      --src-port P     the target's own port in the quoted flow (udp/tcp; for icmp the echo id)
      --seq S          TCP sequence number of the quoted segment (icmp: the echo sequence)
      --from A         source address of the ICMP error (a router's); default: ours
      --force          allow an MTU below the protocol minimum
  -4, -6               resolve names as IPv4 / IPv6
      --json           print what was sent as JSON (summary, fields, bytes as hex)
  -h, --help           this help

Examples:
  sudo pathmtu inject 198.18.2.2 --mtu 1300 --about 198.18.0.1
  sudo pathmtu inject 2001:db8:2::2 --mtu 1280 --about [2001:db8::1]:5000 --proto udp --src-port 4000
  sudo pathmtu inject server --mtu 1280 --about client:51000 --proto tcp --src-port 80 --seq 12345678

Exit status: 0 sent, 1 could not send (privilege, unknown host), 2 usage error.
`;

/** "dst", "dst:port", "[v6]:port" or a bare IPv6 address. */
export function parseAbout(text: string): { host: string; port?: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { host: bracket[1]!, ...(bracket[2] !== undefined ? { port: parseInteger('--about port', bracket[2], 0, 65535)! } : {}) };
  if (isIP(text) === 6) return { host: text };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text };
  if (text.indexOf(':') !== colon) throw new UsageError(`--about '${text}': write an IPv6 address with a port as [address]:port`);
  return { host: text.slice(0, colon), port: parseInteger('--about port', text.slice(colon + 1), 0, 65535)! };
}

const options = {
  mtu: { type: 'string' },
  about: { type: 'string' },
  proto: { type: 'string', default: 'icmp' },
  from: { type: 'string' },
  'src-port': { type: 'string' },
  seq: { type: 'string' },
  force: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  '4': { type: 'boolean', short: '4' },
  '6': { type: 'boolean', short: '6' },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  const target = hostWithoutPort(onePositional(positionals, '<target>', 'pathmtu inject 198.18.2.2 --mtu 1300 --about 198.18.0.1'), 'inject', () => 'the quoted flow\'s ports are --src-port (the target\'s) and --about <dst>:<port> (the peer\'s)');
  if (values.mtu === undefined) throw new UsageError('--mtu N is required: the MTU to claim');
  if (values.about === undefined) throw new UsageError('--about <dst>[:port] is required: the peer the target was sending to');
  const mtu = parseInteger('--mtu', values.mtu, 0, 65535)!;
  const proto = values.proto as string;
  if (proto !== 'icmp' && proto !== 'udp' && proto !== 'tcp') throw new UsageError(`--proto must be icmp, udp or tcp, got '${proto}'`);
  const about = parseAbout(values.about);
  const srcPort = parseInteger('--src-port', values['src-port'], 0, 65535);
  if (values.seq !== undefined && !/^\d{1,10}$/.test(values.seq)) throw new UsageError(`--seq must be a whole number, got '${values.seq}'`);
  const seq = values.seq === undefined ? undefined : Number(values.seq);
  if (seq !== undefined && seq > 0xffffffff) throw new UsageError(`--seq must be from 0 to 4294967295, got ${seq}`);
  const family = familyFlags(values['4'], values['6']);

  const r = await inject({
    target,
    mtu,
    about: about.host,
    proto,
    force: values.force,
    signal: io.signal,
    ...(about.port !== undefined ? { port: about.port } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(srcPort !== undefined ? { srcPort } : {}),
    ...(seq !== undefined ? { seq } : {}),
    ...(family !== undefined ? { family } : {}),
  });
  for (const w of r.warnings) io.stderr.write(`warning: ${w}\n`);
  io.stdout.write(values.json ? `${JSON.stringify(toJson(r), null, 2)}\n` : `sent ${r.summary}\n`);
  return EXIT_OK;
}

function toJson(r: InjectResult): Record<string, unknown> {
  const { bytes, ...rest } = r;
  return { ...rest, bytes: bytes.toString('hex') };
}

// The library's port (the peer's) is the port in --about here.
export const injectCommand: Command = { name: 'inject', help, options, flags: { port: '--about <dst>:<port>' }, run };
