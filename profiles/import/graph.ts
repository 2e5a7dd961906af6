/**
 * The model-neutral graph both importers produce, and the one rule that turns
 * it into placer's chain of layers (layers.csv rows).
 *
 * Rule (stated in the README, "Plan your own model"): operators are put in a
 * topological order (ties keep the file's order); a layer is one operator that
 * owns parameters plus the parameter-free operators that follow it in that
 * order, up to the next operator with parameters. Parameter-free operators
 * before the first one join the first layer. A graph with no parameters at all
 * gets one layer per operator.
 *
 * A row's activation_bytes is the bytes of every tensor that crosses a cut
 * placed right after it: produced at or before its last operator (or a graph
 * input) and read after it (or a graph output). That is what a pipeline hop
 * ships and what a stage stashes, so residuals, concatenations and attention
 * masks are counted. It is never less than the bytes of the row's last
 * operator's outputs.
 */
import { UserError } from '../../env/errors.js';

export type OpKind = 'gemm' | 'conv' | 'embedding' | 'memory' | 'shape';

export interface OpNode {
  name: string;
  opType: string;
  /** Activation tensors read (not weights or constants). */
  inputs: string[];
  outputs: string[];
  /** Trainable parameters this operator owns (a shared weight counts at its first user only). */
  params: number;
  paramBytes: number;
  /** Forward FLOPs for one micro-batch (multiply-add = 2). */
  flops: number;
  /** Bytes the forward pass reads and writes for one micro-batch (activations and weights). */
  bytesTouched: number;
  kind: OpKind;
}

export interface UnsupportedOp {
  name: string;
  opType: string;
  rule: string;
}

export interface ImportedGraph {
  format: 'onnx' | 'tfjs-layers';
  nodes: OpNode[];
  /** Bytes of each activation tensor for one micro-batch. */
  tensorBytes: Map<string, number>;
  inputs: string[];
  outputs: string[];
  unsupported: UnsupportedOp[];
  /** Things the user should know about how the numbers were made. */
  notes: string[];
  /** Parameters by dtype, for the report. */
  paramsByDtype: Record<string, number>;
}

export interface ChainRow {
  name: string;
  paramBytes: number;
  activationBytes: number;
  flops: number;
  bytesTouched: number;
  /** Operator types in order, joined by '+'. */
  ops: string[];
  kinds: OpKind[];
  opNames: string[];
  /** Bytes of the last operator's outputs (the floor of activationBytes). */
  lastOutputBytes: number;
}

/** Kahn's algorithm; among ready operators the one earliest in the file goes first. */
export function topologicalOrder(nodes: OpNode[]): OpNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => node.outputs.forEach((t) => producer.set(t, i)));
  const waiting = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    const preds = new Set<number>();
    for (const t of node.inputs) {
      const p = producer.get(t);
      if (p !== undefined && p !== i) preds.add(p);
    }
    waiting[i] = preds.size;
    for (const p of preds) consumers[p].push(i);
  });
  const ready = new MinHeap();
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  const order: OpNode[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(nodes[i]);
    for (const c of consumers[i]) if (--waiting[c] === 0) ready.push(c);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i] > 0)!;
    throw new UserError(`the graph has a cycle through operator "${stuck.name}" (${stuck.opType})`);
  }
  return order;
}

