// Issue 9 items 1-3, measured: pathmtu beside tracepath and scamper on the same fresh lab paths.
//   filtered   the host drops echo: time to the answer (auto must fall back in one round trip; goal <= 1 s)
//   silent     the host drops echo and UDP: time until each tool gives up (goal <= 5 s for one method)
//   ptb-hole   a router says 1480, a later one drops its PTBs at a 1400 link: exact in <= 1 s
// Each run gets a new lab (the kernel's PMTU cache and the routers' ICMP buckets must not carry
// over). Whole processes, start-up included. Nothing is asserted: the goals are printed beside.
//
// npm run bench -- --only hard [--reps N]      or alone: node --import tsx bench/hard.ts [--reps N]
import { fileURLToPath } from 'node:url';
import { Lab } from '../src/lab/index.js';
import type { PathSpec } from '../src/lab/spec.js';
import type { Family } from '../src/wire/facts.js';
import { median, seconds } from './lib/stats.js';
import { table } from './lib/table.js';
import { ROOT, TOOLS, TimedOut, deadlineExec, type Tool, type ToolOutput } from './lib/tools.js';
import { join } from 'node:path';

const CLI = join(ROOT, 'bin', 'pathmtu.js');

interface HardScenario {
  id: 'filtered' | 'silent' | 'ptb-hole';
  label: string;
  spec: PathSpec;
  /** What a right answer is: the lab's path MTU, or "no answer" (the host answers nothing we send). */
  expect: 'pmtu' | 'none';
  /** pathmtu's arguments besides host and family, one row each. */
  pathmtu: Array<{ label: string; args: string[] }>;
  goal: { ms: number; text: string };
}

const SCENARIOS: HardScenario[] = [
  {
    id: 'filtered',
    label: 'host drops echo (auto must fall back)',
    spec: { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}], server: { dropEcho: true } },
    expect: 'pmtu',
    pathmtu: [{ label: 'pathmtu (auto)', args: [] }],
    goal: { ms: 1000, text: 'answer <= 1 s' },
  },
  {
    id: 'silent',
    label: 'host drops echo and UDP (give up)',
    spec: { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}], server: { dropEcho: true, dropUdp: true } },
    expect: 'none',
    pathmtu: [
      { label: 'pathmtu --method icmp', args: ['--method', 'icmp'] },
      { label: 'pathmtu --method udp', args: ['--method', 'udp'] },
    ],
    goal: { ms: 5000, text: 'give up <= 5 s' },
  },
  {
    id: 'ptb-hole',
    label: 'PTB 1480, then a silent 1400 link',
    spec: { routers: [{}, {}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1480 }, { mtu: 1400 }, {}] },
    expect: 'pmtu',
    pathmtu: [{ label: 'pathmtu (auto)', args: [] }],
    goal: { ms: 1000, text: 'exact <= 1 s' },
  },
];

interface Row {
  scenario: HardScenario;
  family: Family;
  tool: string;
  ours: boolean;
  truth: number;
  runs: Array<{ ms: number; said: string; correct: boolean; probes: number | null; timedOut: boolean }>;
  skipped?: string;
}

function pathmtuTool(label: string, args: string[]): Tool {
  return {
    id: 'pathmtu',
    label,
    roles: ['discover'],
    families: [4, 6],
    slowInBlackHoles: false,
    unavailable: () => undefined,
    async run({ host, family, exec }): Promise<ToolOutput> {
      const r = await exec([process.execPath, CLI, host, `-${family}`, '--json', ...args]);
      try {
        const j = JSON.parse(r.stdout) as { pmtu: number | null; exact: boolean; probes: number; method: string; reason?: string };
        const said = j.pmtu === null ? `no answer (${j.method})` : `${j.pmtu}${j.exact ? '' : ' (not exact)'} via ${j.method}`;
        return { pmtu: j.exact ? j.pmtu : null, said, probes: j.probes };
      } catch {
        return { pmtu: null, said: `exit ${r.code}, no JSON`, probes: null };
      }
    },
  };
}

