// Exact commands for the user's case. Every command here was checked against nftables 1.0.6,
// iptables 1.8 and iproute2 in a throwaway network namespace (see test/explain/fixes.test.ts).
// Unknown names stay as placeholders in angle brackets (<iface>, <host>) so nothing runs by accident.
import { MIN_MTU, type Family } from '../wire/facts.js';
import { payloadSizes } from './payload.js';
import type { Fix, FixesInput } from './types.js';

const IPV6_MIN = MIN_MTU[6];

function interfaceFixes(pmtu: number, family: Family, iface: string, localMtu: number | undefined): Fix[] {
  if (localMtu !== undefined && localMtu <= pmtu) return []; // the interface already fits the path
  const ip = family === 6 ? 'ip -6' : 'ip';
  if (family === 6 && pmtu < IPV6_MIN) {
    return [
      {
        what: `Fix the link that is below the IPv6 minimum of ${IPV6_MIN}`,
        command: `ip link set dev <tunnel-or-link> mtu ${IPV6_MIN}`,
        why: `RFC 8200 requires every IPv6 link to carry ${IPV6_MIN} bytes (fragmenting below IPv6 if it must); Linux turns IPv6 off on an interface set below ${IPV6_MIN}, so do not lower ${iface} to ${pmtu}`,
      },
    ];
  }
  const v6Loss = pmtu < IPV6_MIN ? ` Below ${IPV6_MIN} the kernel disables IPv6 on the interface.` : '';
  return [
    {
      what: "Set this host's interface MTU to the path MTU",
      command: `ip link set dev ${iface} mtu ${pmtu}`,
      why: `every packet out of ${iface} then fits the path, for all destinations through it. Not persistent: also set it in your network configuration (netplan "mtu:", NetworkManager ethernet.mtu, systemd-networkd MTUBytes=).${v6Loss}`,
    },
    {
      what: 'Or lower the MTU only for the affected destinations (route MTU)',
      command: `${ip} route replace <destination> via <gateway> dev ${iface} mtu ${pmtu}`,
      why: 'other destinations keep the full interface MTU; path MTU discovery can still lower it further',
    },
  ];
}

function mssFixes(pmtu: number, family: Family): Fix[] {
  const mss = payloadSizes(pmtu, family).tcpMss;
  const nfproto = family === 6 ? 'ipv6' : 'ipv4';
  const iptables = family === 6 ? 'ip6tables' : 'iptables';
  const base = `${iptables} -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN`;
  const chainNote = 'on the router that forwards the traffic (use the output chain / OUTPUT for this host\'s own connections)';
  return [
    {
      what: 'Clamp TCP MSS to the route MTU (nftables)',
      command: 'nft add rule inet filter forward tcp flags syn tcp option maxseg size set rt mtu',
      why: `rewrites the MSS of forwarded SYNs to fit the outgoing route's MTU ${chainNote}; right when the small link is this router's own interface (pppoe0, wg0, a tunnel). Needs nftables >= 0.9 and a table "inet filter" with a "forward" chain (nft list ruleset shows yours)`,
    },
    {
      what: `Clamp TCP MSS to a fixed ${mss} (nftables)`,
      command: `nft add rule inet filter forward meta nfproto ${nfproto} tcp flags syn tcp option maxseg size gt ${mss} tcp option maxseg size set ${mss}`,
      why: `when the bottleneck is beyond this router, its route MTU does not know it: ${mss} = ${pmtu} - ${pmtu - mss} (IPv${family} + TCP headers). Only lowers the MSS, never raises it`,
    },
    {
      what: 'Clamp TCP MSS to the route MTU (iptables)',
      command: `${base} -j TCPMSS --clamp-mss-to-pmtu`,
      why: `the iptables form of the same clamp ${chainNote}; --clamp-mss-to-pmtu uses the route's MTU, not a path MTU learnt further away`,
    },
    {
      what: `Clamp TCP MSS to a fixed ${mss} (iptables)`,
      command: `${base} -m tcpmss --mss ${mss + 1}:65535 -j TCPMSS --set-mss ${mss}`,
      why: `fixed value for a bottleneck beyond this router; the tcpmss match keeps smaller MSS values as they are`,
    },
  ];
}

