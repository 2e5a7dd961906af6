/** Vega-Lite specs rendered to SVG in Node (vega's headless view; no browser, no hand-drawn SVG). */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../env/atomic-write.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeSvg(file: string, spec: TopLevelSpec): Promise<void> {
  writeFileAtomic(file, await renderSvg({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', ...spec } as TopLevelSpec));
}
