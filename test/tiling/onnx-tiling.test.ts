/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * Tiled inference with the real network on onnxruntime (the detect path): the stitched map equals
 * whole-image inference to float32 tolerance, and so does the TBD catalogue. The model has the
 * Fig. 8 architecture with seeded random weights (no trained model is needed for equality).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createOnnxRuntime } from '../../src/adapters/onnx-runtime';
import { thresholdedBlobDetection } from '../../src/detect/tbd';
import { Random } from '../../src/core/random';
import { PARAMETERS, sizeOf, type NetworkWeights } from '../../src/model/network';
import { normaliseInput } from '../../src/model/normalise';
import { saveModelDir } from '../../src/model/save';
import { createSerialExecutor, createTilePool } from '../../src/tiling/pool';
import { runTiledInference } from '../../src/tiling/stitch';
import { syntheticImage } from './helpers';

const ONNX_MODULE = path.resolve(__dirname, '../../src/adapters/onnx-runtime.ts');

describe('tiled inference on onnxruntime', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ds-tiling-onnx-'));
    // Our own seeded weights (He-scaled Gaussians, unit BN scale, small biases), so the test does
    // not depend on how training initialises the network; only the architecture comes from it.
    const rng = new Random(3);
    const weights: NetworkWeights = new Map();
    for (const p of PARAMETERS) {
      const n = sizeOf(p.shape);
      const w = new Float32Array(n);
      const fanIn = p.shape.length === 4 ? p.shape[0] * p.shape[1] * p.shape[2] : 1;
      for (let i = 0; i < n; i++) {
        if (p.name === 'bn.scale') w[i] = 1 + 0.1 * rng.gaussian();
        else if (p.shape.length === 4) w[i] = rng.gaussian() * Math.sqrt(2 / fanIn);
        else w[i] = 0.05 * rng.gaussian();
      }
      weights.set(p.name, w);
    }
    saveModelDir(dir, weights, { name: 'tiling-test', version: '0', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [257, 191, 96, 12],
    [200, 200, 128, 16],
  ])('%i×%i (tile %i, overlap %i): pooled and serial maps and catalogues match the whole image', async (width, height, tile, overlap) => {
    const image = syntheticImage(width, height, width + height, [[width / 3, height / 2, 40], [width - 30, 25, 25], [60, height - 40, 30]]);
    const runtime = await createOnnxRuntime(dir);
    const whole = await runtime.infer(normaliseInput(image, 1));
    const tiling = { tile, overlap };
    const serial = await runTiledInference(image, { imageId: 'onnx', noiseSigma: 1, tiling, executor: createSerialExecutor(runtime) });
    const pool = createTilePool({
      runtimeModule: ONNX_MODULE, runtimeExport: 'createOnnxRuntime', modelDir: dir, workers: 2, maxQueue: 2,
    });
    let pooled;
    try {
      pooled = await runTiledInference(image, { imageId: 'onnx', noiseSigma: 1, tiling, executor: pool });
    } finally {
      await pool.close();
      await runtime.dispose();
    }
    expect(serial.plan.tiles.length).toBeGreaterThan(1);
    // float32 tolerance: a gemm over a different image width may block its sums differently;
    // five layers of 300-term float32 sums of O(1) values give relative errors ~1e-6.
    let maxAbs = 0;
    let diffSerial = 0;
    let diffPooled = 0;
    for (let i = 0; i < whole.data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(whole.data[i]));
      diffSerial = Math.max(diffSerial, Math.abs(serial.output.data[i] - whole.data[i]));
      diffPooled = Math.max(diffPooled, Math.abs(pooled.output.data[i] - whole.data[i]));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(diffSerial).toBeLessThan(1e-5 * maxAbs);
    expect(diffPooled).toBeLessThan(1e-5 * maxAbs);
    // Serial and pooled run the same tile function on the same tiles: identical bits.
    expect(Array.from(pooled.output.data)).toEqual(Array.from(serial.output.data));

    const tbd = { aMin: 5 };
    const fromWhole = thresholdedBlobDetection(whole, tbd).blobs;
    const fromTiles = thresholdedBlobDetection(pooled.output, tbd).blobs;
    expect(fromWhole.count).toBeGreaterThan(0);
    expect(fromTiles.count).toBe(fromWhole.count);
    for (let i = 0; i < fromWhole.count; i++) {
      expect(Math.abs(fromTiles.x[i] - fromWhole.x[i])).toBeLessThan(1e-3);
      expect(Math.abs(fromTiles.y[i] - fromWhole.y[i])).toBeLessThan(1e-3);
      expect(fromTiles.area[i]).toBe(fromWhole.area[i]);
    }
  });
});
