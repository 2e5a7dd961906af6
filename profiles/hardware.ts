/**
 * The cloud catalogue and the timing model every bundled profile is derived from.
 *
 * Vendor figures (peak rates, memory, memory bandwidth) come from the
 * datasheets cited in profiles/README.md; prices and network bandwidth from
 * the AWS EC2 instance that hosts the unit. The sustained-efficiency factors
 * and per-layer overheads are OUR ASSUMPTIONS (not measurements): they turn
 * peak rates into plausible sustained ones and are the knobs to recalibrate
 * once `placer profile` has real numbers.
 */
import type { DeviceType } from '../env/problem.js';

const GIB = 2 ** 30;
const GBIT = 1e9 / 8; // bytes per second in one Gbit/s

export interface Hardware {
  /** Type name in devices.csv. */
  type: string;
  /** What a unit is, for the README. */
  unit: string;
  /** The EC2 instance a unit is rented in, and how many units it holds. */
  instance: string;
  unitsPerInstance: number;
  /** On-demand $/h of the whole instance (us-east-1, Linux). */
  instancePricePerHour: number;
  count: number;
  memoryBytes: number;
  /** Instance network bandwidth (Gbit/s) shared by its units: what a pipeline hop between instances crosses. */
  instanceNetworkGbit: number;
  /** Peak FLOP/s of the precision TensorFlow/Neuron uses for fp32 training on this unit. */
  peakFlops: number;
  peakNote: string;
  /** Dense peak FLOP/s for bf16/fp16 mixed-precision training (tensor cores, AMX); equals peakFlops where there is none. */
  peakFlopsBf16: number;
  /** Where the specs and the price come from, and when they were checked. */
  source: string;
  /** Peak memory bandwidth, bytes/s. */
  memoryBandwidth: number;
  /** Assumed fraction of peakFlops sustained by conv/GEMM layers. */
  computeEfficiency: number;
  /** Assumed fraction of memory bandwidth sustained by memory-bound kernels. */
  memoryEfficiency: number;
  /** Assumed fixed cost per layer and pass (kernel launches / op dispatch), ms. */
  overheadMs: number;
  /** Layer kinds this unit cannot run (left out of profile.csv). */
  cannotRun: readonly LayerKind[];
  backend?: string;
}

export type LayerKind = 'conv' | 'dense' | 'attention' | 'embedding' | 'memory';

/**
 * The five types every bundled problem is built from (their optima are quoted
 * in results files, so these rows never change); the catalogue adds CURRENT_HARDWARE.
 */
