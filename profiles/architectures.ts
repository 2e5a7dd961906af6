/**
 * Architecture descriptions of the bundled models, turned into layer chains.
 *
 * Every number comes from the shapes: parameters, output elements and FLOPs
 * per sample. A layer's "output" is everything that must cross a pipeline cut
 * placed right after it: its own output plus what later layers still need
 * (the residual input of a block, the sparse indices of a CTR sample). That is
 * what the simulator ships over a link and what a stage stashes per
 * micro-batch, so counting only the layer's own tensor would undercount both.
 */
import type { LayerKind, LayerWork } from './hardware.js';

const F32 = 4;

export interface LayerSpec {
  name: string;
  kind: LayerKind;
  params: number;
  /** Elements that cross a cut after this layer, per sample. */
  outputPerSample: number;
  /** Forward FLOPs per sample (a multiply-add counts 2). */
  flopsPerSample: number;
  /** Activation elements read + written by the forward pass, per sample. */
  trafficPerSample: number;
}

export interface ModelSpec {
  name: string;
  description: string;
  /** Samples in one micro-batch. */
  microBatch: number;
  /** What a sample is (an image, a sequence of 128 tokens…). */
  sample: string;
  layers: LayerSpec[];
}

export interface DerivedLayer {
  name: string;
  paramBytes: number;
  activationBytes: number;
  work: LayerWork;
}

/** Bytes and FLOPs of one micro-batch. Backward ≈ 2× forward (input and weight gradients). */
export function deriveLayer(spec: LayerSpec, microBatch: number): DerivedLayer {
  const activationTraffic = spec.trafficPerSample * microBatch * F32;
  const forwardFlops = spec.flopsPerSample * microBatch;
  // A dense layer streams all its weights once per pass; a lookup touches only the rows it gathers.
  const weightTraffic = spec.kind === 'embedding' ? 0 : spec.params * F32;
  const forwardBytes = weightTraffic + activationTraffic;
  // Embedding backward is a sparse scatter-add of the gathered rows' gradients.
  const backwardBytes = spec.kind === 'embedding' ? 2 * activationTraffic : 2 * weightTraffic + 2 * activationTraffic;
  return {
    name: spec.name,
    paramBytes: spec.params * F32,
    activationBytes: spec.outputPerSample * microBatch * F32,
    work: { kind: spec.kind, forwardFlops, forwardBytes, backwardFlops: 2 * forwardFlops, backwardBytes },
  };
}

// ---------------------------------------------------------------- CNNs

interface Tensor {
  h: number;
  w: number;
  c: number;
}
const elements = (t: Tensor) => t.h * t.w * t.c;

/** Conv + BN + ReLU (BN/ReLU fused into the layer): `carry` elements ride along for a later residual add. */
function conv(
  name: string,
  input: Tensor,
  k: number,
  cout: number,
  stride: number,
  options: { bn?: boolean; carry?: number; residual?: boolean } = {},
): { spec: LayerSpec; out: Tensor } {
  const out: Tensor = { h: Math.ceil(input.h / stride), w: Math.ceil(input.w / stride), c: cout };
  const bn = options.bn ?? true;
  const carry = options.carry ?? 0;
  const params = k * k * input.c * cout + (bn ? 2 * cout : cout); // BN: gamma and beta; no BN: bias
  const flops = 2 * elements(out) * k * k * input.c;
  // conv writes y; BN reads y, writes it; ReLU in place; a residual add reads the shortcut once more.
  const traffic = elements(input) + elements(out) * (bn ? 3 : 2) + (options.residual ? 2 * elements(out) : 0);
  return { spec: { name, kind: 'conv', params, outputPerSample: elements(out) + carry, flopsPerSample: flops, trafficPerSample: traffic }, out };
}

function pool(name: string, input: Tensor, k: number, stride: number, carry = 0): { spec: LayerSpec; out: Tensor } {
  const out: Tensor = { h: Math.ceil(input.h / stride), w: Math.ceil(input.w / stride), c: input.c };
  return {
    spec: { name, kind: 'memory', params: 0, outputPerSample: elements(out) + carry, flopsPerSample: elements(out) * k * k, trafficPerSample: elements(input) + elements(out) },
    out,
  };
}

