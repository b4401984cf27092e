// Targets from a file (-f FILE, '-' for standard input): one or more per line, separated by spaces;
// blank lines and '#' comments skipped. A file that cannot be read is a usage error naming it.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export function readTargetsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${path === '-' ? 'standard input' : path}: ${e.code ?? e.message}`);
  }
  return parseTargets(text);
}

export function parseTargets(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const body = line.replace(/#.*/, '').trim();
    if (body !== '') out.push(...body.split(/\s+/));
  }
  return out;
}
