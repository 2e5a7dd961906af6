/** The piscina worker: one run per task (experiments/run-one.ts). */
import type { MessagePort } from 'node:worker_threads';
import { runOne, type RunResult } from './run-one.js';
import type { RunSpec } from './runs.js';

/** `started` tells the runner the run has begun (its hard time limit counts from here, not from the queue). */
export default function work(task: { run: RunSpec; runsDir: string; workers: number; started: MessagePort }): Promise<RunResult> {
  task.started.postMessage('started');
  task.started.close();
  return runOne(task.run, task.runsDir, task.workers);
}
