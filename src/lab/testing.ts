// labTest(): the one way test files use the lab. Builds the lab, runs the body, always destroys.
// Without root it skips with the reason — except under CI=true, where a lab that cannot be built
// is a failure (CI is where these tests must run).
import { test, type TestContext } from 'node:test';
import { LabError } from '../errors.js';
import { Lab, canRunLab } from './lab.js';
import type { PathSpec } from './spec.js';

export interface LabTestOptions {
  /** Per-test timeout in ms (default 60 s). */
  timeout?: number;
}

/** Why lab tests cannot run here, or undefined when they can (or must, under CI). */
export function labSkipReason(): string | undefined {
  if (process.env.CI === 'true') return undefined;
  const can = canRunLab();
  return can.ok ? undefined : `lab unavailable: ${can.reason}`;
}

export function labTest(
  name: string,
  spec: PathSpec,
  fn: (lab: Lab, t: TestContext) => Promise<void> | void,
  opts: LabTestOptions = {},
): void {
  const skip = labSkipReason();
  if (skip !== undefined) {
    test(name, { skip }, () => {});
    return;
  }
  test(name, { timeout: opts.timeout ?? 60_000 }, async (t) => {
    const can = canRunLab();
    if (!can.ok) throw new LabError(`CI=true but the lab cannot be built: ${can.reason}`);
    const lab = await Lab.create(spec);
    try {
      await fn(lab, t);
    } finally {
      await lab.destroy();
    }
  });
}
