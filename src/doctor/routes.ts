// Routes whose `mtu` metric is larger than the MTU of the interface they leave by, from one
// rtnetlink route dump and one link dump per family (what `ip route show table all` and
// `ip link` read). Linux honours such a metric: the stack sizes packets, and TCP its MSS, for the
// route's MTU, and the interface then cannot send them.
import { linkNames } from '../cache/links.js';
import { NetlinkSocket } from '../cache/netlink-socket.js';
import { addressFamilies } from '../sock/sockaddr.js';
import type { Family } from '../wire/facts.js';
import * as nl from '../wire/netlink.js';
import type { RouteMtuIssue } from './checks.js';

export interface RouteScan {
  routesWithMtu: number;
  issues: RouteMtuIssue[];
}

export async function scanRouteMtus(opts: { signal?: AbortSignal } = {}): Promise<RouteScan> {
  const sock = NetlinkSocket.open();
  try {
    const links = await linkNames(sock, opts);
    const issues: RouteMtuIssue[] = [];
    let routesWithMtu = 0;
    for (const family of [4, 6] as Family[]) {
      const req = nl.encodeRoute(addressFamilies(), { family, dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0 });
      const msgs = await sock.request(nl.RTM_GETROUTE, nl.NLM_F_DUMP, req, opts).catch(() => [] as nl.NetlinkMessage[]);
      for (const m of msgs) {
        if (m.type !== nl.RTM_NEWROUTE) continue;
        const r = nl.decodeRoute(addressFamilies(), m.payload);
        const mtu = r.metrics?.[nl.RTAX_MTU];
        if (mtu === undefined || (r.flags & nl.RTM_F_CLONED) !== 0) continue;
        routesWithMtu++;
        const link = r.oif !== undefined ? links.get(r.oif) : undefined;
        if (!link || link.mtu === null || mtu <= link.mtu) continue;
        const full = family === 4 ? 32 : 128;
        issues.push({
          family,
          destination: r.dst === undefined ? 'default' : r.dstLen === full ? r.dst : `${r.dst}/${r.dstLen}`,
          via: r.gateway ?? null,
          device: link.name,
          table: r.table,
          priority: r.priority ?? null,
          routeMtu: mtu,
          deviceMtu: link.mtu,
        });
      }
    }
    return { routesWithMtu, issues };
  } finally {
    sock.close();
  }
}
