/** Human-readable output: the stage table with the bottleneck marked, and the totals. */
import type { Evaluation } from '../env/simulate.js';

const GiB = 1024 ** 3;

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows
    .map((row) => row.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

const ms = (x: number) => (x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

export function formatEvaluation(report: Evaluation, layerIndex: Map<string, number>): string {
  const rows = [['', 'stage', 'type', 'replicas', 'layers', 'fwd ms', 'bwd ms', 'allreduce ms', 'memory GiB', '$/h']];
  report.stages.forEach((stage, s) => {
    const first = layerIndex.get(stage.firstLayer)!;
    const last = layerIndex.get(stage.lastLayer)!;
    const marked = report.bottleneck.kind === 'stage' && report.bottleneck.index === s;
    rows.push([
      marked ? '*' : '',
      String(s + 1),
      stage.type,
      String(stage.replicas),
      `${stage.firstLayer}..${stage.lastLayer} (${last - first + 1})`,
      ms(stage.forwardMs),
      ms(stage.backwardMs),
      ms(stage.allReduceMs),
      `${(stage.memoryBytes / GiB).toFixed(2)}/${(stage.memoryCapacityBytes / GiB).toFixed(0)}`,
      stage.pricePerHour.toFixed(3),
    ]);
    if (s < report.linkMs.length) {
      const linkMarked = report.bottleneck.kind === 'link' && report.bottleneck.index === s;
      rows.push([linkMarked ? '*' : '', '', 'link', '', '', ms(report.linkMs[s]), ms(report.linkMs[s]), '', '', '']);
    }
  });
  const lines = [table(rows, [false, true, false, true, false, true, true, true, true, true])];
  lines.push('* bottleneck: the stage or link with the largest forward + backward time');
  const step = report.stepMs === null ? 'n/a (a layer is on a type that cannot run it)' : `${ms(report.stepMs)} ms`;
  const cost = report.costPerStep === null ? 'n/a' : `$${report.costPerStep.toPrecision(4)}`;
  const constraint =
    report.objective === 'time'
      ? `objective time, budget ${report.budget === null ? 'none' : `${report.budget} $/h`}`
      : `objective cost, deadline ${report.deadline === null ? 'none' : `${report.deadline} ms`}`;
  lines.push(`step ${step}   price ${report.pricePerHour.toFixed(3)} $/h   cost per step ${cost}   M = ${report.microBatches}   ${constraint}`);
  lines.push(report.feasible ? 'feasible' : `INFEASIBLE:\n${report.violations.map((v) => `  - ${v}`).join('\n')}`);
  return lines.join('\n');
}
