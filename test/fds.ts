// How many sockets this process holds now (raw, ping, UDP and TCP sockets are all "socket:[inode]"
// in /proc/self/fd): for tests that check sockets are shared, and closed when released.
import { readdirSync, readlinkSync } from 'node:fs';

export function socketCount(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed while we looked
    }
  }).length;
}
