// pathmtu doctor [host]: a checklist of what stands between this user and path MTU discovery here.
import { parseArgs } from 'node:util';
import { doctor, type DoctorCheck, type DoctorResult } from '../../doctor/index.js';
import { UsageError } from '../../errors.js';
import { FAMILY_FLAGS, familyFlags, useColor } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type Command, type Io, type ParseArgsOptionsConfig } from '../command.js';

const help = `pathmtu doctor — why path MTU discovery fails on this host, and the exact fix for each cause

Usage:
  pathmtu doctor [--json]                check this host (this user, this network namespace)
  pathmtu doctor <host> [-4|-6] [--json] also check the route to <host> and the kernel's cached PMTU for it

What it checks, and why each matters:
  raw sockets        the icmp and tcp methods need CAP_NET_RAW (root, or setcap on the node binary)
  ping sockets       without it, icmp-dgram needs one of your groups in net.ipv4.ping_group_range
  local firewall     a rule or drop policy (nftables or iptables; input and prerouting filter
                     chains) that throws away ICMP "fragmentation needed" (type 3 code 4) or ICMPv6
                     "packet too big" makes this host its own black hole: routers report the MTU,
                     the report dies on arrival.
                     Rules are read with 'nft -j list ruleset' and iptables-save/ip6tables-save
                     (needs root) and walked as the kernel would, jumps and policies included.
  IPv6               disabled at boot, by net.ipv6.conf.all.disable_ipv6, or no ::1 on lo
  route MTUs         a route whose mtu is larger than its interface's MTU: the stack (and TCP's MSS)
                     believes packets fit that the interface cannot send
  PMTU cache <host>  a cached path MTU already lowered for the host (expires after ~10 minutes)
  ip_no_pmtu_disc    non-zero turns path MTU discovery off for every program on the host
  tcp_mtu_probing    0 (the Linux default): TCP trusts ICMP alone, so on a black-holed path a
                     connection opens and then hangs on its first full-size segment. 1 probes
                     smaller segments once a black hole is detected; 2 always probes.
  methods            which of udp, icmp-dgram, icmp, tcp this user can open here

Each line is ✓ fine, ! worth knowing (or could not be checked), ✗ a problem; under each ! and ✗
come the commands that fix it, ready to paste (sudo is added when you are not root). Sysctls and
firewall rules belong to a network namespace: doctor reads the one it runs in, and its fixes
apply there ('ip netns exec <name> pathmtu doctor' checks a named namespace).

Options:
  -4, -6       resolve <host> to IPv4 / IPv6 only
      --json   JSON: {host, user, netns, methods, checks: [{id, status, title, summary, details,
               fixes, data}], problems, warnings, ok}; status is ok, warn or problem
  -h, --help   this help

Examples:
  pathmtu doctor                    is this host ready?
  sudo pathmtu doctor 192.0.2.10    as root, with the firewall rules read and the route to a host
  pathmtu doctor --json | jq '.checks[] | select(.status != "ok") | .fixes[]'

Exit status: 0 no problem (warnings allowed), 1 a problem was found (or the host does not
resolve), 2 usage error.
`;

const options = { ...FAMILY_FLAGS, json: { type: 'boolean', default: false } } as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  if (positionals.length > 1) throw new UsageError(`expected at most one <host>, got ${positionals.length}: ${positionals.join(' ')}`);
  const family = familyFlags(values['4'], values['6']);
  if (family !== undefined && positionals.length === 0) throw new UsageError(`-${family} applies to a <host>; give one, e.g. pathmtu doctor -${family} example.net`);
  const r = await doctor({ ...(positionals[0] !== undefined ? { host: positionals[0] } : {}), ...(family ? { family } : {}), signal: io.signal });
  io.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderDoctor(r, useColor(io.stdout, io.env)));
  return r.ok ? EXIT_OK : EXIT_FAIL;
}

const MARK = { ok: '✓', warn: '!', problem: '✗' } as const;
const COLOR = { ok: '\x1b[32m', warn: '\x1b[33m', problem: '\x1b[31m' } as const;

function renderCheck(c: DoctorCheck, color: boolean): string[] {
  const mark = color ? `${COLOR[c.status]}${MARK[c.status]}\x1b[0m` : MARK[c.status];
  const out = [`${mark} ${c.title}: ${c.summary}`];
  if (c.status !== 'ok') {
    for (const d of c.details) out.push(`    ${d}`);
    if (c.fixes.length > 0) {
      out.push('    fix:');
      for (const f of c.fixes) out.push(`      ${f}`);
    }
  }
  return out;
}

export function renderDoctor(r: DoctorResult, color = false): string {
  const who = `uid ${r.user.uid}, groups ${r.user.groups.join(',')}`;
  const ns = r.netns.name ? `network namespace ${r.netns.name}` : `network namespace net:[${r.netns.inode}]`;
  const head = `pathmtu doctor${r.host ? ` for ${r.host.target}${r.host.address !== r.host.target ? ` (${r.host.address})` : ''}` : ''}: ${who}, ${ns}`;
  const lines = [head, ''];
  for (const c of r.checks) lines.push(...renderCheck(c, color));
  const tail =
    r.problems === 0 && r.warnings === 0
      ? 'no problems found'
      : `${r.problems} problem${r.problems === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`;
  lines.push('', tail);
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: Command = { name: 'doctor', help, options, run };
