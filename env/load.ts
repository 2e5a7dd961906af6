import { numberCell, readCsv, textCell } from './csv.js';
import { inputError, UserError } from './errors.js';
import { BACKEND_NAMES } from './backend-names.js';
import { readJsonFile } from './json-file.js';
import { LIMITS, type DeviceType, type Layer, type Placement, type Problem } from './problem.js';

export interface ProblemFiles {
  layers: string;
  devices: string;
  profile: string;
}

export function loadLayers(file: string): Layer[] {
  const table = readCsv(file, ['name', 'param_bytes', 'activation_bytes']);
  const seen = new Map<string, number>();
  return table.rows.map((row) => {
    const name = textCell(table, row, 'name');
    const earlier = seen.get(name);
    if (earlier !== undefined) throw inputError(file, row.row, 'name', `duplicate layer "${name}" (first on row ${earlier})`);
    seen.set(name, row.row);
    return {
      name,
      paramBytes: numberCell(table, row, 'param_bytes', 'nonNegative', { max: LIMITS.bytes }),
      activationBytes: numberCell(table, row, 'activation_bytes', 'nonNegative', { max: LIMITS.bytes }),
    };
  });
}

export function loadDevices(file: string): DeviceType[] {
  return loadDevicesWithRows(file).types;
}

/** The types of devices.csv and the row each came from (for errors found later, such as a missing backend package). */
export function loadDevicesWithRows(file: string): { types: DeviceType[]; rows: number[] } {
  const table = readCsv(file, ['type', 'price_per_hour', 'count', 'memory_bytes', 'bandwidth_bytes_per_s']);
  const seen = new Map<string, number>();
  const types = table.rows.map((row) => {
    const name = textCell(table, row, 'type');
    const earlier = seen.get(name);
    if (earlier !== undefined) throw inputError(file, row.row, 'type', `duplicate type "${name}" (first on row ${earlier})`);
    seen.set(name, row.row);
    const device: DeviceType = {
      name,
      pricePerHour: numberCell(table, row, 'price_per_hour', 'nonNegative', { max: LIMITS.pricePerHour }),
      count: numberCell(table, row, 'count', 'count', { max: LIMITS.count }),
      memoryBytes: numberCell(table, row, 'memory_bytes', 'positive', { max: LIMITS.bytes }),
      bandwidthBytesPerS: numberCell(table, row, 'bandwidth_bytes_per_s', 'positive', { min: LIMITS.minBandwidth, max: LIMITS.maxBandwidth }),
    };
    const backend = row.get('backend');
    if (backend) {
      if (!BACKEND_NAMES.includes(backend)) throw inputError(file, row.row, 'backend', `unknown backend "${backend}" (known: ${BACKEND_NAMES.join(', ')})`);
      device.backend = backend;
    }
    return device;
  });
  return { types, rows: table.rows.map((row) => row.row) };
}

/** Reads profile.csv against known layers and types; missing pairs stay NaN (cannot run). */
export function loadProfile(file: string, layers: Layer[], types: DeviceType[]): Pick<Problem, 'forwardMs' | 'backwardMs'> {
  const table = readCsv(file, ['layer', 'type', 'forward_ms', 'backward_ms']);
  const layerIndex = new Map(layers.map((layer, i) => [layer.name, i] as const));
  const typeIndex = new Map(types.map((type, i) => [type.name, i] as const));
  const forwardMs = new Float64Array(layers.length * types.length).fill(NaN);
  const backwardMs = new Float64Array(layers.length * types.length).fill(NaN);
  const rowOf = new Map<number, number>();
  for (const row of table.rows) {
    const layerName = textCell(table, row, 'layer');
    const typeName = textCell(table, row, 'type');
    const layer = layerIndex.get(layerName);
    if (layer === undefined) throw inputError(file, row.row, 'layer', `unknown layer "${layerName}" (not in layers.csv)`);
    const type = typeIndex.get(typeName);
    if (type === undefined) throw inputError(file, row.row, 'type', `unknown type "${typeName}" (not in devices.csv)`);
    const cell = layer * types.length + type;
    const earlier = rowOf.get(cell);
    if (earlier !== undefined) {
      throw inputError(file, row.row, 'layer', `duplicate row for layer "${layerName}" on type "${typeName}" (first on row ${earlier})`);
    }
    rowOf.set(cell, row.row);
    forwardMs[cell] = numberCell(table, row, 'forward_ms', 'nonNegative', { max: LIMITS.ms });
    backwardMs[cell] = numberCell(table, row, 'backward_ms', 'nonNegative', { max: LIMITS.ms });
  }
  return { forwardMs, backwardMs };
}

