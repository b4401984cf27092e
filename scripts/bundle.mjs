#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js and everything it imports) into one CommonJS file,
// dist/bin/pathmtu.cjs, which bin/pathmtu.js requires. Why (measured in `npm run bench -- --only
// startup`, see README "Start-up"): Node resolves, reads and compiles ~50 ESM files one by one for
// `pathmtu <host>`, and merely starting its ESM loader costs more than our own code does; one
// CommonJS file avoids both. Commands stay lazy: esbuild keeps each `await import()` of a command as
// a module initialised on first use, and a CommonJS bundle requires Node's built-in modules where
// the module that needs them is initialised (an ESM bundle would hoist them all to the top).
//
// Run after tsc (npm run build does both): the bundle is made from the same dist/ the library ships.
// Its last line names the build (a hash of the contents) and the commands: bin/pathmtu.js keys V8's
// code cache by them without compiling anything first.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = 'dist/cli/main.js';
export const OUTFILE = 'dist/bin/pathmtu.cjs';

if (!existsSync(`${root}/${entry}`)) {
  console.error(`bundle: ${entry} is missing; run tsc first (npm run build does both)`);
  process.exit(1);
}

const result = await build({
  absWorkingDir: root,
  // The CLI (main) and what bin/pathmtu.js guards stdout with (src/cli/output.ts).
  stdin: {
    contents: `export { main } from './${entry}';\nexport { guardOutput } from './dist/cli/output.js';\n`,
    resolveDir: root,
    sourcefile: 'pathmtu-cli-entry.js',
  },
  outfile: OUTFILE,
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Less to read and parse at every start. Names are kept: errors set `name` from their class
  // (PathMtuError subclasses), and stack traces of an unexpected error stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  // A dynamic import() left in the bundle (of a Node built-in, e.g. node:dns only for host names)
  // would need the ESM loader, and bin/pathmtu.js compiles the bundle as a vm.Script, which has
  // none: have esbuild turn each into a require() in a promise.
  supported: { 'dynamic-import': false },
  // node-gyp-build locates the native binding on disk at run time: it must stay a real require().
  external: ['node-gyp-build'],
  // CommonJS has no import.meta: give modules that locate files from their own URL (the package
  // root, the version in package.json) the bundle's URL. The bundle sits two levels below the
  // package root, as dist/<folder>/<module>.js do, so '../../' still names the root.
  define: { 'import.meta.url': '__bundleUrl' },
  // (The directive comes first: a banner line would otherwise push esbuild's own out of place.)
  banner: { js: "'use strict'; const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});

const code = result.outputFiles[0].text;
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
const { commands } = await import(pathToFileURL(`${root}/dist/cli/commands/index.js`).href);
mkdirSync(dirname(`${root}/${OUTFILE}`), { recursive: true });
writeFileSync(`${root}/${OUTFILE}`, `${code}//# pathmtu-build=${id} commands=${commands.map((c) => c.name).join(',')}\n`);
