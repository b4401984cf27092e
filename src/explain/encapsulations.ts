// What takes bytes out of a packet, as data. Three tables:
//   UNDERLAYS  — link MTUs an encapsulation is usually stacked on (1500 Ethernet, jumbo frames, clouds);
//   LAYERS     — encapsulations and L2 additions that subtract a fixed (or ranged) overhead;
//   KNOWN_MTUS — link types and platform defaults whose MTU is simply that number.
// `prior` is how common the thing is on real paths (0..1); candidates.ts multiplies priors to rank.
// Overheads count everything added in front of (or around) the inner IP packet within the underlay MTU.
import type { Family } from '../wire/facts.js';

export interface Underlay {
  mtu: number;
  name: string;
  prior: number;
  /** A real wire where PPPoE, VLAN tags or MPLS labels can sit; false for cloud virtual networks. */
  physical: boolean;
}

export interface Layer {
  id: string;
  cause: string;
  /** Exact overhead in bytes, or an inclusive range when it depends on cipher, padding or options. */
  overhead: number | readonly [number, number];
  prior: number;
  /** Lower levels sit closer to the wire: 0 L2 additions, 1 link framing (PPPoE), 2 IP tunnels. */
  level: 0 | 1 | 2;
  /** Inner families it carries; absent means both (it carries frames or any IP). */
  inner?: readonly Family[];
  /** Family of the outer IP header it adds; absent for L2 additions (no outer IP). */
  outer?: Family;
  note: string;
}

export interface KnownMtu {
  mtu: number;
  cause: string;
  prior: number;
  /** Only meaningful for this family of the measured path (e.g. the IPv6 minimum). */
  family?: Family;
  note: string;
}

export const UNDERLAYS: readonly Underlay[] = [
  { mtu: 1500, name: 'Ethernet', prior: 1, physical: true },
  { mtu: 9000, name: 'jumbo frames', prior: 0.5, physical: true },
  { mtu: 9001, name: 'AWS jumbo', prior: 0.35, physical: false },
  { mtu: 9216, name: 'data-centre jumbo', prior: 0.3, physical: true },
  { mtu: 1460, name: 'GCP VPC', prior: 0.3, physical: false },
  { mtu: 1400, name: 'Azure', prior: 0.15, physical: false },
];

