/** Shared fixtures for tiling tests: seeded images and the pure-JS test CNN. */
import * as path from 'node:path';
import type { Image } from '../../src/core/image';
import { Random } from '../../src/core/random';
import type { CnnRuntime } from '../../src/model/runtime';

export const CONV_RUNTIME_MODULE = path.join(__dirname, 'fixtures', 'conv-runtime.js');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const convRuntime = require(CONV_RUNTIME_MODULE) as {
  createConvRuntime(modelDir: string, options?: { intraOpThreads?: number }): Promise<CnnRuntime>;
  RADIUS: number;
};
export const createConvRuntime = convRuntime.createConvRuntime;
export const CONV_RADIUS = convRuntime.RADIUS;

/** Gaussian noise (sigma 1) plus Gaussian blobs of the given peak at the given positions. */
export function syntheticImage(width: number, height: number, seed: number, sources: Array<[number, number, number]> = []): Image {
  const rng = new Random(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rng.gaussian();
  const sigma = 1.5;
  for (const [sx, sy, peak] of sources) {
    for (let y = Math.max(0, Math.floor(sy - 6)); y < Math.min(height, sy + 7); y++) {
      for (let x = Math.max(0, Math.floor(sx - 6)); x < Math.min(width, sx + 7); x++) {
        data[y * width + x] += peak * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * sigma * sigma));
      }
    }
  }
  return { data, width, height };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}
