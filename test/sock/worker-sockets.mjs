// A worker thread (run by worker-child.mjs) that opens one socket of every kind the binding polls —
// udp, icmp raw, icmp-dgram (ping socket) and raw tcp for IPv4 and IPv6, and a packet capture on lo —
// starts polling them all and keeps loopback traffic flowing to each, until it is terminated.
// It tells its parent 'open' (with what it opened) and then 'flowing' once every socket has
// received something. Loads the compiled package (npm test builds it first): a worker is plain Node.
import { parentPort } from 'node:worker_threads';
import { ProbeSocket } from '../../dist/sock/socket.js';
import { PacketSocket } from '../../dist/sock/packet.js';
import { native } from '../../dist/sock/binding.js';

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' };
const KINDS = ['udp', 'icmp-raw', 'icmp-dgram', 'tcp-raw'];

const sockets = [];
const seen = new Map(); // name -> datagrams, frames or error-queue entries received
const opened = [];
const failed = [];
const count = (name) => () => seen.set(name, (seen.get(name) ?? 0) + 1);

for (const family of [4, 6]) {
  for (const kind of KINDS) {
    const name = `${kind}/${family}`;
    try {
      const s = ProbeSocket.open(kind, family);
      if (kind === 'udp' || kind === 'icmp-dgram') s.bind(LOOPBACK[family], 0);
      s.receiveErrors();
      s.on('message', count(name)).on('errqueue', count(name)).on('error', () => {});
      s.start();
      sockets.push({ name, family, kind, s });
      seen.set(name, 0);
      opened.push(name);
    } catch (err) {
      failed.push(`${name}: ${err.message}`);
    }
  }
}
let packet;
try {
  const lo = native().ifNameToIndex('lo');
  packet = PacketSocket.open({ type: 'dgram', ifindex: lo, snaplen: 128 });
  packet.on('frame', count('packet')).on('error', () => {});
  packet.start();
  seen.set('packet', 0);
  opened.push('packet');
} catch (err) {
  failed.push(`packet: ${err.message}`);
}

// A closed port: datagrams to it come back as port unreachable on the udp sockets' error queues.
const closedPort = {};
for (const family of [4, 6]) {
  const s = ProbeSocket.open('udp', family).bind(LOOPBACK[family], 0);
  closedPort[family] = s.localAddress().port;
  s.close();
}

// Echo requests for the ping sockets (the kernel fills in id and checksum), and a TCP SYN with no
// checksum for the raw TCP sockets: a raw socket gets its copy before TCP drops it.
const echo = { 4: Buffer.from([8, 0, 0, 0, 0, 0, 0, 1]), 6: Buffer.from([128, 0, 0, 0, 0, 0, 0, 1]) };
const syn = Buffer.alloc(20);
syn.writeUInt16BE(40000, 0);
syn.writeUInt16BE(9, 2);
syn[12] = 5 << 4;
syn[13] = 0x02;

function traffic() {
  for (const { family, kind, s } of sockets) {
    if (s.closed) continue;
    const to = LOOPBACK[family];
    if (kind === 'udp') {
      s.trySend(Buffer.from('to myself'), { address: to, port: s.localAddress().port });
      s.trySend(Buffer.from('to nobody'), { address: to, port: closedPort[family] });
    } else if (kind === 'icmp-dgram') {
      s.trySend(echo[family], { address: to });
    } else if (kind === 'tcp-raw') {
      s.trySend(syn, { address: to });
    }
  }
}

let told = false;
setInterval(() => {
  traffic();
  if (!told && [...seen.values()].every((n) => n > 0)) {
    told = true;
    parentPort.postMessage({ flowing: Object.fromEntries(seen) });
  }
}, 1);
traffic();
parentPort.postMessage({ open: opened, failed });
