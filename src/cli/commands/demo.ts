// pathmtu demo: build a small network of real Linux routers in network namespaces, run the main job
// through it with a short narration, and tear it down. Nothing leaves this machine: the namespaces
// have no link to the root namespace, addresses come from 198.18.0.0/15 and 2001:db8::/32.
import { parseArgs } from 'node:util';
import { discover, type DiscoverResult } from '../../discover/index.js';
import { renderTrace, trace, type TraceResult } from '../../trace/index.js';
import { LabError } from '../../errors.js';
import { Lab, canRunLab } from '../../lab/index.js';
import { deleteNetns, listNetns, ownerPid } from '../../lab/netns.js';
import { OutputClosed } from '../output.js';
import type { PathSpec } from '../../lab/index.js';
import type { Family } from '../../wire/facts.js';
import { useColor } from '../args.js';
import { EXIT_FAIL, EXIT_OK, type ParseArgsOptionsConfig, type Command, type Io } from '../command.js';
import { render as renderDiscover } from './discover.js';

const help = `pathmtu demo — see pathmtu work on a network of real Linux routers, built and torn down here

Usage:
  pathmtu demo [--json]

Builds (as root, in network namespaces; nothing touches your real network):

  client ─── r1 ─── r2 ═══ r3 ─── server
         1500   1500   1400   1500        link MTUs
  r2's next link is 1400 bytes, and r2 drops its IPv4 "fragmentation needed" messages: a PMTUD
  black hole, the way a careless firewall makes one. Over IPv6, r2 does send "packet too big".

then runs 'pathmtu discover' to the server over IPv4 and IPv6, 'pathmtu trace' through the black
hole to find the link where packets vanish, explains what it saw, and removes the network again
(also on Ctrl-C).

Options:
  --json        print the discover and trace results as one JSON object instead of the narration
  -h, --help    this help

Exit status: 0 both answers correct, 1 something went wrong (the message says what).
`;

/** The demo network: three routers, a 1400 bottleneck behind an ICMP-filtering router (IPv4 only). */
export const DEMO_SPEC: PathSpec = {
  routers: [{}, { dropPtb: 4 }, {}],
  links: [{}, {}, { mtu: 1400 }, {}],
};

const options = { json: { type: 'boolean', default: false } } as const satisfies ParseArgsOptionsConfig;

async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options });
  const can = canRunLab();
  if (!can.ok) {
    const why = process.getuid?.() !== 0 ? 'it needs root to build network namespaces: run it as root, e.g. sudo pathmtu demo' : can.reason;
    throw new LabError(`the demo network cannot be built here: ${why}`);
  }
  const color = useColor(io.stdout, io.env);
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const say = (s = ''): void => {
    if (!values.json) io.stdout.write(`${s}\n`);
  };

  say(bold('pathmtu demo — a small network of real Linux routers, in network namespaces on this machine'));
  say();
  say('  client ─── r1 ─── r2 ═══ r3 ─── server');
  say('         1500   1500   1400   1500        link MTUs');
  say('  r2 drops its IPv4 "fragmentation needed" messages (a PMTUD black hole); over IPv6 it sends "packet too big".');
  say();
  const t0 = performance.now();
  let lab: Lab;
  try {
    lab = await Lab.create(DEMO_SPEC);
  } catch (err) {
    if (io.signal.aborted) return interrupted(io);
    throw err;
  }
  try {
    return await tour(lab, performance.now() - t0, values.json, say, bold, color, io);
  } catch (err) {
    // Ctrl-C: the lab's own signal hook may already have removed the network under a running step
    // ("this lab has been destroyed", an aborted discover): all of that is just "interrupted".
    if (io.signal.aborted) return interrupted(io);
    throw err;
  } finally {
    await lab.destroy();
    if (io.signal.aborted) await removeOwnNamespaces();
  }
}

/**
 * Ctrl-C (or a closed stdout) during the demo: one line, no raw error, and no namespace left behind
 * — not even one an `ip` batch created after the lab's signal hook had swept (only this process's
 * namespaces are touched: the demo is the one lab in it).
 */
