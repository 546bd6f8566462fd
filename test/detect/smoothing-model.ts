/**
 * Test stand-ins for a trained CNN.
 * - `boxSmoothRuntime`: a CnnRuntime in plain TS whose output is ReLU(5×5 box mean of the input):
 *   a matched filter that turns point sources into smooth bumps, like a trained DeepSource map.
 * - `saveSmoothingModel`: the same filter as real network weights (src/model), saved as a model
 *   directory with model.onnx, so tests can run the onnxruntime adapter and the CLI end to end.
 *   conv1 channel 0 = box mean (ReLU), conv2/conv3 pass channel 0 through, the shortcut adds
 *   conv1 (×2), BN is identity, conv4 passes through, conv5 reads channel 0: output = 2·ReLU(box).
 */
import type { Image } from '../../src/core/image';
import type { CnnRuntime } from '../../src/model/runtime';
import { initialWeights, KERNEL_SIZE, FILTERS, type NetworkWeights } from '../../src/model/network';
import { saveModelDir } from '../../src/model/save';
import { Random } from '../../src/core/random';

export function boxSmooth(input: Image, radius = 2): Image {
  const { data, width, height } = input;
  const out = new Float32Array(data.length);
  const norm = 1 / ((2 * radius + 1) * (2 * radius + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          s += data[yy * width + xx];
        }
      }
      out[y * width + x] = Math.max(0, s * norm);
    }
  }
  return { data: out, width, height };
}

export function boxSmoothRuntime(): CnnRuntime & { calls: number } {
  const runtime = {
    name: 'test-box-smooth',
    calls: 0,
    async infer(input: Image): Promise<Image> {
      runtime.calls++;
      return boxSmooth(input);
    },
    async dispose(): Promise<void> {},
  };
  return runtime;
}

function hwio(w: Float32Array, ky: number, kx: number, cin: number, cout: number, value: number): void {
  w[((ky * KERNEL_SIZE + kx) * cin + 0) * cout + 0] = value;
  void FILTERS;
}

export function smoothingWeights(): NetworkWeights {
  const weights = initialWeights(1);
  for (const [name, w] of weights) w.fill(name === 'bn.scale' ? 1 : 0);
  const c = (KERNEL_SIZE - 1) / 2;
  const conv1 = weights.get('conv1.w')!;
  for (let ky = 0; ky < KERNEL_SIZE; ky++) for (let kx = 0; kx < KERNEL_SIZE; kx++) hwio(conv1, ky, kx, 1, FILTERS, 1 / 25);
  hwio(weights.get('conv2.w')!, c, c, FILTERS, FILTERS, 1);
  hwio(weights.get('conv3.w')!, c, c, FILTERS, FILTERS, 1);
  hwio(weights.get('conv4.w')!, c, c, FILTERS, FILTERS, 1);
  hwio(weights.get('conv5.w')!, c, c, FILTERS, 1, 1);
  return weights;
}

export function saveSmoothingModel(dir: string): void {
  saveModelDir(dir, smoothingWeights(), { name: 'test-smoothing', version: 'test', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } });
}

/** A seeded image: unit Gaussian noise plus Gaussian point sources (σ_psf = 1.5 px) at the given positions. */
export function syntheticField(
  width: number,
  height: number,
  sources: readonly { x: number; y: number; amplitude: number }[],
  seed: number,
  noise = 1,
): Image {
  const rng = new Random(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = noise * rng.gaussian();
  const s2 = 2 * 1.5 * 1.5;
  for (const src of sources) {
    for (let y = Math.max(0, Math.floor(src.y - 8)); y <= Math.min(height - 1, Math.ceil(src.y + 8)); y++) {
      for (let x = Math.max(0, Math.floor(src.x - 8)); x <= Math.min(width - 1, Math.ceil(src.x + 8)); x++) {
        data[y * width + x] += src.amplitude * Math.exp(-((x - src.x) ** 2 + (y - src.y) ** 2) / s2);
      }
    }
  }
  return { data, width, height };
}
