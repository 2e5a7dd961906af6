/**
 * `placer place`: a trained policy on a problem it may never have seen (any
 * number of layers and types). Without --policy, the pretrained generalist
 * shipped in profiles/policies/generalist (`placer pretrain`; how it was made:
 * its README). Zero-shot: the policy's own placements (agent/pretrain/zero-shot.ts:
 * its mode and --samples draws, some at higher temperatures, each
 * provisioned, the best kept; no exact solver, no heuristic start). `--fine-tune N`
 * continues training from the policy with the agent's RL for N updates
 * (agent/pretrain/fine-tune.ts; `--max-evaluations` caps it as for train),
 * starting from the zero-shot placement (scored and counted, its row in the
 * elite). Writes OUT/placement.json (and, fine-tuned, OUT/policy/,
 * history.csv, checkpoint/).
 */
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { prepareOutputFolder, writeJsonAtomic } from '../../env/atomic-write.js';
import { PACKAGE_ROOT } from '../../env/bundled.js';
import { lockFolder } from '../../env/folder-lock.js';
import { selectBackend } from '../../agent/backend.js';
import { certifiedPlacementJson } from '../../agent/export.js';
import { loadPolicy } from '../../agent/policy-io.js';
import { DEFAULT_ZERO_SHOT_SHARE, FINE_TUNE_CONFIG, offerZeroShot } from '../../agent/pretrain/fine-tune.js';
import { DEFAULT_SAMPLES, DEFAULT_TEMPERATURES, zeroShot } from '../../agent/pretrain/zero-shot.js';
import { addProblemOptions, loadProblemFromOptions, positiveInteger } from '../common.js';
import { addTrainingOptions, provenance, trainCommand, type TrainCommandOptions } from './train.js';

/** --samples: a whole number from 0 to 10,000, written in decimal. */
function sampleCount(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > 10_000) throw new InvalidArgumentError(`--samples must be a whole number from 0 to 10000, got "${value}"`);
  return n;
}

/** The pretrained generalist shipped with the package. */
export const SHIPPED_POLICY = join(PACKAGE_ROOT, 'profiles', 'policies', 'generalist');

interface PlaceCommandOptions extends TrainCommandOptions {
  out: string;
  policy?: string;
  fineTune?: number;
  samples: number;
}

export function register(program: Command): void {
  addTrainingOptions(
    addProblemOptions(
      program
        .command('place')
        .description('place a problem with a trained policy (default: the shipped pretrained generalist), zero-shot or fine-tuned'),
    ),
  )
    .option('--out <dir>', 'output folder: placement.json (and policy/, checkpoint/ when fine-tuned)', 'runs/place')
    .option('--policy <dir>', 'a policy folder written by "placer train" (DIR/policy) or "placer pretrain" (default: profiles/policies/generalist, shipped)')
    .option('--samples <n>', `zero-shot: placements sampled from the policy (seeded by --seed) beside its mode, sample i at temperature ${DEFAULT_TEMPERATURES.join(', ')} (cycling), each provisioned, the best kept; 0: the mode alone`, sampleCount, DEFAULT_SAMPLES)
    .option('--fine-tune <n>', `continue training the policy on this problem for n updates (from its zero-shot placement; with --max-evaluations, the zero-shot takes at most ${DEFAULT_ZERO_SHOT_SHARE * 100}% of them)`, positiveInteger('--fine-tune'))
    .action(async (options: PlaceCommandOptions) => {
      const log = (line: string) => process.stderr.write(`placer: ${line}\n`);
      const loaded = loadProblemFromOptions(options);
      // The output folder is checked before any work; fine-tuning takes its lock in trainCommand, zero-shot here.
      prepareOutputFolder(options.out);
      const lock = options.fineTune === undefined ? lockFolder(options.out, '--out', log) : undefined;
      await selectBackend(options.backend, log);
      const policyDir = options.policy ?? SHIPPED_POLICY;
      const label = options.policy ?? 'profiles/policies/generalist (shipped)';
      const { policy } = await loadPolicy(policyDir);
      log(`policy ${label}: ${policy.config.encoder} encoder, ${policy.parameterCount} weights`);
      if (options.fineTune !== undefined) {
        try {
          await trainCommand(
            { ...options, iterations: options.fineTune },
            { policy, problem: loaded, label, config: FINE_TUNE_CONFIG, beforeRun: (trainer) => offerZeroShot(trainer, { seed: options.seed, samples: options.samples }) },
          );
        } finally {
          policy.dispose();
        }
        return;
      }
      const zero = zeroShot(policy, loaded.problem, loaded.settings, { seed: options.seed, samples: options.samples });
      policy.dispose();
      const json = await certifiedPlacementJson(loaded.problem, loaded.settings, zero.placement, {
        seed: options.seed,
        // The time to place: features, one forward pass, the mode and provisioning (start-up and loading excluded).
        seconds: Number(zero.seconds.toFixed(3)),
        evaluations: zero.evaluations,
        method: 'policy (zero-shot)',
        decoding: zero.decoding,
        policy: label,
        ...provenance(loaded),
      });
      writeJsonAtomic(join(options.out, 'placement.json'), json);
      lock?.release();
      const what = loaded.settings.objective === 'cost' ? `${json.costPerStep} $/step` : `${json.stepMs} ms/step`;
      process.stdout.write(
        `${options.out}/placement.json: ${json.feasible ? `${what}, ${json.pricePerHour} $/h, ${json.stages.length} stages` : 'infeasible'} (policy zero-shot, ${zero.winner === 0 ? "its mode" : `sample ${zero.winner} of ${options.samples}`}; ${zero.seconds.toFixed(3)} s)\n`,
      );
    });
}
