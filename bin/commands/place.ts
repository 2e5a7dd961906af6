/**
 * `placer place --policy DIR/policy`: a trained policy on another problem
 * (any number of layers and types). Zero-shot: the policy's most likely
 * assignment, decoded exactly; `--fine-tune N` continues training from the
 * policy for N updates. Writes OUT/placement.json (and, fine-tuned, OUT/policy/).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { prepareOutputFolder, writeJsonAtomic } from '../../env/atomic-write.js';
import { lockFolder } from '../../env/folder-lock.js';
import { assignmentOf } from '../../env/problem.js';
import { selectBackend } from '../../agent/backend.js';
import { certifiedPlacementJson } from '../../agent/export.js';
import { loadPolicy } from '../../agent/policy-io.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer } from '../../agent/reinforce.js';
import { addProblemOptions, loadProblemFromOptions, positiveInteger } from '../common.js';
import { addTrainingOptions, provenance, trainCommand, type TrainCommandOptions } from './train.js';

interface PlaceCommandOptions extends TrainCommandOptions {
  out: string;
  policy: string;
  fineTune?: number;
}

export function register(program: Command): void {
  addTrainingOptions(
    addProblemOptions(
      program
        .command('place')
        .description('apply a trained policy (DIR/policy from "placer train") to a problem, zero-shot or fine-tuned'),
    ),
  )
    .option('--out <dir>', 'output folder: placement.json (and policy/, checkpoint/ when fine-tuned)', 'runs/place')
    .requiredOption('--policy <dir>', 'a policy folder written by "placer train" (DIR/policy)')
    .option('--fine-tune <n>', 'continue training the policy on this problem for n updates', positiveInteger('--fine-tune'))
    .action(async (options: PlaceCommandOptions) => {
      const log = (line: string) => process.stderr.write(`placer: ${line}\n`);
      const loaded = loadProblemFromOptions(options);
      // The output folder is checked before any work; fine-tuning takes its lock in trainCommand, zero-shot here.
      prepareOutputFolder(options.out);
      const lock = options.fineTune === undefined ? lockFolder(options.out, '--out', log) : undefined;
      await selectBackend(options.backend, log);
      const { policy } = await loadPolicy(options.policy);
      log(`policy ${options.policy}: ${policy.config.encoder} encoder, ${policy.parameterCount} weights`);
      // Zero-shot first (always reported), then the optional fine-tuning.
      const config = { ...DEFAULT_REINFORCE_CONFIG, decoder: options.decoder ?? 'none' };
      const zeroTrainer = new ReinforceTrainer(loaded.problem, loaded.settings, config, { seed: options.seed, iterations: 0, policy });
      const zero = zeroTrainer.zeroShot();
      const what = (x: number) => (loaded.settings.objective === 'cost' ? `${x.toExponential(4)} $/step` : `${x.toFixed(3)} ms/step`);
      log(`zero-shot: ${zero.feasible ? what(zero.objective) : `infeasible (violation ${zero.violation.toFixed(3)})`}`);
      if (options.fineTune === undefined) {
        const zeroResult = zeroTrainer.tracker.result();
        // The heuristic warm start is scored beside the policy's placement: say which one this is.
        const fromPolicy = assignmentOf(zeroResult.placement, loaded.problem.layers.length).every((k, l) => k === zero.assignment[l]);
        const method = fromPolicy ? 'policy (zero-shot)' : 'heuristic warm start (better than the policy\'s zero-shot placement)';
        const json = await certifiedPlacementJson(loaded.problem, loaded.settings, zeroResult.placement, {
          seed: options.seed,
          seconds: Number(zeroResult.seconds.toFixed(3)),
          evaluations: zeroResult.evaluations,
          method,
          policy: options.policy,
          zeroShotObjective: zero.feasible ? zero.objective : null,
          ...provenance(loaded),
        });
        writeJsonAtomic(join(options.out, 'placement.json'), json);
        zeroTrainer.dispose();
        lock?.release();
        process.stdout.write(`${options.out}/placement.json: ${json.feasible ? `${json.stepMs} ms/step, ${json.pricePerHour} $/h` : 'infeasible'} (${method})\n`);
        policy.dispose();
        return;
      }
      zeroTrainer.dispose();
      await trainCommand({ ...options, iterations: options.fineTune }, { policy, problem: loaded, label: options.policy });
      policy.dispose();
    });
}