/** Groups the ordered operators into rows by the rule above and sizes each cut. */
export function toChain(graph: ImportedGraph): ChainRow[] {
  const order = topologicalOrder(graph.nodes);
  const n = order.length;
  if (n === 0) throw new UserError('the model has no operators');
  const position = new Map<string, number>(); // tensor -> producing position (-1: graph input)
  for (const t of graph.inputs) position.set(t, -1);
  order.forEach((node, i) => node.outputs.forEach((t) => position.set(t, i)));
  const lastUse = new Map<string, number>();
  order.forEach((node, i) => node.inputs.forEach((t) => lastUse.set(t, Math.max(lastUse.get(t) ?? -1, i))));
  for (const t of graph.outputs) lastUse.set(t, n);

  // live[p] = bytes of tensors produced at <= p and read after p.
  const delta = new Float64Array(n + 2);
  for (const [t, last] of lastUse) {
    const born = position.get(t);
    if (born === undefined || last <= born) continue;
    const bytes = graph.tensorBytes.get(t) ?? 0;
    delta[born + 1] += bytes; // live from cut after `born`
    delta[last + 1] -= bytes; // gone from cut after `last`
  }
  const live = new Float64Array(n);
  let running = delta[0];
  for (let p = 0; p < n; p++) {
    running += delta[p + 1];
    live[p] = running;
  }

  const anyParams = order.some((node) => node.params > 0);
  const starts: number[] = [];
  let segmentHasParams = false;
  order.forEach((node, i) => {
    if (i === 0 || !anyParams || (node.params > 0 && segmentHasParams)) {
      starts.push(i);
      segmentHasParams = false;
    }
    if (node.params > 0) segmentHasParams = true;
  });
  const rows: ChainRow[] = [];
  const used = new Map<string, number>();
  starts.forEach((start, r) => {
    const end = (starts[r + 1] ?? n) - 1;
    const members = order.slice(start, end + 1);
    const anchor = members.find((m) => m.params > 0) ?? members[0];
    const lastNode = members[members.length - 1];
    const lastOutputBytes = lastNode.outputs.reduce((s, t) => s + (graph.tensorBytes.get(t) ?? 0), 0);
    const cut = end === n - 1 ? 0 : live[end];
    rows.push({
      name: uniqueName(anchor.name || anchor.opType, used),
      paramBytes: sum(members.map((m) => m.paramBytes)),
      activationBytes: Math.max(cut, lastOutputBytes),
      flops: sum(members.map((m) => m.flops)),
      bytesTouched: sum(members.map((m) => m.bytesTouched)),
      ops: members.map((m) => m.opType),
      kinds: members.map((m) => m.kind),
      opNames: members.map((m) => m.name),
      lastOutputBytes,
    });
  });
  return rows;
}

/**
 * Merges neighbouring rows until at most `maxRows` remain, always the adjacent
 * pair with the smallest combined forward FLOPs, so the expensive layers stay
 * apart. The merged row's cut is the later row's cut, which is exact: the cut
 * after a merged row is the cut after its last member.
 */
export function coarsen(rows: ChainRow[], maxRows: number): ChainRow[] {
  const out = rows.map((r) => ({ ...r, ops: [...r.ops], kinds: [...r.kinds], opNames: [...r.opNames] }));
  while (out.length > Math.max(1, maxRows)) {
    let best = 0;
    let bestCost = Infinity;
    for (let i = 0; i + 1 < out.length; i++) {
      const cost = out[i].flops + out[i + 1].flops + 1e-3 * (out[i].bytesTouched + out[i + 1].bytesTouched);
      if (cost < bestCost) {
        bestCost = cost;
        best = i;
      }
    }
    const a = out[best];
    const b = out[best + 1];
    out.splice(best, 2, {
      name: a.paramBytes >= b.paramBytes ? a.name : b.name,
      paramBytes: a.paramBytes + b.paramBytes,
      activationBytes: b.activationBytes,
      flops: a.flops + b.flops,
      bytesTouched: a.bytesTouched + b.bytesTouched,
      ops: [...a.ops, ...b.ops],
      kinds: [...a.kinds, ...b.kinds],
      opNames: [...a.opNames, ...b.opNames],
      lastOutputBytes: b.lastOutputBytes,
    });
  }
  return out;
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

/** Layer names must be unique in layers.csv: a repeat gets `#2`, `#3`, ... */
function uniqueName(name: string, used: Map<string, number>): string {
  const clean = name.replace(/[\r\n]+/g, ' ').trim() || 'op';
  const seen = used.get(clean) ?? 0;
  used.set(clean, seen + 1);
  return seen === 0 ? clean : `${clean}#${seen + 1}`;
}

class MinHeap {
  private items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(x: number): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
