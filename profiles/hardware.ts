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

/** The catalogue, cheapest unit first. */
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
