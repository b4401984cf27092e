// What each hop of a lab path must show in a trace: shared by the trace lab tests.
import type { Lab } from '../../src/lab/lab.js';
import { linkLimit, planLab } from '../../src/lab/spec.js';
import type { Family } from '../../src/wire/facts.js';

/**
 * The largest packet that reaches each hop. Hop k (router k) is reached over links 0..k-1, so its
 * MTU is the smallest limit of those; the server's is the path MTU.
 */
export function truth(lab: Lab, f: Family): number[] {
  const plan = planLab(lab.spec);
  const out: number[] = [];
  let cur = Infinity;
  for (let i = 0; i < plan.links.length - 1; i++) {
    cur = Math.min(cur, linkLimit(plan.links[i]!, 'forward').limit);
    out.push(cur);
  }
  out.push(lab.expectedPmtu(f));
  return out;
}
