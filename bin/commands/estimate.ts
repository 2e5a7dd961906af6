import { join } from 'node:path';
import { Command, Option } from 'commander';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { resolveCatalogue } from '../../profiles/estimate/catalogue-path.js';
import { devicesCsv, estimateProfile, profileCsv, readCatalogue, readLayerWork, type Precision } from '../../profiles/estimate/roofline.js';

export function register(program: Command): void {
  program
    .command('estimate')
    .description('estimate DIR/profile.csv (forward/backward ms of every layer on every type) from a roofline per type')
    .requiredOption('--layers <file>', 'layers.csv written by "placer import" (needs its flops and bytes_touched columns)')
    .option('--catalogue <file>', 'devices.csv with optional roofline columns, or "cloud" for the bundled catalogue', 'cloud')
    .addOption(new Option('--precision <p>', 'fp32: peak_flops_fp32 (TF32 where TensorFlow uses it); bf16: mixed precision, peak_flops_bf16').choices(['fp32', 'bf16']).default('fp32'))
    .option('--out <dir>', 'where profile.csv, devices.csv and estimate-report.json go', 'runs/estimate')
    .addHelpText('after', '\nExample:\n  placer import model.onnx --micro-batch-size 32 --out runs/m && placer estimate --layers runs/m/layers.csv --catalogue cloud --out runs/m')
    .action((options: { layers: string; catalogue: string; precision: Precision; out: string }) => {
      const catalogue = readCatalogue(resolveCatalogue(options.catalogue));
      const layers = readLayerWork(options.layers);
      const estimate = estimateProfile(layers, catalogue, options.precision);
      writeFileAtomic(join(options.out, 'profile.csv'), profileCsv(layers, catalogue.types, estimate));
      writeFileAtomic(join(options.out, 'devices.csv'), devicesCsv(catalogue.types));
      writeJsonAtomic(join(options.out, 'estimate-report.json'), {
        layers: options.layers,
        catalogue: catalogue.file,
        precision: options.precision,
        rule: 'pass_ms = max(flops / (peak * compute_efficiency), bytes / (memory_bandwidth * memory_efficiency)) * 1000 + overhead_ms * kernels; backward = pass(2 flops, 2 bytes, 2 kernels)',
        types: catalogue.types.map((t, k) => ({ type: t.name, figures: catalogue.rooflines[k].from, cannotRun: [...catalogue.rooflines[k].cannotRun] })),
        excluded: estimate.excluded,
      });
      process.stdout.write(`${layers.length} layers × ${catalogue.types.length} types (${estimate.excluded.length} pairs cannot run)\nwrote ${join(options.out, 'profile.csv')} and ${join(options.out, 'devices.csv')}\n`);
    });
}
