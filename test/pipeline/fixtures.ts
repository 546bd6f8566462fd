/**
 * Test inputs for the pipeline: a small simulated-looking FITS image (Gaussian noise plus
 * beam-shaped point sources, SIN WCS, BMAJ/BMIN) and a model directory holding a real DeepSource
 * network (ONNX, run by onnxruntime) with hand-set weights that pass the normalised image through
 * the centre taps of every layer, so bright sources come out as blobs. The shipped models are
 * trained elsewhere; these tests are about the pipeline's plumbing and its parity with `detect`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random } from '../../src/core/random';
import { encodeFitsImage } from '../../src/fits/write';
import { sinWcsCards } from '../../src/fits/wcs';
import { PARAMETERS, sizeOf, type NetworkWeights } from '../../src/model/network';
import { saveModelDir } from '../../src/model/save';
import { createOnnxRuntime } from '../../src/adapters/onnx-runtime';
import { createSerialExecutor, type TileExecutor } from '../../src/tiling/pool';

export function passThroughWeights(): NetworkWeights {
  const weights: NetworkWeights = new Map();
  for (const p of PARAMETERS) {
    const data = new Float32Array(sizeOf(p.shape));
    if (p.name.endsWith('.w')) {
      const [, kw, cin, cout] = p.shape;
      // index of [2, 2, 0, 0] in a [kh, kw, cin, cout] row-major tensor
      data[((2 * kw + 2) * cin + 0) * cout + 0] = 1;
    } else if (p.name === 'bn.scale') data.fill(1);
    weights.set(p.name, data);
  }
  return weights;
}

let modelDir: string | undefined;
export function testModelDir(): string {
  if (!modelDir) {
    modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-model-'));
    saveModelDir(modelDir, passThroughWeights(), { name: 'pass-through-test', version: '0', demand: { alpha: 1, bn: 1, hornRadius: 1, gaussianSigma: 1 } });
  }
  return modelDir;
}

export async function testExecutor(): Promise<TileExecutor> {
  const runtime = await createOnnxRuntime(testModelDir(), { intraOpThreads: 1 });
  const serial = createSerialExecutor(runtime);
  return { capacity: 1, runTile: serial.runTile, close: () => runtime.dispose() };
}

/** FITS bytes of a width × height image with `sources` point sources (seeded). */
export function testFitsImage(seed: number, width = 300, height = 260, sources = 12): Buffer {
  const rng = new Random(seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = 1e-5 * rng.gaussian();
  const sigmaPx = 1.5;
  for (let s = 0; s < sources; s++) {
    const x0 = 10 + rng.uniform() * (width - 20);
    const y0 = 10 + rng.uniform() * (height - 20);
    const flux = 1e-4 * (2 + 20 * rng.uniform());
    for (let y = Math.max(0, Math.floor(y0 - 6)); y < Math.min(height, y0 + 6); y++) {
      for (let x = Math.max(0, Math.floor(x0 - 6)); x < Math.min(width, x0 + 6); x++) {
        data[y * width + x] += flux * Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigmaPx ** 2));
      }
    }
  }
  const cards = [
    ...sinWcsCards({ raDeg: 30, decDeg: -30, cdeltDeg: 1 / 3600, width, height }),
    { key: 'BMAJ', value: 3.5 / 3600 },
    { key: 'BMIN', value: 3.5 / 3600 },
    { key: 'BPA', value: 0 },
    { key: 'BUNIT', value: 'JY/BEAM' },
  ];
  return encodeFitsImage({ data, width, height }, cards);
}
