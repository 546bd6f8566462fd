/**
 * @jest-environment ./test/adapters/onnx-environment.js
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnnxRuntime } from '../../src/adapters/onnx-runtime';
import { createTfjsRuntimeWith } from '../../src/adapters/tfjs-runtime';
import { fullScaleWeights } from '../model/synthetic';
import { saveModelDir } from '../../src/model/save';
import { Random } from '../../src/core/random';
import type { Image } from '../../src/core/image';

function randomImage(width: number, height: number, seed: number): Image {
  const rng = new Random(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = 3 * rng.gaussian();
  return { data, width, height };
}

describe('onnxruntime adapter', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-onnx-'));
    const weights = fullScaleWeights(7);
    // Non-trivial BN and biases, so the export of every parameter is exercised.
    const rng = new Random(8);
    for (const name of ['bn.scale', 'bn.shift', 'conv1.b', 'conv2.b', 'conv3.b', 'conv4.b', 'conv5.b']) {
      const w = weights.get(name)!;
      for (let i = 0; i < w.length; i++) w[i] = (name === 'bn.scale' ? 1 : 0) + 0.3 * rng.gaussian();
    }
    saveModelDir(dir, weights, { name: 'test', version: '0', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [33, 21],
    [64, 48],
  ])('agrees with the TF.js model on a %ix%i image (output size = input size)', async (width, height) => {
    const onnx = await createOnnxRuntime(dir);
    const tfjs = await createTfjsRuntimeWith(dir, { backend: 'cpu' });
    const input = randomImage(width, height, width * 1000 + height);
    const a = await onnx.infer(input);
    const b = await tfjs.infer(input);
    expect([a.width, a.height, a.data.length]).toEqual([width, height, width * height]);
    expect([b.width, b.height, b.data.length]).toEqual([width, height, width * height]);
    // float32 tolerance: 5 layers of 300-term sums of O(1) values; relative error ~1e-6 per layer.
    let maxAbs = 0;
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(b.data[i]));
      maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    await onnx.dispose();
    await tfjs.dispose();
  });

  it('does not modify its input', async () => {
    const onnx = await createOnnxRuntime(dir);
    const input = randomImage(17, 19, 3);
    const copy = new Float32Array(input.data);
    await onnx.infer(input);
    expect(input.data).toEqual(copy);
    await onnx.dispose();
  });

  it('rejects a missing or corrupt model.onnx with a clear error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ds-onnx-empty-'));
    await expect(createOnnxRuntime(empty)).rejects.toThrow(/has no model\.onnx/);
    writeFileSync(join(empty, 'model.onnx'), 'not a model');
    await expect(createOnnxRuntime(empty)).rejects.toThrow(/model\.onnx: onnxruntime cannot load the model/);
    rmSync(empty, { recursive: true, force: true });
  });
});
