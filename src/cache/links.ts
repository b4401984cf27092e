// Interface index -> name and MTU, via an RTM_GETLINK dump in the current network namespace
// (/sys/class/net would show the namespace sysfs was mounted in, not the one this thread entered).
import * as nl from '../wire/netlink.js';
import type { NetlinkSocket, RequestOptions } from './netlink-socket.js';

export interface LinkInfo {
  name: string;
  mtu: number | null;
}

export async function linkNames(sock: NetlinkSocket, opts: RequestOptions = {}): Promise<Map<number, LinkInfo>> {
  const req = nl.encodeLink({ family: 0, deviceType: 0, index: 0, flags: 0, change: 0 });
  const out = new Map<number, LinkInfo>();
  for (const m of await sock.request(nl.RTM_GETLINK, nl.NLM_F_DUMP, req, opts)) {
    if (m.type !== nl.RTM_NEWLINK) continue;
    const l = nl.decodeLink(m.payload);
    if (l.name !== undefined) out.set(l.index, { name: l.name, mtu: l.mtu ?? null });
  }
  return out;
}
