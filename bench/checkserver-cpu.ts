// CPU and wall time of check-server runs against seed 004's server on a fresh one-router lab
// (IPv4, 12 runs, medians). Standalone, not part of `npm run bench`: it was written to compare the
// old 4 ms busy poll with readiness-driven waits. `node --import tsx bench/checkserver-cpu.ts [ROOT]`
// measures the source tree at ROOT (default: this one), e.g. a `git worktree` of an older commit.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? '.');
const load = (p: string): Promise<Record<string, any>> => import(pathToFileURL(resolve(root, p)).href);
const { Lab } = await load('src/lab/lab.ts');
const { checkServer } = await load('src/checkserver/index.ts');
const { seedServer, PORT } = await load('test/checkserver/servers.ts');

const RUNS = 12;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const lab = await Lab.create({ routers: [{}] });
try {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const server = await seedServer(lab, 4);
    lab.enter('client');
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let verdict: string;
    try {
      verdict = (await checkServer(lab.server.v4, PORT, { rawStream: true })).verdict;
    } finally {
      lab.leave();
      server.kill();
    }
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (verdict !== 'success') console.error(`run ${i + 1}: verdict ${verdict}`);
    // The server kernel keeps our PTB's MTU (a route exception): flush it so each run starts alike.
    await lab.exec('server', ['ip', 'route', 'flush', 'cache']);
  }
  console.log(`check-server, ${RUNS} runs: median CPU ${median(cpu).toFixed(0)} ms, median wall ${median(wall).toFixed(0)} ms (${root})`);
} finally {
  await lab.destroy();
}
