/** Seeded synthetic training images for model tests: white noise plus Gaussian point sources. */
import { Random } from '../../src/core/random';
import type { Image } from '../../src/core/image';
import type { SourcePosition } from '../../src/model/demand';
import { initialWeights, type NetworkWeights } from '../../src/model/network';

export function syntheticSky(width: number, height: number, seed: number, count: number, { sigma = 1, beam = 1.5, minSnr = 3, maxSnr = 30 } = {}): { image: Image; sources: SourcePosition[] } {
  const rng = new Random(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = sigma * rng.gaussian();
  const sources: SourcePosition[] = [];
  for (let s = 0; s < count; s++) {
    const x = rng.range(4, width - 4);
    const y = rng.range(4, height - 4);
    const amp = sigma * rng.range(minSnr, maxSnr);
    sources.push({ x, y });
    for (let yy = Math.max(0, Math.floor(y - 4 * beam)); yy <= Math.min(height - 1, Math.ceil(y + 4 * beam)); yy++)
      for (let xx = Math.max(0, Math.floor(x - 4 * beam)); xx <= Math.min(width - 1, Math.ceil(x + 4 * beam)); xx++)
        data[yy * width + xx] += amp * Math.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * beam * beam));
  }
  return { image: { data, width, height }, sources };
}

/**
 * Initial weights with a full-scale last layer: the shipped initialisation shrinks conv5 100×
 * (network.ts), which makes outputs and early-layer gradients too small for float32 comparisons.
 */
export function fullScaleWeights(seed: number): NetworkWeights {
  const weights = initialWeights(seed);
  const w = weights.get('conv5.w')!;
  for (let i = 0; i < w.length; i++) w[i] *= 100;
  return weights;
}
