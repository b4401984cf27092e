// Where a run's targets come from, in the order typed: hosts and prefixes on the command line, list
// files (-f, one target per line, # comments) and `-` for stdin (read once). Shared by discover's
// many-target runs and watch; the entries are then checked and expanded by targets.ts.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AbortError, UsageError } from '../errors.js';
import type { Io } from './command.js';
import { parseTargetList, type TargetText } from './targets.js';

/** One source of targets, in the order typed: a host or prefix, a list file, or `-` (stdin). */
export type Source = { kind: 'arg'; text: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

/** Read every source (files and stdin at most once each) into entries, in order. */
export async function readSources(sources: readonly Source[], io: Io): Promise<TargetText[]> {
  const entries: TargetText[] = [];
  let stdinRead = false;
  const lists: string[] = [];
  for (const s of sources) {
    if (s.kind === 'arg') {
      entries.push({ text: s.text });
      continue;
    }
    let text: string;
    let name: string;
    if (s.kind === 'stdin' || s.path === '-') {
      if (stdinRead) throw new UsageError("stdin ('-') can be read only once");
      stdinRead = true;
      name = '<stdin>';
      text = await readAll(io.stdin ?? process.stdin, io.signal);
    } else {
      name = s.path;
      try {
        text = await readFile(s.path, { encoding: 'utf8', signal: io.signal });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw new AbortError();
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
        throw new UsageError(`cannot read the target list ${s.path}: ${why}${e.code && !why.includes(e.code) ? ` (${e.code})` : ''}`);
      }
    }
    entries.push(...parseTargetList(text, name));
    lists.push(name);
  }
  if (entries.length === 0) throw new UsageError(`no target: ${lists.join(' and ')} ${lists.length === 1 ? 'holds' : 'hold'} none (one host, address or prefix per line; # starts a comment)`);
  return entries;
}

async function readAll(stream: Readable, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  const onAbort = (): void => {
    stream.destroy(new AbortError());
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}