export function loadProblem(files: ProblemFiles): Problem {
  const layers = loadLayers(files.layers);
  const types = loadDevices(files.devices);
  const { forwardMs, backwardMs } = loadProfile(files.profile, layers, types);
  layers.forEach((layer, l) => {
    let runnable = false;
    for (let k = 0; k < types.length; k++) runnable ||= !Number.isNaN(forwardMs[l * types.length + k]);
    if (!runnable) {
      throw inputError(files.profile, undefined, 'layer', `layer "${layer.name}" (row ${l + 2} of ${files.layers}) has no row: no type can run it`);
    }
  });
  return { layers, types, forwardMs, backwardMs };
}

/** `--assignment t1,t2,…`: one type name per layer. */
export function parseAssignment(text: string, problem: Problem): number[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.length !== problem.layers.length) {
    throw new UserError(`--assignment: expected ${problem.layers.length} types (one per layer), got ${names.length}`);
  }
  const typeIndex = new Map(problem.types.map((type, i) => [type.name, i] as const));
  return names.map((name, i) => {
    const type = typeIndex.get(name);
    if (type === undefined) {
      throw new UserError(
        `--assignment: item ${i + 1} (layer "${problem.layers[i].name}"): unknown type "${name}" (types: ${problem.types.map((t) => t.name).join(', ')})`,
      );
    }
    return type;
  });
}

/** Reads the `stages` of a placement.json (type, replicas, firstLayer, lastLayer). */
export function loadPlacement(file: string, problem: Problem): Placement {
  const json = readJsonFile(file, 'a placement.json');
  const stages = (json as { stages?: unknown })?.stages;
  if (!Array.isArray(stages) || stages.length === 0) throw new UserError(`${file}: expected a non-empty "stages" list`);
  return placementFromStageList(file, stages, problem);
}

export function placementFromStageList(file: string, stages: unknown[], problem: Problem): Placement {
  const typeIndex = new Map(problem.types.map((type, i) => [type.name, i] as const));
  const layerIndex = new Map(problem.layers.map((layer, i) => [layer.name, i] as const));
  let next = 0;
  const placement = stages.map((raw, s) => {
    const where = `${file}: stages[${s}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${where}: expected an object with type, replicas, firstLayer, lastLayer`);
    const stage = raw as Record<string, unknown>;
    const type = typeIndex.get(String(stage.type));
    if (type === undefined) throw new UserError(`${where}.type: unknown type "${String(stage.type)}"`);
    const replicas = stage.replicas === undefined ? 1 : stage.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1) {
      throw new UserError(`${where}.replicas: expected a whole number >= 1, got ${JSON.stringify(stage.replicas)}`);
    }
    if (replicas > LIMITS.replicas) throw new UserError(`${where}.replicas: expected at most ${LIMITS.replicas}, got ${JSON.stringify(stage.replicas)}`);
    const first = layerIndex.get(String(stage.firstLayer));
    if (first === undefined) throw new UserError(`${where}.firstLayer: unknown layer "${String(stage.firstLayer)}"`);
    const last = layerIndex.get(String(stage.lastLayer));
    if (last === undefined) throw new UserError(`${where}.lastLayer: unknown layer "${String(stage.lastLayer)}"`);
    if (first !== next) {
      const expected = problem.layers[next]?.name ?? '(none: all layers are covered)';
      throw new UserError(`${where}.firstLayer: stages must cover the layers in order; expected "${expected}", got "${String(stage.firstLayer)}"`);
    }
    if (last < first) throw new UserError(`${where}.lastLayer: "${String(stage.lastLayer)}" comes before firstLayer "${String(stage.firstLayer)}"`);
    next = last + 1;
    return { type, replicas, first, last };
  });
  if (next !== problem.layers.length) {
    throw new UserError(`${file}: stages end at layer "${problem.layers[next - 1].name}"; layers from "${problem.layers[next].name}" on are not covered`);
  }
  return placement;
}
