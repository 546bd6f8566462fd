/**
 * The DeepSource network (paper, section 4.3 and Fig. 8), as plain data: layer shapes, parameter
 * names and initial weights. No TF.js here, so the registry, the ONNX export and the runtimes can
 * share it; the TF.js forward pass is in tf-network.ts.
 *
 * Architecture: five 5×5 convolutions with 'same' padding and no pooling, so any image size works
 * and the output has the input's size.
 *
 *     conv1 (1→12, ReLU) → conv2 (12→12, ReLU) → conv3 (12→12, ReLU)
 *     → add conv1's output (the shortcut) → batch normalisation (per-channel scale and shift)
 *     → conv4 (12→12, ReLU) → conv5 (12→1, linear)
 *
 * How the authors' TF1 code really does it (issue 3): its batch normalisation always runs in
 * inference mode, so it is a learned per-channel affine map y = scale·x + shift (moving statistics
 * stay at their initial mean 0 / variance 1), and its dropout is never applied. We do the same: the
 * BN layer here *is* a learned scale and shift, and there is no dropout. The last layer is linear
 * (no ReLU), so the output can follow the demand map down to 0 and gradients never die at the end.
 *
 * Weight layout follows TF.js: conv kernels are HWIO [5, 5, in, out], biases [out].
 */
import { Random } from '../core/random';

export const KERNEL_SIZE = 5;
export const FILTERS = 12;

export interface ConvSpec {
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly relu: boolean;
}

export const CONV_LAYERS: readonly ConvSpec[] = Object.freeze([
  { name: 'conv1', inChannels: 1, outChannels: FILTERS, relu: true },
  { name: 'conv2', inChannels: FILTERS, outChannels: FILTERS, relu: true },
  { name: 'conv3', inChannels: FILTERS, outChannels: FILTERS, relu: true },
  { name: 'conv4', inChannels: FILTERS, outChannels: FILTERS, relu: true },
  { name: 'conv5', inChannels: FILTERS, outChannels: 1, relu: false },
]);

/** Half-width of the receptive field: 5 layers × 2 px. Tiles need at least this much overlap. */
export const RECEPTIVE_RADIUS = CONV_LAYERS.length * ((KERNEL_SIZE - 1) / 2);

/** Every parameter tensor, in the fixed order used by weights.bin and the optimiser. */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export const PARAMETERS: readonly ParameterSpec[] = Object.freeze([
  ...CONV_LAYERS.slice(0, 3).flatMap(convParams),
  { name: 'bn.scale', shape: [FILTERS] },
  { name: 'bn.shift', shape: [FILTERS] },
  ...CONV_LAYERS.slice(3).flatMap(convParams),
]);

function convParams(layer: ConvSpec): ParameterSpec[] {
  return [
    { name: `${layer.name}.w`, shape: [KERNEL_SIZE, KERNEL_SIZE, layer.inChannels, layer.outChannels] },
    { name: `${layer.name}.b`, shape: [layer.outChannels] },
  ];
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const PARAMETER_COUNT = PARAMETERS.reduce((n, p) => n + sizeOf(p.shape), 0);

/**
 * Floating-point operations per output pixel of one forward pass, counting a multiply-add as 2:
 * the convolutions (2·25·in·out each) plus bias, ReLU, shortcut add and scale/shift (small).
 * Benchmarks report effective GFLOP/s = pixels × FLOPS_PER_PIXEL / seconds.
 */
export const FLOPS_PER_PIXEL = CONV_LAYERS.reduce((n, l) => n + 2 * KERNEL_SIZE * KERNEL_SIZE * l.inChannels * l.outChannels, 0);

/** Named parameter values (plain Float32Arrays, layout as in PARAMETERS). */
export type NetworkWeights = Map<string, Float32Array>;

/**
 * Initial weights, deterministic for a seed: He-normal kernels (std sqrt(2 / fan_in)) for the ReLU
 * layers, zero biases, BN scale 1 and shift 0. The linear last layer starts 100× smaller than
 * Glorot scale: demand maps are ~0.01–0.5 where the input is O(1) in noise units, so a full-scale
 * last layer spends the first hundred steps only shrinking its output (and kills ReLUs doing so).
 */
const LAST_LAYER_INIT_SCALE = 0.01;

export function initialWeights(seed: number): NetworkWeights {
  const rng = new Random(seed);
  const weights: NetworkWeights = new Map();
  for (const p of PARAMETERS) {
    const data = new Float32Array(sizeOf(p.shape));
    if (p.name.endsWith('.w')) {
      const [kh, kw, cin, cout] = p.shape;
      const fanIn = kh * kw * cin;
      const std = p.name === 'conv5.w' ? LAST_LAYER_INIT_SCALE * Math.sqrt(2 / (fanIn + kh * kw * cout)) : Math.sqrt(2 / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = std * rng.gaussian();
    } else if (p.name === 'bn.scale') {
      data.fill(1);
    }
    weights.set(p.name, data);
  }
  return weights;
}

/** Checks that `weights` has every parameter with the right size; returns a description of the first problem. */
export function checkWeights(weights: NetworkWeights): string | null {
  for (const p of PARAMETERS) {
    const w = weights.get(p.name);
    if (!w) return `missing parameter ${p.name}`;
    if (w.length !== sizeOf(p.shape)) return `parameter ${p.name} has ${w.length} values, expected ${sizeOf(p.shape)} (shape [${p.shape.join(', ')}])`;
    for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i])) return `parameter ${p.name} has a non-finite value at index ${i}`;
  }
  return null;
}
