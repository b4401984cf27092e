// IP protocol / IPv6 next-header numbers (IANA "Assigned Internet Protocol Numbers") and the
// ethertypes pathmtu meets in AF_PACKET frames.

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MH = 135;

export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'hop-by-hop options',
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6',
  43: 'routing',
  44: 'fragment',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  59: 'no next header',
  60: 'destination options',
  135: 'mobility',
};

export const protocolName = (p: number): string => PROTOCOL_NAMES[p] ?? `protocol ${p}`;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q customer tag
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad service tag
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard double tagging, still seen
