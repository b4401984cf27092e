// pathmtu explain <mtu>: what an MTU number probably means and the commands that fix it. No probing.
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { explain, MTU_RANGE, renderExplanation } from '../../explain/index.js';
import type { Family } from '../../wire/facts.js';
import { useColor } from '../args.js';
import { EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';

const help = `pathmtu explain — what an MTU number means, and the commands that fix it

Usage:
  pathmtu explain <mtu> [--family 4|6] [--local-mtu N] [--iface NAME] [--json]

<mtu> is a whole IP packet size in bytes (IP header included), ${MTU_RANGE.min}..${MTU_RANGE.max}: the
path MTU that 'pathmtu discover' or 'pathmtu trace' found, or one you saw elsewhere. Nothing is sent
on the network.

It prints:
  - the largest UDP payload, ping -s size and TCP MSS that fit in one packet;
  - what probably takes the missing bytes (PPPoE 8, VXLAN 50, WireGuard 60/80, GRE 24, MPLS labels,
    VLAN tags on a switch that does not allow for them, cloud defaults...), ranked, with a confidence —
    an MTU alone never proves its cause;
  - fixes with exact commands: interface or route MTU, TCP MSS clamping (nftables and iptables), and
    the ICMP messages a firewall must let through so path MTU discovery works.

Options:
  --family 4|6     IP version of the path (default 4); changes header sizes, MSS and ICMP types
  --local-mtu N    this host's interface MTU, to tell a local limit from one further along
  --iface NAME     interface name to put in the commands (default: <iface> placeholder)
  --json           print the explanation as JSON (mtu, family, payload, candidates, fixes, summary)
  -h, --help       this help

Examples:
  pathmtu explain 1450                      VXLAN? (1500 - 50)
  pathmtu explain 1420 --family 6           WireGuard with an IPv6 outer header?
  pathmtu explain 1412 --local-mtu 1500 --iface eth0
  pathmtu explain 1488 --json               PPPoE plus a VLAN tag the switch does not allow for?

Exit status: 0 explained, 2 bad arguments.
`;

/** Strict decimal integer in the MTU range; anything else is a usage error, never NaN. */
function parseMtu(option: string, text: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`${option} must be a whole number of bytes, got '${text}'`);
  const n = Number(text);
  if (n < MTU_RANGE.min || n > MTU_RANGE.max) {
    throw new UsageError(`${option} must be from ${MTU_RANGE.min} to ${MTU_RANGE.max}, got ${n}`);
  }
  return n;
}

function parseFamily(text: string | undefined): Family | undefined {
  if (text === undefined) return undefined;
  if (text === '4' || text === '6') return Number(text) as Family;
  throw new UsageError(`--family must be 4 or 6, got '${text}'`);
}

function parseIface(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // Linux interface names: up to 15 bytes, no slash, colon or whitespace (dev_valid_name()).
  if (!/^[^\s/:]{1,15}$/.test(text)) throw new UsageError(`--iface '${text}' is not a valid interface name`);
  return text;
}

const options = {
  family: { type: 'string' },
  'local-mtu': { type: 'string' },
  iface: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  if (positionals.length === 0) throw new UsageError('missing <mtu>, e.g. pathmtu explain 1450');
  if (positionals.length > 1) throw new UsageError(`expected one <mtu>, got ${positionals.length} arguments`);
  const mtu = parseMtu('<mtu>', positionals[0]!);
  const family = parseFamily(values.family);
  const localMtu = values['local-mtu'] === undefined ? undefined : parseMtu('--local-mtu', values['local-mtu']);
  const iface = parseIface(values.iface);

  const expl = explain({ mtu, family, localMtu, iface });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(expl, null, 2)}\n`);
  } else {
    const color = useColor(io.stdout, io.env);
    io.stdout.write(renderExplanation(expl, { color, width: io.stdout.columns ?? 80 }));
  }
  return EXIT_OK;
}

export const explainCommand: Command = {
  name: 'explain',
  help,
  options,
  // The library's family and mtu are --family and the <mtu> argument here.
  flags: { family: '--family', mtu: '<mtu>', localMtu: '--local-mtu' },
  run,
};