export const LAYERS: readonly Layer[] = [
  // Link framing and L2 additions: the frame limit of a switch or core stays, the tag eats into it.
  {
    id: 'pppoe', cause: 'PPPoE', overhead: 8, prior: 0.9, level: 1,
    note: 'PPPoE header 6 + PPP protocol 2 bytes inside a 1500-byte Ethernet payload (RFC 2516); DSL and FTTH dial-up',
  },
  {
    id: 'dot1q', cause: '802.1Q VLAN tag on an L2 that does not allow for it', overhead: 4, prior: 0.45, level: 0,
    note: 'a 4-byte tag added where switches still cap frames at 1518 bytes; oversized frames are dropped without any ICMP',
  },
  {
    id: 'qinq', cause: 'QinQ (802.1ad) double tag on an L2 that does not allow for it', overhead: 8, prior: 0.4, level: 0,
    note: 'two 4-byte tags against a 1518-byte frame limit; seed 002: an operator enabled QinQ on 1522-byte switches and PPPoE users at 1492 lost their large packets (1488 fit)',
  },
  {
    id: 'mpls1', cause: 'MPLS, one label', overhead: 4, prior: 0.3, level: 0,
    note: '4 bytes per label; a core whose MTU was not raised for the label stack',
  },
  {
    id: 'mpls2', cause: 'MPLS, two labels (L3VPN, LDP + VPN label)', overhead: 8, prior: 0.35, level: 0,
    note: '2 x 4-byte labels; typical of MPLS L3VPN (transport + VPN label)',
  },
  {
    id: 'mpls3', cause: 'MPLS, three labels (e.g. TE or fast-reroute + VPN)', overhead: 12, prior: 0.2, level: 0,
    note: '3 x 4-byte labels',
  },
  // IP tunnels.
  {
    id: 'vxlan4', cause: 'VXLAN over IPv4', overhead: 50, prior: 0.8, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50 (RFC 7348); Linux vxlan devices and most overlays default to 1450',
  },
  {
    id: 'vxlan6', cause: 'VXLAN over IPv6', overhead: 70, prior: 0.4, level: 2, outer: 6,
    note: 'outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 70',
  },
  {
    id: 'geneve4', cause: 'GENEVE over IPv4 (no options)', overhead: 50, prior: 0.35, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + GENEVE 8 + inner Ethernet 14 = 50, plus 4-byte multiples of options (RFC 8926)',
  },
  {
    id: 'geneve6', cause: 'GENEVE over IPv6 (no options)', overhead: 70, prior: 0.2, level: 2, outer: 6,
    note: 'outer IPv6 40 + UDP 8 + GENEVE 8 + inner Ethernet 14 = 70, plus options',
  },
  {
    id: 'geneve-ovn', cause: 'GENEVE with OVN metadata options over IPv4', overhead: 58, prior: 0.3, level: 2, outer: 4,
    note: 'GENEVE 50 + 8 bytes of OVN options; OpenStack/OVN networks commonly get 1442',
  },
  {
    id: 'gre4', cause: 'GRE over IPv4', overhead: 24, prior: 0.6, level: 2, outer: 4,
    note: 'outer IPv4 20 + GRE 4 (RFC 2784); 1476 is the classic GRE tunnel MTU',
  },
  {
    id: 'gre4-key', cause: 'GRE with key over IPv4', overhead: 28, prior: 0.3, level: 2, outer: 4,
    note: 'outer IPv4 20 + GRE 4 + key 4 (RFC 2890); add 4 more for a sequence number',
  },
  {
    id: 'gre6', cause: 'GRE over IPv6 (ip6gre)', overhead: 44, prior: 0.2, level: 2, outer: 6,
    note: 'outer IPv6 40 + GRE 4',
  },
  {
    id: 'gretap4', cause: 'GRETAP (Ethernet over GRE over IPv4)', overhead: 38, prior: 0.25, level: 2, outer: 4,
    note: 'outer IPv4 20 + GRE 4 + inner Ethernet 14; Linux gretap devices default to 1462',
  },
  {
    id: 'ipip', cause: 'IPIP (IPv4 in IPv4)', overhead: 20, prior: 0.3, level: 2, outer: 4, inner: [4],
    note: 'one extra IPv4 header of 20 bytes (RFC 2003)',
  },
  {
    id: 'sit', cause: '6in4 / SIT tunnel (IPv6 in IPv4, e.g. tunnel brokers)', overhead: 20, prior: 0.6, level: 2, outer: 4, inner: [6],
    note: 'IPv6 carried in protocol 41 behind a 20-byte IPv4 header (RFC 4213); Hurricane Electric and 6rd paths show 1480',
  },
  {
    id: 'ip6ip6', cause: 'IPv6-in-IPv6 tunnel', overhead: 40, prior: 0.25, level: 2, outer: 6, inner: [6],
    note: 'one extra IPv6 header of 40 bytes (RFC 2473)',
  },
  {
    id: 'ip6tnl-encap', cause: 'ip6tnl with encapsulation limit option (Linux default)', overhead: 48, prior: 0.15, level: 2, outer: 6,
    note: 'IPv6 40 + destination-options header with tunnel encapsulation limit 8; Linux ip6tnl devices default to 1452',
  },
  {
    id: 'dslite', cause: 'DS-Lite / 4in6 (IPv4 in IPv6)', overhead: 40, prior: 0.3, level: 2, outer: 6, inner: [4],
    note: 'IPv4 carried behind a 40-byte IPv6 header (RFC 6333); common on IPv6-only access networks',
  },
  {
    id: 'wg6', cause: 'WireGuard (IPv6 outer)', overhead: 80, prior: 0.7, level: 2, outer: 6,
    note: 'outer IPv6 40 + UDP 8 + WireGuard 32 (type 4, receiver 4, counter 8, Poly1305 tag 16); wg-quick defaults to 1420 so either outer family fits',
  },
  {
    id: 'wg4', cause: 'WireGuard (IPv4 outer)', overhead: 60, prior: 0.5, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + WireGuard 32',
  },
  {
    id: 'l2tp', cause: 'L2TPv2 (PPP over UDP over IPv4)', overhead: 40, prior: 0.2, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + L2TP 8 (with length field) + PPP 4; without IPsec, which takes more',
  },
  {
    id: 'gtpu4', cause: 'GTP-U over IPv4 (mobile core)', overhead: 36, prior: 0.3, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + GTP-U 8 (3GPP TS 29.281); mobile networks often give handsets 1500 - 36 or less',
  },
  {
    id: 'gtpu6', cause: 'GTP-U over IPv6 (mobile core)', overhead: 56, prior: 0.15, level: 2, outer: 6,
    note: 'outer IPv6 40 + UDP 8 + GTP-U 8',
  },
  // Ranged: the overhead depends on cipher, padding and NAT traversal, so confidence stays low.
  {
    id: 'esp4', cause: 'IPsec ESP tunnel mode over IPv4', overhead: [54, 100], prior: 0.45, level: 2, outer: 4,
    note: 'outer IPv4 20 + ESP 8 + IV 8..16 + padding 0..15 + trailer 2 + ICV 12..16, +8 with NAT-T: AES-GCM gives 1446, AES-CBC+SHA 1438, many configs use 1400',
  },
  {
    id: 'esp6', cause: 'IPsec ESP tunnel mode over IPv6', overhead: [74, 120], prior: 0.2, level: 2, outer: 6,
    note: 'as over IPv4 with a 40-byte outer header',
  },
  {
    id: 'openvpn', cause: 'OpenVPN (UDP)', overhead: [50, 70], prior: 0.3, level: 2, outer: 4,
    note: 'outer IPv4 20 + UDP 8 + opcode/peer-id 4 + packet id 4 + GCM tag 16 = 52 with AEAD; up to ~70 with CBC+HMAC, compression framing or tap mode',
  },
];