function icmpFixes(family: Family): Fix[] {
  if (family === 4) {
    return [
      {
        what: "Fix the network: let ICMPv4 'fragmentation needed' (type 3 code 4) through (nftables)",
        command: [
          'nft insert rule inet filter input icmp type destination-unreachable icmp code frag-needed accept',
          'nft insert rule inet filter forward icmp type destination-unreachable icmp code frag-needed accept',
        ].join('\n'),
        why: 'path MTU discovery (RFC 1191) depends on this message; a firewall that drops it makes large packets vanish without a trace (a black hole). Rules that accept "ct state related" already pass it for tracked connections',
      },
      {
        what: "Fix the network: let ICMPv4 'fragmentation needed' through (iptables)",
        command: [
          'iptables -I INPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT',
          'iptables -I FORWARD -p icmp --icmp-type fragmentation-needed -j ACCEPT',
        ].join('\n'),
        why: 'the same for iptables; -I puts the rule before any DROP',
      },
      {
        what: "Let ICMPv4 'time exceeded' (type 11) through, for traceroute and pathmtu trace",
        command: [
          'nft insert rule inet filter input icmp type time-exceeded accept',
          'iptables -I INPUT -p icmp --icmp-type time-exceeded -j ACCEPT',
        ].join('\n'),
        why: 'routers answer TTL-limited probes with it; without it hops show as * and a black hole cannot be located',
      },
    ];
  }
  return [
    {
      what: "Fix the network: let ICMPv6 'packet too big' (type 2) through (nftables)",
      command: [
        'nft insert rule inet filter input icmpv6 type packet-too-big accept',
        'nft insert rule inet filter forward icmpv6 type packet-too-big accept',
      ].join('\n'),
      why: 'IPv6 routers never fragment, so Packet Too Big is the only way a sender learns the path MTU; RFC 4890 §4.3.1 says it must not be dropped',
    },
    {
      what: "Fix the network: let ICMPv6 'packet too big' through (ip6tables)",
      command: [
        'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT',
        'ip6tables -I FORWARD -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT',
      ].join('\n'),
      why: 'the same for ip6tables; -I puts the rule before any DROP',
    },
    {
      what: "Let ICMPv6 'time exceeded' (type 3) through, for traceroute and pathmtu trace",
      command: [
        'nft insert rule inet filter input icmpv6 type time-exceeded accept',
        'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type time-exceeded -j ACCEPT',
      ].join('\n'),
      why: 'RFC 4890 also lists time exceeded as not to be dropped; without it hops show as * and a black hole cannot be located',
    },
  ];
}

function verifyFix(pmtu: number, family: Family): Fix {
  const { icmp } = payloadSizes(pmtu, family);
  const ping = family === 6 ? 'ping -6' : 'ping';
  return {
    what: 'Check: the largest ping fits, one byte more does not',
    command: [`${ping} -M do -s ${icmp} -c 3 <host>`, `${ping} -M do -s ${icmp + 1} -c 3 <host>`].join('\n'),
    why: `-M do forbids fragmentation; ${icmp} = ${pmtu} - IPv${family} header - ICMP header. The second should fail (or get no reply) while the path MTU is ${pmtu}`,
  };
}

/** A name as one shell word: Linux allows ';', '$', quotes and more in an interface name. */
function shellWord(name: string): string {
  return /^[A-Za-z0-9_.@%+=-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}

/** The fixes for a path MTU, most direct first. Commands are exact; placeholders are in <angle brackets>. */
export function fixes(input: FixesInput): Fix[] {
  const iface = input.iface === undefined ? '<iface>' : shellWord(input.iface);
  return [
    ...interfaceFixes(input.pmtu, input.family, iface, input.localMtu),
    ...mssFixes(input.pmtu, input.family),
    ...icmpFixes(input.family),
    verifyFix(input.pmtu, input.family),
  ];
}
