// The layer rule of DESIGN.md, checked on the source: each folder of src/ imports only the layers
// listed above it, and no module imports itself through others (a cycle). Every import counts,
// type-only ones and dynamic import() too: a cycle of types is still two modules that cannot be
// understood apart. Imports are read with TypeScript's own pre-processor, not a regular expression.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

/**
 * DESIGN.md's list, lowest first; a folder may import only from a lower rank (or itself). One
 * deliberate reading: src/explain is pure (it imports only wire) and a trace's answer carries its
 * explanation, so it sits below the jobs rather than after them. doctor is not in the list: it reads
 * the kernel cache and the probe layer's method checks, so it sits above cache. Folders on one
 * line of the list share a rank, except that trace is built on discover.
 */
const RANKS: Record<string, number> = {
  'errors.ts': 0,
  'package.ts': 0.5, // finds the package's files; its errors come from errors.ts
  wire: 1,
  sock: 2,
  probe: 3,
  engine: 4,
  search: 5,
  explain: 6,
  discover: 7,
  trace: 8,
  ping: 8,
  checkserver: 8,
  cache: 9,
  inject: 9,
  doctor: 10,
  watch: 11,
  serve: 12,
  lab: 13,
  cli: 14,
  'index.ts': 15,
};

const SRC = resolve('src');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module (path relative to src/) -> the modules it imports, relative imports only. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = info.importedFiles
      .map((f) => f.fileName)
      .filter((n) => n.startsWith('.'))
      .map((n) => relative(root, resolve(dirname(file), n)).replace(/\.js$/, '.ts'));
    graph.set(relative(root, file), deps);
  }
  return graph;
}

/** The layer a module belongs to: its top folder under src/, or the file itself at the top. */
const layerOf = (module: string): string => module.split('/')[0]!;

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function violations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    const a = layerOf(from);
    for (const to of deps) {
      const b = layerOf(to);
      if (a === b) continue;
      const ra = RANKS[a];
      const rb = RANKS[b];
      if (ra === undefined || rb === undefined) continue; // reported by the test below
      if (rb >= ra) out.push(`${from} imports ${to}: ${a} may not import ${b}`);
    }
  }
  return out;
}

const graph = importGraph(SRC);

test('the import graph is read: every module seen, relative imports resolved to files that exist', () => {
  assert.ok(graph.size > 100, `only ${graph.size} modules under src/`);
  const missing = [...graph].flatMap(([from, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${from} -> ${d}`));
  assert.deepEqual(missing, [], 'imports that name no source file');
  assert.ok(graph.get('trace/trace.ts')!.includes('discover/discover.ts'), 'a known import is found');
});

test('every folder of src/ has its place in the layer list', () => {
  const unplaced = [...new Set([...graph.keys()].map(layerOf))].filter((l) => RANKS[l] === undefined);
  assert.deepEqual(unplaced, [], 'place new folders in RANKS (DESIGN.md "Layers") before importing them');
});

test('no import cycles in src/', () => {
  assert.deepEqual(cycles(graph), []);
});

test('each folder imports only the layers below it (DESIGN.md)', () => {
  assert.deepEqual(violations(graph), []);
});

test('the checks fail where they should: a cycle and an upward import are found', () => {
  const bad = new Map<string, string[]>([
    ['trace/hops.ts', ['trace/blackhole.ts', 'wire/facts.ts']],
    ['trace/blackhole.ts', ['trace/hops.ts']],
    ['wire/facts.ts', ['probe/outcome.ts']],
    ['probe/outcome.ts', []],
  ]);
  assert.deepEqual(cycles(bad), [['trace/blackhole.ts', 'trace/hops.ts']]);
  assert.deepEqual(violations(bad), ['wire/facts.ts imports probe/outcome.ts: wire may not import probe']);
});
