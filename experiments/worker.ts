/** The piscina worker: one run per task (experiments/run-one.ts). */
import { runOne, type RunResult } from './run-one.js';
import type { RunSpec } from './runs.js';

export default function work(task: { run: RunSpec; runsDir: string; workers: number }): Promise<RunResult> {
  return runOne(task.run, task.runsDir, task.workers);
}
