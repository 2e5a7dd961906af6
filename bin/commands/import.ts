import { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { positiveInteger } from '../common.js';
import { importModel, writeImport } from '../../profiles/import/import-model.js';

export interface ModelOptions {
  microBatchSize: number;
  dim: string[];
  maxLayers?: number;
}

/** `--dim name=value`, repeatable. */
function dimFlag(value: string, previous: string[] = []): string[] {
  if (!/^[^=\s]+=\d+$/.test(value) || Number(value.split('=')[1]) < 1) {
    throw new InvalidArgumentError(`--dim takes NAME=N with a whole N >= 1, got "${value}"`);
  }
  return [...previous, value];
}

export function dimBindings(flags: string[]): Map<string, number> {
  return new Map(flags.map((f) => [f.slice(0, f.lastIndexOf('=')), Number(f.slice(f.lastIndexOf('=') + 1))] as const));
}

/** The model options shared by `import` and `plan`. */
export function addModelOptions(command: Command): Command {
  return command
    .option('--micro-batch-size <N>', 'samples per micro-batch: the size of every input\'s first (batch) dimension', positiveInteger('--micro-batch-size'), 1)
    .option('--dim <name=N>', 'value of a named dynamic dimension (repeatable), e.g. --dim seq=128', dimFlag, [])
    .option('--max-layers <N>', 'merge neighbouring rows (cheapest pair first) until at most N remain', positiveInteger('--max-layers'));
}

export function register(program: Command): void {
  addModelOptions(
    program
      .command('import')
      .description('read an ONNX model or a tfjs layers-model model.json and write DIR/layers.csv and DIR/import-report.{json,md}')
      .argument('<model>', 'model.onnx, or model.json (or its folder) of a tfjs layers-model')
      .option('--out <dir>', 'where layers.csv and the report go', 'runs/import'),
  )
    .addHelpText('after', '\nExamples:\n  placer import resnet.onnx --micro-batch-size 32 --out runs/resnet\n  placer import bert.onnx --micro-batch-size 8 --dim sequence=128 --out runs/bert\n  placer import web_model/model.json --micro-batch-size 64 --out runs/keras')
    .action((model: string, options: ModelOptions & { out: string }) => {
      const result = importModel(model, { microBatchSize: options.microBatchSize, dims: dimBindings(options.dim), maxLayers: options.maxLayers });
      const files = writeImport(options.out, result);
      const r = result.report;
      process.stdout.write(
        `${r.model} (${r.format}): ${r.operators} operators → ${r.layers} layers, ${r.parameters} parameters (${r.paramBytes} bytes), ` +
          `${r.unsupported.length} unsupported operator(s)\nwrote ${files.layers} and ${files.report}\n`,
      );
    });
}