function dense(name: string, inputs: number, outputs: number, carry = 0, extraTraffic = 0): LayerSpec {
  return {
    name,
    kind: 'dense',
    params: inputs * outputs + outputs,
    outputPerSample: outputs + carry,
    flopsPerSample: 2 * inputs * outputs,
    trafficPerSample: inputs + outputs + extraTraffic,
  };
}

/** ResNet-50 v1.5 on 224×224 images, one layer per conv (+BN+ReLU), residual add fused into the block's last conv. */
export function resnet50(): ModelSpec {
  const layers: LayerSpec[] = [];
  let x: Tensor = { h: 224, w: 224, c: 3 };
  let step = conv('conv1', x, 7, 64, 2);
  layers.push(step.spec);
  step = pool('maxpool', step.out, 3, 2);
  layers.push(step.spec);
  x = step.out;
  const stages: [number, number, number][] = [
    [64, 256, 3],
    [128, 512, 4],
    [256, 1024, 6],
    [512, 2048, 3],
  ];
  stages.forEach(([width, outC, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      const prefix = `res${s + 2}${String.fromCharCode(97 + b)}`; // res2a, res2b, … as in the paper
      const stride = b === 0 && s > 0 ? 2 : 1;
      const shortcut = elements(x);
      const a = conv(`${prefix}-1x1a`, x, 1, width, 1, { carry: shortcut });
      const m = conv(`${prefix}-3x3`, a.out, 3, width, stride, { carry: shortcut });
      layers.push(a.spec, m.spec);
      if (b === 0) {
        // Projection shortcut: after it the block input is no longer needed but the 3x3 output still is.
        const proj = conv(`${prefix}-proj`, x, 1, outC, stride, { carry: elements(m.out) });
        layers.push(proj.spec);
      }
      const c = conv(`${prefix}-1x1b`, m.out, 1, outC, 1, { residual: true });
      layers.push(c.spec);
      x = c.out;
    }
  });
  const avg = pool('avgpool', x, 7, 7);
  layers.push(avg.spec);
  layers.push(dense('fc1000', 2048, 1000, 0, 2 * 1000)); // + softmax cross-entropy
  return {
    name: 'resnet50',
    description: 'ResNet-50 v1.5 (ImageNet 224×224), conv-level layers with BN/ReLU fused, micro-batch of 32 images',
    microBatch: 32,
    sample: 'a 224×224×3 image',
    layers,
  };
}

/** VGG-16 (configuration D) on 224×224 images: 13 convs, 5 max-pools, 3 fully connected. */
export function vgg16(): ModelSpec {
  const layers: LayerSpec[] = [];
  let x: Tensor = { h: 224, w: 224, c: 3 };
  const blocks: [number, number][] = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  blocks.forEach(([c, n], b) => {
    for (let i = 0; i < n; i++) {
      const step = conv(`conv${b + 1}_${i + 1}`, x, 3, c, 1, { bn: false });
      layers.push(step.spec);
      x = step.out;
    }
    const p = pool(`pool${b + 1}`, x, 2, 2);
    layers.push(p.spec);
    x = p.out;
  });
  layers.push(dense('fc6', elements(x), 4096, 0, 4096));
  layers.push(dense('fc7', 4096, 4096, 0, 4096));
  layers.push(dense('fc8', 4096, 1000, 0, 2 * 1000));
  return {
    name: 'vgg16',
    description: 'VGG-16 (configuration D, ImageNet 224×224), 13 convs + 5 pools + 3 FC, micro-batch of 32 images',
    microBatch: 32,
    sample: 'a 224×224×3 image',
    layers,
  };
}

// ---------------------------------------------------------------- transformers

