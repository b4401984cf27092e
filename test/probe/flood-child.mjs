// A flood of forged ICMP errors, run by the flood test inside a router's namespace: destination
// unreachables (host unreachable) spoofed from `from` to `to`, each quoting an echo request from
// `to` with a random echo id and sequence — what a raw ICMP socket on `to` must read past without
// starving. Bounded: at most `count` packets and `seconds` of time, at `pps` packets per second.
// argv: family from to pps seconds count. Prints 'ready', then a JSON summary on exit or SIGTERM.
// Loads the compiled package (npm test builds it first): the child is plain Node.
import { randomInt } from 'node:crypto';
import { c, native } from '../../dist/sock/binding.js';
import * as icmpv4 from '../../dist/wire/icmpv4.js';
import * as icmpv6 from '../../dist/wire/icmpv6.js';
import * as ipv4 from '../../dist/wire/ipv4.js';
import * as ipv6 from '../../dist/wire/ipv6.js';
import { encodeInet } from '../../dist/sock/sockaddr.js';

const [family, from, to, pps, seconds, count] = [Number(process.argv[2]), process.argv[3], process.argv[4], Number(process.argv[5]), Number(process.argv[6]), Number(process.argv[7])];
const fd = native().socket(c(family === 4 ? 'AF_INET' : 'AF_INET6'), c('SOCK_RAW'), c('IPPROTO_RAW'));
if (fd < 0) throw new Error(`socket(IPPROTO_RAW): ${fd}`);
native().setsockopt(fd, c('SOL_SOCKET'), c('SO_SNDBUF'), 4 << 20);

function packet() {
  const echo = { kind: 'echoRequest', code: 0, id: randomInt(0x10000), seq: randomInt(0x10000), payload: Buffer.alloc(56, 0x41) };
  if (family === 4) {
    const icmp = icmpv4.encode(echo);
    const quoted = Buffer.concat([ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + icmp.length, id: 0, df: true, mf: false, fragmentOffset: 0, ttl: 60, protocol: 1, src: to, dst: from, options: Buffer.alloc(0) }), icmp]);
    const err = icmpv4.encode({ kind: 'destUnreachable', code: 1, nextHopMtu: 0, quoted });
    return Buffer.concat([ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + err.length, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: 1, src: from, dst: to, options: Buffer.alloc(0) }), err]);
  }
  const icmp = icmpv6.encode(echo, undefined, 0, { src: to, dst: from });
  const quoted = Buffer.concat([ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: icmp.length, hopLimit: 60, src: to, dst: from, extensions: [], protocol: 58 }), icmp]);
  const err = icmpv6.encode({ kind: 'destUnreachable', code: 3, quoted }, undefined, 0, { src: from, dst: to });
  return Buffer.concat([ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: err.length, hopLimit: 64, src: from, dst: to, extensions: [], protocol: 58 }), err]);
}

const packets = Array.from({ length: 512 }, packet);
const dest = encodeInet({ family, address: to, port: 0 });
const started = process.hrtime.bigint();
let sent = 0;
let failed = 0;
let done = false;

function finish() {
  if (done) return;
  done = true;
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ sent, failed, seconds: s, pps: Math.round(sent / s) })}\n`);
  native().close(fd);
  process.exit(0);
}
process.on('SIGTERM', finish);

function tick() {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (elapsed >= seconds || sent >= count) return finish();
  // Catch up to the rate: as many packets as the schedule says by now.
  const due = Math.min(count, Math.floor(elapsed * pps) + 1);
  while (sent + failed < due) {
    if (native().sendmsg(fd, packets[(sent + failed) & 511], dest, null, 0) > 0) sent++;
    else failed++;
  }
  setImmediate(tick);
}
process.stdout.write('ready\n');
tick();