async function once(s: HardScenario, family: Family, tool: Tool, timeoutMs: number): Promise<{ run: Row['runs'][number]; truth: number }> {
  const lab = await Lab.create(s.spec);
  try {
    const truth = lab.expectedPmtu(family);
    const host = family === 4 ? lab.server.v4 : lab.server.v6;
    const t0 = performance.now();
    const exec = deadlineExec(lab, timeoutMs);
    let out: ToolOutput | null = null;
    let timedOut = false;
    try {
      out = await tool.run({ host, family, exec });
    } catch (e) {
      if (!(e instanceof TimedOut)) throw e;
      timedOut = true;
    }
    const ms = performance.now() - t0;
    const said = timedOut ? `cut off at ${seconds(timeoutMs)}` : out!.said;
    const correct = !timedOut && (s.expect === 'none' ? out!.pmtu === null : out!.pmtu === truth);
    return { run: { ms, said, correct, probes: out?.probes ?? null, timedOut }, truth };
  } finally {
    await lab.destroy();
  }
}

export interface HardOptions {
  reps?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export async function runHardBench(opts: HardOptions = {}): Promise<string> {
  const reps = opts.reps ?? 3;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const peers = TOOLS.filter((t) => t.id === 'tracepath' || t.id === 'scamper');
  const rows: Row[] = [];
  for (const s of SCENARIOS) {
    for (const family of [4, 6] as Family[]) {
      const tools: Array<[Tool, boolean]> = [...s.pathmtu.map((p): [Tool, boolean] => [pathmtuTool(p.label, p.args), true]), ...peers.map((t): [Tool, boolean] => [t, false])];
      for (const [tool, ours] of tools) {
        const row: Row = { scenario: s, family, tool: tool.label, ours, truth: 0, runs: [] };
        rows.push(row);
        const why = tool.unavailable();
        if (why !== undefined) {
          row.skipped = why;
          continue;
        }
        // The peers take a minute or more on these paths: once is enough to know.
        const n = ours ? reps : 1;
        for (let rep = 1; rep <= n; rep++) {
          const { run, truth } = await once(s, family, tool, timeoutMs);
          row.truth = truth;
          row.runs.push(run);
          log(`[hard] ${s.id} v${family} ${tool.label} ${rep}/${n}: ${run.correct ? 'ok' : 'WRONG'} ${run.said} in ${seconds(run.ms)}`);
        }
      }
    }
  }
  return render(rows, reps, timeoutMs);
}

function render(rows: Row[], reps: number, timeoutMs: number): string {
  const body = rows.map((r) => {
    const what = `${r.scenario.label}, IPv${r.family}`;
    const truth = r.scenario.expect === 'none' ? 'no answer' : String(r.truth || '?');
    if (r.skipped !== undefined) return [what, truth, r.tool, `— not run: ${r.skipped}`, '', '', ''];
    const bad = r.runs.find((m) => !m.correct);
    const verdict = bad ? `✗ ${bad.said}` : `✓ ${r.runs[0].said}`;
    const ms = median(r.runs.map((m) => m.ms));
    const wall = r.runs.some((m) => m.timedOut) ? `≥${seconds(ms)}` : seconds(ms);
    const probes = r.runs.map((m) => m.probes).filter((p): p is number => p !== null);
    const goal = r.ours ? `${r.runs.every((m) => m.correct) && ms <= r.scenario.goal.ms ? '✓' : '✗'} ${r.scenario.goal.text}` : '';
    return [what, truth, r.tool, verdict, wall, probes.length ? String(median(probes)) : '?', goal];
  });
  return [
    'issue 9, discover on harder paths: pathmtu beside tracepath and scamper (a fresh lab per run)',
    table(['path', 'truth', 'tool', 'answer', 'median wall', 'probes', 'goal (pathmtu)'], body),
    `pathmtu: median of ${reps} run(s); tracepath and scamper once each; every run cut off at ${seconds(timeoutMs)}.`,
    'Wall time is the whole process (pathmtu: node bin/pathmtu.js, start-up included). "give up": no answer is',
    'the right answer on the silent path (the host answers neither echo nor UDP); a tool is judged on saying so.',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--reps');
  console.log(await runHardBench({ reps: i > 0 ? Number(process.argv[i + 1]) : 3 }));
}