/** BERT-base pre-training (MLM) at sequence length 128. */
export function bertBase(): ModelSpec {
  const S = 128;
  const H = 768;
  const heads = 12;
  const FF = 3072;
  const V = 30522;
  const layers: LayerSpec[] = [];
  // Word + position + token-type gathers, summed, then LayerNorm.
  layers.push({
    name: 'embeddings',
    kind: 'embedding',
    params: (V + 512 + 2) * H + 2 * H,
    outputPerSample: S * H,
    flopsPerSample: S * H * 10,
    trafficPerSample: S * H * 6,
  });
  for (let i = 0; i < 12; i++) {
    const p = `enc${i}`;
    // QKV projections + scores + softmax + context; the block input rides along for the residual.
    layers.push({
      name: `${p}-attention`,
      kind: 'attention',
      params: 3 * (H * H + H),
      outputPerSample: S * 2 * H,
      flopsPerSample: S * (2 * H * 3 * H + 2 * S * H + 2 * S * H),
      trafficPerSample: S * (H + 6 * H + 4 * heads * S + 2 * H),
    });
    layers.push({
      name: `${p}-attention-output`,
      kind: 'dense',
      params: H * H + H + 2 * H,
      outputPerSample: S * H,
      flopsPerSample: S * 2 * H * H,
      trafficPerSample: S * (2 * H + H + 3 * H),
    });
    layers.push({
      name: `${p}-ffn-up`,
      kind: 'dense',
      params: H * FF + FF,
      outputPerSample: S * (FF + H),
      flopsPerSample: S * 2 * H * FF,
      trafficPerSample: S * (H + FF + 2 * FF),
    });
    layers.push({
      name: `${p}-ffn-down`,
      kind: 'dense',
      params: FF * H + H + 2 * H,
      outputPerSample: S * H,
      flopsPerSample: S * 2 * FF * H,
      trafficPerSample: S * (FF + H + H + 3 * H),
    });
  }
  layers.push({
    name: 'mlm-transform',
    kind: 'dense',
    params: H * H + H + 2 * H,
    outputPerSample: S * H,
    flopsPerSample: S * 2 * H * H,
    trafficPerSample: S * 6 * H,
  });
  // Tied to the word embeddings in BERT; a pipeline keeps its own copy (as Megatron does), so counted again.
  layers.push({
    name: 'mlm-decoder',
    kind: 'dense',
    params: H * V + V,
    outputPerSample: S * V,
    flopsPerSample: S * 2 * H * V,
    trafficPerSample: S * (H + 3 * V),
  });
  return {
    name: 'bert-base',
    description: 'BERT-base MLM pre-training, sequence length 128, micro-batch of 32 sequences (4096 tokens)',
    microBatch: 32,
    sample: 'a sequence of 128 tokens',
    layers,
  };
}

/** GPT-2 medium (355M) language-model training at context 1024, five sub-layers per block. */
export function gpt2Medium(): ModelSpec {
  const S = 1024;
  const H = 1024;
  const heads = 16;
  const V = 50257;
  const layers: LayerSpec[] = [];
  layers.push({
    name: 'wte-wpe',
    kind: 'embedding',
    params: V * H + S * H,
    outputPerSample: S * H,
    flopsPerSample: S * H,
    trafficPerSample: S * 3 * H,
  });
  for (let i = 0; i < 24; i++) {
    const p = `h${i}`;
    layers.push({
      name: `${p}-ln1-qkv`,
      kind: 'dense',
      params: 2 * H + H * 3 * H + 3 * H,
      outputPerSample: S * (3 * H + H),
      flopsPerSample: S * 2 * H * 3 * H,
      trafficPerSample: S * (H + 2 * H + 3 * H),
    });
    // Causal scores, softmax and context (computed in full and masked, as GPT-2's reference code does).
    layers.push({
      name: `${p}-attn`,
      kind: 'attention',
      params: 0,
      outputPerSample: S * 2 * H,
      flopsPerSample: S * (2 * S * H + 2 * S * H),
      trafficPerSample: S * (3 * H + 4 * heads * S + H),
    });
    layers.push({
      name: `${p}-attn-proj`,
      kind: 'dense',
      params: H * H + H,
      outputPerSample: S * H,
      flopsPerSample: S * 2 * H * H,
      trafficPerSample: S * (2 * H + 2 * H),
    });
    layers.push({
      name: `${p}-ln2-fc`,
      kind: 'dense',
      params: 2 * H + H * 4 * H + 4 * H,
      outputPerSample: S * (4 * H + H),
      flopsPerSample: S * 2 * H * 4 * H,
      trafficPerSample: S * (H + 2 * H + 4 * H + 8 * H),
    });
    layers.push({
      name: `${p}-fc-proj`,
      kind: 'dense',
      params: 4 * H * H + H,
      outputPerSample: S * H,
      flopsPerSample: S * 2 * 4 * H * H,
      trafficPerSample: S * (5 * H + 2 * H),
    });
  }
  layers.push({
    name: 'ln-f',
    kind: 'memory',
    params: 2 * H,
    outputPerSample: S * H,
    flopsPerSample: S * H * 8,
    trafficPerSample: S * 3 * H,
  });
  // Tied to wte in GPT-2; the pipeline stage holding the head keeps its own copy.
  layers.push({
    name: 'lm-head',
    kind: 'dense',
    params: H * V,
    outputPerSample: S * V,
    flopsPerSample: S * 2 * H * V,
    trafficPerSample: S * (H + 3 * V),
  });
  return {
    name: 'gpt2-medium',
    description: 'GPT-2 medium (24 blocks, d=1024) LM training at context 1024, 5 sub-layers per block, micro-batch of 2 sequences',
    microBatch: 2,
    sample: 'a sequence of 1024 tokens',
    layers,
  };
}

