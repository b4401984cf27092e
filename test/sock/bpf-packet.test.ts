// The kernel runs tcpFlowProgram() on a packet socket (AF_PACKET, SOCK_RAW, every interface) as
// the interpreter does: SKF_AD_PROTOCOL reads the ethertype, SKF_NET_OFF loads reach the IP and TCP
// headers. Two TCP connections from the lab's client to a server; the filtered capture reads
// segments of one flow only, in both directions, while an unfiltered witness sees both flows.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';
import { c, native } from '../../src/sock/binding.js';
import { attachFilter, tcpFlowProgram } from '../../src/sock/bpf.js';
import { bytesToIp } from '../../src/wire/addr.js';
import { encodePacket } from '../../src/sock/sockaddr.js';

const PORT = 8080;
const LOCAL_A = 45000;
const LOCAL_B = 45001;

const server = `require('node:net').createServer((s) => s.pipe(s)).listen(${PORT}, '::', () => console.log('listening'))`;
// Two connections, from fixed local ports, each sending a little and reading the echo back.
const client = (to: string): string => `
const net = require('node:net');
const one = (localPort) => new Promise((resolve, reject) => {
  const s = net.connect({ host: '${to}', port: ${PORT}, localPort }, () => s.end('x'.repeat(3000)));
  s.on('data', () => {}); s.on('end', resolve); s.on('error', reject);
});
Promise.all([one(${LOCAL_A}), one(${LOCAL_B})]).then(() => console.log('done'), (e) => { console.error(e); process.exit(1); });`;

interface Seg {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

/** The TCP segment in an Ethernet frame, or null (other protocols). */
function segment(frame: Buffer): Seg | null {
  const type = frame.readUInt16BE(12);
  if (type === 0x0800 && frame[14 + 9] === 6) {
    const t = 14 + (frame[14]! & 0x0f) * 4;
    return { src: bytesToIp(frame, 14 + 12, 4), dst: bytesToIp(frame, 14 + 16, 4), srcPort: frame.readUInt16BE(t), dstPort: frame.readUInt16BE(t + 2) };
  }
  if (type === 0x86dd && frame[14 + 6] === 6) {
    return { src: bytesToIp(frame, 14 + 8, 6), dst: bytesToIp(frame, 14 + 24, 6), srcPort: frame.readUInt16BE(54), dstPort: frame.readUInt16BE(56) };
  }
  return null;
}

function capture(): number {
  const all = c('ETH_P_ALL');
  const proto = ((all & 0xff) << 8) | (all >> 8); // htons
  const fd = native().socket(c('AF_PACKET'), c('SOCK_RAW'), proto);
  assert.ok(fd >= 0, `socket(AF_PACKET): ${fd}`);
  assert.equal(native().bind(fd, encodePacket(0, all)), 0);
  return fd;
}

function readAll(fd: number): Seg[] {
  const out: Seg[] = [];
  for (;;) {
    const r = native().recvmsg(fd, 256, 0, 0);
    if (typeof r === 'number') break;
    const s = segment(r.data);
    if (s !== null) out.push(s);
  }
  return out;
}

labTest('the kernel runs the TCP flow program on a packet socket: one flow, both directions', { routers: [{}], links: [{}, {}] }, async (lab) => {
  const srv = lab.spawn('server', [process.execPath, '-e', server], { stdio: ['ignore', 'pipe', 'pipe'] });
  let listening = '';
  srv.stdout!.on('data', (d: Buffer) => (listening += d.toString()));
  for (let i = 0; i < 500 && !listening.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(listening, /listening/);
  for (const f of [4, 6] as Family[]) {
    const [me, them] = f === 4 ? [lab.client.v4, lab.server.v4] : [lab.client.v6, lab.server.v6];
    lab.enter('client');
    const witness = capture();
    const filtered = capture();
    lab.leave();
    try {
      attachFilter({ fd: filtered }, tcpFlowProgram({ remote: them, remotePort: PORT, local: me, localPort: LOCAL_A }));
      // Whatever was queued before the filter: read it away.
      readAll(filtered);
      const r = await lab.exec('client', [process.execPath, '-e', client(them)], { timeoutMs: 20_000 });
      assert.match(r.stdout, /done/, `IPv${f} client: ${r.stderr}`);
      const seen = readAll(witness);
      const got = readAll(filtered);
      const flowOf = (s: Seg): string => (s.src === me ? `${s.srcPort}>${s.dstPort}` : `${s.dstPort}<${s.srcPort}`);
      const count = (list: Seg[]): Record<string, number> => list.reduce<Record<string, number>>((m, s) => ((m[flowOf(s)] = (m[flowOf(s)] ?? 0) + 1), m), {});
      const label = `IPv${f}: witness ${JSON.stringify(count(seen))}, filtered ${JSON.stringify(count(got))}`;
      assert.ok(seen.some((s) => s.srcPort === LOCAL_B || s.dstPort === LOCAL_B), `${label}: the other flow was on the wire`);
      assert.ok(got.some((s) => s.src === me && s.srcPort === LOCAL_A), `${label}: our segments were read`);
      assert.ok(got.some((s) => s.src === them && s.dstPort === LOCAL_A), `${label}: the server's segments were read`);
      const strangers = got.filter((s) => !((s.src === me && s.srcPort === LOCAL_A && s.dst === them && s.dstPort === PORT) || (s.src === them && s.srcPort === PORT && s.dst === me && s.dstPort === LOCAL_A)));
      assert.deepEqual(strangers, [], label);
    } finally {
      native().close(witness);
      native().close(filtered);
    }
  }
});
