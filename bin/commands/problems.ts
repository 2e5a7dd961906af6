import { Command } from 'commander';
import { bundledProblem, bundledProblemNames, DEFAULT_PROBLEM } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';

export function register(program: Command): void {
  program
    .command('problems')
    .description('list the bundled problems (use one with --problem NAME)')
    .action(() => {
      for (const name of bundledProblemNames()) {
        const { files, defaults } = bundledProblem(name);
        const problem = loadProblem(files);
        const constraint = defaults.objective === 'cost' ? `deadline ${defaults.deadline ?? 'none'} ms` : `budget ${defaults.budget ?? 'none'} $/h`;
        const mark = name === DEFAULT_PROBLEM ? ' (default)' : '';
        process.stdout.write(
          `${name}${mark}: ${problem.layers.length} layers, ${problem.types.length} types (${problem.types.map((t) => t.name).join(', ')}), M = ${defaults.microBatches ?? 8}, ${constraint}\n  ${defaults.description ?? ''}\n`,
        );
      }
    });
}