// ---------------------------------------------------------------- CTR

/** Criteo Kaggle categorical cardinalities, as in DLRM's bench/dlrm_s_criteo_kaggle.sh. */
export const CRITEO_KAGGLE_ROWS = [
  1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4,
  7046547, 18, 15, 286181, 105, 142572,
];

/**
 * DLRM-style CTR model: bottom MLP 13-512-256-64 on dense features, 26
 * embedding tables of dimension 64 (Criteo Kaggle cardinalities), pairwise
 * dot interaction, top MLP 512-512-256-1. The four tables over 5M rows are one
 * layer (7.9 GB), the other 22 another: the big one fits no 16 GB card.
 */
export function ctr(): ModelSpec {
  const D = 64;
  const TABLES = CRITEO_KAGGLE_ROWS.length;
  const sorted = [...CRITEO_KAGGLE_ROWS].sort((a, b) => b - a);
  const large = sorted.slice(0, 4);
  const small = sorted.slice(4);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // Sparse indices (26 per sample) travel with the dense path until their lookup.
  const layers: LayerSpec[] = [
    dense('bottom-fc1', 13, 512, TABLES),
    dense('bottom-fc2', 512, 256, TABLES),
    dense('bottom-fc3', 256, D, TABLES),
    {
      name: 'embedding-large',
      kind: 'embedding',
      params: sum(large) * D,
      outputPerSample: D + large.length * D + small.length,
      flopsPerSample: 0,
      trafficPerSample: 2 * large.length * D + 2 * (D + TABLES),
    },
    {
      name: 'embedding-small',
      kind: 'embedding',
      params: sum(small) * D,
      outputPerSample: D + TABLES * D,
      flopsPerSample: 0,
      trafficPerSample: 2 * small.length * D + 2 * (D + large.length * D),
    },
  ];
  const vectors = TABLES + 1;
  const pairs = (vectors * (vectors - 1)) / 2;
  layers.push({
    name: 'interaction',
    kind: 'memory',
    params: 0,
    outputPerSample: pairs + D,
    flopsPerSample: 2 * vectors * vectors * D,
    trafficPerSample: vectors * D + vectors * vectors + pairs + D,
  });
  layers.push(dense('top-fc1', pairs + D, 512));
  layers.push(dense('top-fc2', 512, 512));
  layers.push(dense('top-fc3', 512, 256));
  layers.push(dense('top-fc4', 256, 1, 0, 4)); // + sigmoid and binary cross-entropy
  return {
    name: 'ctr',
    description: 'DLRM-style CTR model (Criteo Kaggle tables, dim 64, 8.6 GB of embeddings), micro-batch of 2048 samples',
    microBatch: 2048,
    sample: 'one click log record (13 dense + 26 categorical features)',
    layers,
  };
}

export const MODELS: Record<string, () => ModelSpec> = {
  ctr,
  resnet50,
  'bert-base': bertBase,
  vgg16,
  'gpt2-medium': gpt2Medium,
};