export const KNOWN_MTUS: readonly KnownMtu[] = [
  { mtu: 1500, cause: 'Ethernet, no encapsulation', prior: 1, note: 'the standard Ethernet payload; nothing on the path takes bytes' },
  { mtu: 9000, cause: 'jumbo frames', prior: 0.8, note: 'the usual jumbo MTU of servers and storage networks' },
  { mtu: 9001, cause: 'AWS jumbo frames (within a VPC)', prior: 0.8, note: 'EC2 instances default to 9001 inside a VPC; traffic leaving it drops to 1500' },
  { mtu: 9216, cause: 'data-centre switch jumbo (9216)', prior: 0.5, note: 'many switch vendors\' maximum; hosts often set 9000 below it' },
  { mtu: 8896, cause: 'GCP VPC with the largest MTU', prior: 0.3, note: 'GCP allows VPC MTUs up to 8896' },
  { mtu: 1460, cause: 'GCP VPC default MTU', prior: 0.45, note: 'Google Cloud VPC networks defaulted to 1460 (the host encapsulation takes 40 bytes)' },
  { mtu: 1400, cause: 'Azure VNet / VPN gateway recommendation', prior: 0.3, note: 'Azure recommends 1400 (TCP MSS 1350) across its VPN gateways and some virtual appliances' },
  { mtu: 1480, cause: 'PPPoE where the stack defaults to 1480', prior: 0.35, note: 'seed 002: Windows dial-up defaulted to 1480 where Linux used 1492; also some routers\' PPPoE default' },
  { mtu: 1280, cause: 'IPv6 minimum MTU', prior: 0.6, family: 6, note: 'RFC 8200: every IPv6 link carries 1280; tunnels and VPNs that want to be safe everywhere choose it' },
  { mtu: 1280, cause: 'Tailscale (or a VPN set to 1280)', prior: 0.4, note: 'Tailscale sets its interface to 1280 so it works over any IPv6 path' },
  { mtu: 576, cause: 'IPv4 minimum reassembly size (576)', prior: 0.3, family: 4, note: 'RFC 791: every host accepts 576-byte datagrams; old dial-up/X.25 links and some satellite or embedded stacks' },
  { mtu: 68, cause: 'IPv4 absolute minimum (68)', prior: 0.3, family: 4, note: 'RFC 791: the smallest MTU a router may have; usually a bogus PTB rather than a real link' },
  { mtu: 65535, cause: 'largest IP packet (loopback or local path)', prior: 0.6, note: 'the 16-bit length limit; Linux loopback has MTU 65536, so this is a local path' },
  { mtu: 65520, cause: 'IP over InfiniBand, connected mode', prior: 0.3, note: 'IPoIB connected mode allows 65520' },
  { mtu: 4092, cause: 'IP over InfiniBand, datagram mode (4K MTU)', prior: 0.4, note: '4096-byte IB MTU minus the 4-byte IPoIB header' },
  { mtu: 2044, cause: 'IP over InfiniBand, datagram mode (2K MTU)', prior: 0.4, note: '2048-byte IB MTU minus the 4-byte IPoIB header' },
  { mtu: 4352, cause: 'FDDI', prior: 0.15, note: 'RFC 1191 plateau table' },
  { mtu: 17914, cause: '16 Mb/s token ring', prior: 0.1, note: 'RFC 1191 plateau table' },
  { mtu: 8166, cause: 'token ring (802.5)', prior: 0.1, note: 'RFC 1191 plateau table' },
  { mtu: 2002, cause: '4 Mb/s token ring', prior: 0.1, note: 'RFC 1191 plateau table' },
  { mtu: 1006, cause: 'SLIP', prior: 0.1, note: 'RFC 1191 plateau table' },
  { mtu: 508, cause: 'ARCNET', prior: 0.1, note: 'RFC 1191 plateau table' },
  { mtu: 296, cause: 'point-to-point link, low delay', prior: 0.1, note: 'RFC 1191 plateau table' },
];