export const HARDWARE: readonly Hardware[] = [
  {
    type: 'cpu',
    unit: 'm5.4xlarge VM (16 vCPU = 8 cores Xeon Platinum 8175M/8259CL, 64 GiB)',
    instance: 'm5.4xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 0.768,
    count: 12,
    memoryBytes: 64 * GIB,
    instanceNetworkGbit: 10,
    // 8 cores x 2 AVX-512 FMA units x 16 fp32 lanes x 2 FLOP x 2.5 GHz.
    peakFlops: 8 * 2 * 16 * 2 * 2.5e9,
    peakNote: 'FP32 AVX-512: 8 cores × 64 FLOP/cycle × 2.5 GHz',
    peakFlopsBf16: 8 * 2 * 16 * 2 * 2.5e9, // no bf16 units on Skylake/Cascade Lake
    source: 'Intel Xeon Platinum 8175M/8259CL specs; AWS EC2 on-demand price list, us-east-1 (2026-11-23, see profiles/README.md)',
    // A third of a socket's 6 x DDR4-2666 channels (128 GB/s): 8 of its 24 cores.
    memoryBandwidth: (6 * 2666e6 * 8) / 3,
    computeEfficiency: 0.35,
    memoryEfficiency: 0.6,
    overheadMs: 0.01,
    cannotRun: [],
    backend: 'tensorflow',
  },
  {
    type: 'gpu-t4',
    unit: 'NVIDIA T4 16 GB in a g4dn.xlarge',
    instance: 'g4dn.xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 0.526,
    count: 8,
    memoryBytes: 16 * GIB,
    instanceNetworkGbit: 25,
    peakFlops: 8.1e12,
    peakNote: 'FP32 8.1 TFLOPS (T4 datasheet)',
    peakFlopsBf16: 65e12, // FP16 tensor cores (T4 has no bf16)
    source: 'NVIDIA T4 datasheet; AWS EC2 on-demand price list, us-east-1 (2026-11-23)',
    memoryBandwidth: 320e9,
    // T4 is a 70 W part that drops its clocks under sustained load.
    computeEfficiency: 0.5,
    memoryEfficiency: 0.7,
    overheadMs: 0.02,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
  {
    type: 'gpu-v100',
    unit: 'NVIDIA V100 SXM2 16 GB in a p3.2xlarge',
    instance: 'p3.2xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 3.06,
    count: 4,
    memoryBytes: 16 * GIB,
    instanceNetworkGbit: 10,
    peakFlops: 15.7e12,
    peakNote: 'FP32 15.7 TFLOPS (V100 SXM2 datasheet)',
    peakFlopsBf16: 125e12, // FP16 tensor cores (V100 has no bf16)
    source: 'NVIDIA V100 datasheet (SXM2); AWS EC2 on-demand price list, us-east-1 (2026-11-23)',
    memoryBandwidth: 900e9,
    computeEfficiency: 0.65,
    memoryEfficiency: 0.75,
    overheadMs: 0.015,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
  {
    type: 'gpu-a100',
    unit: 'NVIDIA A100 SXM4 40 GB, one eighth of a p4d.24xlarge',
    instance: 'p4d.24xlarge',
    unitsPerInstance: 8,
    instancePricePerHour: 32.7726,
    count: 8,
    memoryBytes: 40 * GIB,
    instanceNetworkGbit: 400,
    // TensorFlow >= 2.4 runs fp32 matmuls/convs as TF32 on Ampere by default.
    peakFlops: 156e12,
    peakNote: 'TF32 tensor core 156 TFLOPS (A100 datasheet; TF default for fp32 on Ampere)',
    peakFlopsBf16: 312e12,
    source: 'NVIDIA A100 datasheet (SXM4 40 GB); AWS EC2 on-demand price list, us-east-1 (2026-11-23)',
    memoryBandwidth: 1555e9,
    // TF32 peak is rarely approached outside large GEMMs.
    computeEfficiency: 0.3,
    memoryEfficiency: 0.8,
    overheadMs: 0.015,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
  {
    type: 'accel',
    unit: 'AWS Trainium (trn1.2xlarge): a TPU-like matrix accelerator, 32 GiB HBM',
    instance: 'trn1.2xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 1.34375,
    count: 4,
    memoryBytes: 32 * GIB,
    instanceNetworkGbit: 12.5,
    // The Neuron compiler casts fp32 matmuls to bf16 by default (--auto-cast matmult).
    peakFlops: 190e12,
    peakNote: 'BF16/TF32 190 TFLOPS per chip (AWS Neuron "Trainium Architecture")',
    peakFlopsBf16: 190e12,
    source: 'AWS Neuron docs, "Trainium Architecture"; AWS EC2 on-demand price list, us-east-1 (2026-11-23)',
    memoryBandwidth: 820e9,
    // A systolic array fed by a whole-graph compiler: low utilisation off the big GEMMs.
    computeEfficiency: 0.2,
    memoryEfficiency: 0.6,
    overheadMs: 0.03,
    // Models an accelerator without an efficient gather/scatter path: sparse
    // embedding lookups stay on CPU/GPU (as on early TPU setups).
    cannotRun: ['embedding'],
  },
];

/**
 * Types users rent today, added to the cloud catalogue (profiles/catalogues/cloud.csv)
 * for `placer estimate` and `placer plan`. Same conventions as above: price per
 * unit = instance price / units; bandwidth = the unit's share of the instance
 * network; efficiencies and overheads are our assumptions.
 */
export const CURRENT_HARDWARE: readonly Hardware[] = [
  {
    type: 'cpu-m7i',
    unit: 'm7i.4xlarge VM (16 vCPU = 8 cores Xeon Platinum 8488C Sapphire Rapids, 64 GiB)',
    instance: 'm7i.4xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 0.8064,
    count: 12,
    memoryBytes: 64 * GIB,
    instanceNetworkGbit: 12.5,
    // 8 cores x 2 AVX-512 FMA units x 16 fp32 lanes x 2 FLOP x 2.4 GHz base.
    peakFlops: 8 * 2 * 16 * 2 * 2.4e9,
    peakNote: 'FP32 AVX-512: 8 cores × 64 FLOP/cycle × 2.4 GHz',
    // AMX: 1024 bf16 FLOP/cycle/core.
    peakFlopsBf16: 8 * 1024 * 2.4e9,
    source: 'Intel Xeon Platinum 8488C (2.4 GHz base, AMX); AWS EC2 M7i page; price: AWS on-demand list, us-east-1 (as of 2026-11-23, not re-checked live)',
    // 8/48 of a socket's 8 x DDR5-4800 channels (307 GB/s).
    memoryBandwidth: (8 * 4800e6 * 8) / 6,
    computeEfficiency: 0.35,
    memoryEfficiency: 0.6,
    overheadMs: 0.01,
    cannotRun: [],
    backend: 'tensorflow',
  },
  {
    type: 'gpu-l4',
    unit: 'NVIDIA L4 24 GB in a g6.xlarge',
    instance: 'g6.xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 0.8048,
    count: 8,
    memoryBytes: 24 * GIB,
    instanceNetworkGbit: 10,
    // TF32 tensor cores (dense; the datasheet's 120 TFLOPS counts sparsity).
    peakFlops: 60e12,
    peakNote: 'TF32 tensor core 60 TFLOPS dense (L4 datasheet: 120 with sparsity); FP32 30.3',
    peakFlopsBf16: 121e12,
    source: 'NVIDIA L4 Tensor Core GPU datasheet; AWS EC2 G6 page; price: AWS on-demand list, us-east-1 (as of 2026-11-23, not re-checked live)',
    memoryBandwidth: 300e9,
    // A 72 W part, like the T4: sustained clocks sit below boost.
    computeEfficiency: 0.3,
    memoryEfficiency: 0.7,
    overheadMs: 0.02,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
  {
    type: 'gpu-a10g',
    unit: 'NVIDIA A10G 24 GB in a g5.xlarge',
    instance: 'g5.xlarge',
    unitsPerInstance: 1,
    instancePricePerHour: 1.006,
    count: 8,
    memoryBytes: 24 * GIB,
    instanceNetworkGbit: 10,
    peakFlops: 62.5e12,
    peakNote: 'TF32 tensor core 62.5 TFLOPS dense (NVIDIA A10 datasheet; the A10G is AWS\'s A10 variant); FP32 31.2',
    peakFlopsBf16: 125e12,
    source: 'NVIDIA A10 datasheet; price: g5.xlarge $1.006/h us-east-1 (AWS list, quoted for June 2026 by factualminds.com)',
    memoryBandwidth: 600e9,
    computeEfficiency: 0.3,
    memoryEfficiency: 0.7,
    overheadMs: 0.02,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
  {
    type: 'gpu-h100',
    unit: 'NVIDIA H100 SXM 80 GB, one eighth of a p5.48xlarge',
    instance: 'p5.48xlarge',
    unitsPerInstance: 8,
    // After AWS's June 2025 cut of up to 45 % on P5 on-demand prices (was $98.32/h).
    instancePricePerHour: 55.04,
    count: 8,
    memoryBytes: 80 * GIB,
    instanceNetworkGbit: 3200,
    peakFlops: 494.7e12,
    peakNote: 'TF32 tensor core 494.7 TFLOPS dense (H100 SXM datasheet: 989 with sparsity); FP32 66.9',
    peakFlopsBf16: 989.4e12,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM5); AWS EC2 P5 page (3200 Gbit/s EFA); price after the June 2025 P5 cut (usage.ai, updated 2026-06-30)',
    memoryBandwidth: 3.35e12,
    computeEfficiency: 0.3,
    memoryEfficiency: 0.8,
    overheadMs: 0.01,
    cannotRun: [],
    backend: 'tensorflow-gpu',
  },
];

/** Every type of the cloud catalogue: the bundled problems' five, then the current ones. */
export const CATALOGUE_HARDWARE: readonly Hardware[] = [...HARDWARE, ...CURRENT_HARDWARE];

export function pricePerUnit(hw: Hardware): number {
  return hw.instancePricePerHour / hw.unitsPerInstance;
}

/**
 * Link bandwidth of one unit: its share of the instance's network. Every
 * change of type in a pipeline crosses instances, so the network is what
 * `min(bw)` sees there; all-reduce between replicas inside one p4d would use
 * NVLink instead, so the simulator is pessimistic for A100 replicas.
 */
export function bandwidthPerUnit(hw: Hardware): number {
  return (hw.instanceNetworkGbit * GBIT) / hw.unitsPerInstance;
}

export function deviceType(hw: Hardware, count = hw.count): DeviceType {
  const device: DeviceType = {
    name: hw.type,
    pricePerHour: pricePerUnit(hw),
    count,
    memoryBytes: hw.memoryBytes,
    bandwidthBytesPerS: bandwidthPerUnit(hw),
  };
  if (hw.backend) device.backend = hw.backend;
  return device;
}

/** Work of one layer for ONE micro-batch. */
export interface LayerWork {
  kind: LayerKind;
  forwardFlops: number;
  /** Bytes read and written by the forward pass (weights + activations). */
  forwardBytes: number;
  backwardFlops: number;
  backwardBytes: number;
}

/**
 * Roofline time of one pass: the larger of the compute time and the memory
 * time, plus a fixed per-layer overhead.
 */
export function passMs(hw: Hardware, flops: number, bytes: number): number {
  const computeS = flops / (hw.peakFlops * hw.computeEfficiency);
  const memoryS = bytes / (hw.memoryBandwidth * hw.memoryEfficiency);
  return Math.max(computeS, memoryS) * 1000 + hw.overheadMs;
}

/** forward/backward ms of a layer on a unit, or null when the unit cannot run it. */
export function layerTimes(hw: Hardware, work: LayerWork): { forwardMs: number; backwardMs: number } | null {
  if (hw.cannotRun.includes(work.kind)) return null;
  return {
    forwardMs: passMs(hw, work.forwardFlops, work.forwardBytes),
    backwardMs: passMs(hw, work.backwardFlops, work.backwardBytes),
  };
}
