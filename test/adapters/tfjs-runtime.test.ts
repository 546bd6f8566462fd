import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createTfjsRuntimeWith } from '../../src/adapters/tfjs-runtime';
import { fullScaleWeights } from '../model/synthetic';
import { saveModelDir } from '../../src/model/save';
import { forward, toTfParams, disposeTfParams } from '../../src/model/tf-network';
import { useTfBackend } from '../../src/model/tf-backend';
import { Random } from '../../src/core/random';

describe('TF.js runtime adapter', () => {
  let dir: string;
  const weights = fullScaleWeights(31);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-tfjs-'));
    saveModelDir(dir, weights, { name: 't', version: '0', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['wasm', 37, 29],
    ['wasm', 64, 32],
    ['cpu', 21, 18],
  ] as const)('on %s: output size = input size (%ix%i) and save/load gives identical outputs', async (backend, width, height) => {
    const rng = new Random(width);
    const input = { data: new Float32Array(width * height).map(() => 2 * rng.gaussian()), width, height };
    const runtime = await createTfjsRuntimeWith(dir, { backend });
    expect(runtime.name).toBe(`tfjs-${backend}`);
    const out = await runtime.infer(input);
    expect([out.width, out.height, out.data.length]).toEqual([width, height, width * height]);
    // the in-memory weights, same backend: bit-identical
    await useTfBackend(backend);
    const params = toTfParams(weights);
    const direct = tf.tidy(() => forward(params, tf.tensor4d(input.data, [1, height, width, 1]))).dataSync();
    disposeTfParams(params);
    expect(out.data).toEqual(direct);
    await runtime.dispose();
    await expect(runtime.infer(input)).rejects.toThrow(/after dispose/);
  });

  it('large images run in strips with a receptive-field halo and give the whole-image result', async () => {
    const width = 37, height = 83;
    const rng = new Random(5);
    const input = { data: new Float32Array(width * height).map(() => 2 * rng.gaussian()), width, height };
    const whole = await createTfjsRuntimeWith(dir, { backend: 'wasm' });
    const strips = await createTfjsRuntimeWith(dir, { backend: 'wasm', maxPixelsPerPass: width * 35 }); // 15-row strips
    const a = await whole.infer(input);
    const b = await strips.infer(input);
    let maxAbs = 0;
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a.data[i]));
      maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThanOrEqual(1e-6 * maxAbs); // same sums; at most summation-order rounding
    await whole.dispose();
    await strips.dispose();
  });

  it('rejects an image whose data does not match its size', async () => {
    const runtime = await createTfjsRuntimeWith(dir, { backend: 'cpu' });
    await expect(runtime.infer({ data: new Float32Array(10), width: 4, height: 4 })).rejects.toThrow(/4x4 image with 16 pixels, got 10/);
    await runtime.dispose();
  });
});