async function interrupted(io: Io): Promise<number> {
  await removeOwnNamespaces();
  if (!(io.signal.reason instanceof OutputClosed)) io.stderr.write('pathmtu demo: interrupted; the demo network was torn down\n');
  return EXIT_FAIL;
}

async function removeOwnNamespaces(): Promise<void> {
  await deleteNetns(listNetns().filter((n) => ownerPid(n) === process.pid));
}

async function tour(lab: Lab, builtMs: number, json: boolean, say: (s?: string) => void, bold: (s: string) => string, color: boolean, io: Io): Promise<number> {
  const results: Partial<Record<Family, DiscoverResult>> = {};
  let traced: TraceResult | undefined;
  let ok = true;
  {
    say(`Built in ${Math.round(builtMs)} ms. Client ${lab.client.v4} / ${lab.client.v6}, server ${lab.server.v4} / ${lab.server.v6}.`);
    for (const family of [4, 6] as const) {
      const server = family === 4 ? lab.server.v4 : lab.server.v6;
      say();
      say(bold(family === 4 ? '1. IPv4, through the black hole' : '2. IPv6, where r2 tells'));
      say(`   $ pathmtu ${server}`);
      lab.enter('client');
      let r: DiscoverResult;
      try {
        r = await discover(server, { signal: io.signal });
      } finally {
        lab.leave();
      }
      if (io.signal.aborted) return interrupted(io);
      results[family] = r;
      for (const line of renderDiscover(r).trimEnd().split('\n')) say(`   ${line}`);
      const truth = lab.expectedPmtu(family);
      const right = r.pmtu === truth && r.exact;
      ok &&= right;
      say();
      if (!right) say(`   ✗ expected ${truth}: this is a bug, please report it with the output above.`);
      else if (family === 4) {
        say(`   No router said a word: probes above ${r.pmtu} bytes simply vanished. tracepath would report 1500 here`);
        say(`   after a long wait, and a plain DF-ping search needs seconds; pathmtu confirmed the losses and`);
        say(`   found ${r.pmtu} exactly in ${fmtMs(r.elapsedMs)} with ${r.probes} probes.`);
      } else {
        say(`   r2's "packet too big" (next-hop MTU ${r.ptbs.find((p) => p.accepted)?.nextHopMtu ?? '?'}) was a hint, confirmed by a delivered`);
        say(`   ${r.pmtu}-byte probe: ${fmtMs(r.elapsedMs)}, ${r.probes} probes.`);
      }
    }

    say();
    say(bold('3. Where do the IPv4 packets vanish?'));
    say(`   $ pathmtu trace -n ${lab.server.v4}`);
    lab.enter('client');
    try {
      traced = await trace(lab.server.v4, { signal: io.signal });
    } finally {
      lab.leave();
    }
    if (io.signal.aborted) return interrupted(io);
    const width = (io.stdout.columns ?? 100) - 3;
    for (const line of renderTrace(traced, { color, width, explain: false }).trimEnd().split('\n')) say(`   ${line}`);
    const hole = traced.blackHole;
    const located = hole !== null && hole.lastAnswering === lab.routerAddress(2, 4, 'in');
    ok &&= located;
    say();
    if (located) {
      say(`   The fix: r2's firewall must let ICMP "fragmentation needed" (type 3 code 4) out — or every host`);
      say(`   behind it needs its MTU or TCP MSS lowered ('pathmtu explain ${traced.pmtu ?? 1400}' prints the commands).`);
    } else {
      say('   ✗ the black hole was not located at the link after r2: this is a bug, please report it.');
    }
  }
  await lab.destroy();
  if (io.signal.aborted) return interrupted(io);
  say();
  say('Network torn down; nothing was left behind. Try it yourself: pathmtu --help');
  if (json) io.stdout.write(`${JSON.stringify({ network: DEMO_SPEC, results, trace: traced ?? null }, null, 2)}\n`);
  return ok ? EXIT_OK : EXIT_FAIL;
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export const demoCommand: Command = { name: 'demo', help, options, run };
