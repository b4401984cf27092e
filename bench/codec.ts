// Codec and checksum throughput: packets/s for encode+decode of each wire codec, and Internet
// checksum GB/s on 64 B, 1500 B and 64 KiB beside a C reference (bench/checksum-ref.c, compiled
// with gcc -O2 into .bench-tmp/ at bench time). Every figure is the median of RUNS runs.
// Run alone: node --import tsx bench/codec.ts     (bench/run.ts calls runCodecBench()).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksum } from '../src/wire/checksum.js';
import * as ethernet from '../src/wire/ethernet.js';
import * as icmpv4 from '../src/wire/icmpv4.js';
import * as icmpv6 from '../src/wire/icmpv6.js';
import * as ipv4 from '../src/wire/ipv4.js';
import * as ipv6 from '../src/wire/ipv6.js';
import { decodeQuote } from '../src/wire/quote.js';
import * as tcp from '../src/wire/tcp.js';
import * as udp from '../src/wire/udp.js';

const RUNS = 5;
const RUN_MS = 120;
const SIZES = [64, 1500, 65536];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Calls fn in batches for about RUN_MS; returns calls per second. */
function rate(fn: () => unknown): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  let dt = 0;
  do {
    for (let i = 0; i < 256; i++) fn();
    n += 256;
    dt = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (dt < RUN_MS);
  return (n / dt) * 1000;
}

function measure(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up so the optimizing compiler has run
  return median(Array.from({ length: RUNS }, () => rate(fn)));
}

const quoted1500 = Buffer.concat([
  ipv4.encode({ dscp: 0, ecn: 0, totalLength: 1500, id: 7, df: true, mf: false, fragmentOffset: 0, ttl: 63, protocol: 17, src: '198.18.0.2', dst: '198.18.2.2', options: Buffer.alloc(0) }),
  udp.encode({ srcPort: 40000, dstPort: 33434, payload: Buffer.alloc(540, 0x5a) }),
]);
const p4 = { src: '198.18.0.2', dst: '198.18.2.2' };
const p6 = { src: '2001:db8::2', dst: '2001:db8:2::2' };

/** One encode+decode per call, with realistic probe-sized packets. */
const CODECS: Array<[string, () => unknown]> = [
  ['ipv4 header', () => ipv4.decode(ipv4.encode({ dscp: 0, ecn: 0, totalLength: 1500, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src: '198.18.0.2', dst: '198.18.2.2', options: Buffer.alloc(0) }))],
  ['ipv6 header + frag', () => ipv6.decode(ipv6.encode({ trafficClass: 0, flowLabel: 1, payloadLength: 1460, hopLimit: 64, src: p6.src, dst: p6.dst, protocol: 17, extensions: [{ type: 44, fragmentOffset: 0, mf: true, id: 9 }] }))],
  ['icmpv4 echo 64 B', () => icmpv4.decode(icmpv4.encode({ kind: 'echoRequest', code: 0, id: 1, seq: 2, payload: Buffer.alloc(56) }))],
  ['icmpv4 frag-needed 576 B', () => icmpv4.decode(icmpv4.encode({ kind: 'destUnreachable', code: 4, nextHopMtu: 1400, quoted: quoted1500 }))],
  ['icmpv6 echo 1452 B + pseudo', () => icmpv6.decode(icmpv6.encode({ kind: 'echoRequest', code: 0, id: 1, seq: 2, payload: Buffer.alloc(1452) }, undefined, 0, p6), 0, p6)],
  ['udp 1472 B + pseudo', () => udp.decode(udp.encode({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(1464) }, undefined, 0, p4), 0, p4)],
  ['tcp SYN + options', () => tcp.decode(tcp.encode({ srcPort: 50000, dstPort: 443, seq: 1, ackNumber: 0, flags: { syn: true }, window: 64240, urgentPointer: 0, options: [{ type: 'mss', value: 1460 }, { type: 'sackPermitted' }, { type: 'timestamps', value: 1, echo: 0 }, { type: 'nop' }, { type: 'windowScale', shift: 7 }], payload: Buffer.alloc(0) }, undefined, 0, p4), 0, p4)],
  ['ethernet + QinQ', () => ethernet.decode(ethernet.encode({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', tags: [{ tpid: 0x88a8, pcp: 0, dei: false, vid: 100 }, { tpid: 0x8100, pcp: 0, dei: false, vid: 200 }], ethertype: 0x0800 }))],
  ['quote (decode only)', () => decodeQuote(quoted1500)],
];

/** GB/s of the C reference per size, or a reason it is missing. */
function cReference(): Map<number, number> | string {
  const dir = join(root, '.bench-tmp');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'checksum-ref');
  const cc = spawnSync('gcc', ['-O2', '-o', exe, join(root, 'bench', 'checksum-ref.c')], { encoding: 'utf8' });
  if (cc.error) return 'gcc not found (apt-get install -y gcc)';
  if (cc.status !== 0) return `gcc failed: ${cc.stderr.trim().split('\n')[0]}`;
  const run = spawnSync(exe, SIZES.map(String), { encoding: 'utf8' });
  if (run.status !== 0) return `reference exited ${run.status}`;
  const bySize = new Map<number, number[]>();
  for (const line of run.stdout.trim().split('\n')) {
    const [size, , gbps] = line.split(' ').map(Number);
    bySize.set(size, [...(bySize.get(size) ?? []), gbps]);
  }
  return new Map([...bySize].map(([s, xs]) => [s, median(xs)]));
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export async function runCodecBench(): Promise<string> {
  const codecRows = CODECS.map(([name, fn]) => {
    const r = measure(fn);
    return [name, Math.round(r).toLocaleString('en-US'), `${(1e9 / r).toFixed(0)} ns`];
  });
  const ref = cReference();
  const ckRows = SIZES.map((n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 0xff;
    let x = 0;
    const r = measure(() => {
      b[0] = x; // the data changes each call, as in the C reference
      x ^= checksum(b);
    });
    const gbps = (r * n) / 1e9;
    const c = typeof ref === 'string' ? null : ref.get(n);
    return [`${n} B`, gbps.toFixed(2), c ? c.toFixed(2) : 'n/a', c ? `${((gbps / c) * 100).toFixed(0)}%` : ''];
  });
  const parts = [
    `wire codecs: encode+decode per second (median of ${RUNS} runs of ${RUN_MS} ms)`,
    table(['codec', 'packets/s', 'per packet'], codecRows),
    '',
    'Internet checksum throughput, GB/s (target >= 1 GB/s)',
    table(['buffer', 'pathmtu (TS)', 'C gcc -O2', 'of C'], ckRows),
  ];
  if (typeof ref === 'string') parts.push(`C reference unavailable: ${ref}`);
  return parts.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await runCodecBench());
}
