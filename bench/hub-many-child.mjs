// One whole pathmtu process for the hub bench: discoverMany over the addresses on stdin (one per
// line), in the namespace it was started in. Loads the compiled package (npm run bench builds it).
// argv: family method [ratePps]. Prints one JSON line: every answer, wall time, peak RSS (VmHWM)
// and the most sockets held at once.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { discoverMany } from '../dist/index.js';

const [family, method, rate] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const addresses = readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== '');
const sockets = () =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
const base = sockets();
let peakSockets = 0;
const watch = setInterval(() => (peakSockets = Math.max(peakSockets, sockets() - base)), 20);
const answers = [];
const runStarted = performance.now();
for await (const r of discoverMany(addresses, { family, method, ...(rate ? { ratePps: Number(rate) } : {}) })) {
  answers.push(r.ok ? [r.result.address, r.result.pmtu, r.result.exact, r.result.probes] : [r.target, null, false, 0, r.error.message]);
}
const runMs = performance.now() - runStarted;
clearInterval(watch);
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(
  `${JSON.stringify({ answers, runMs, peakRssMb: hwm ? Number(hwm[1]) / 1024 : null, peakSockets })}\n`,
);
