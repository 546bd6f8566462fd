/**
 * Benchmark: CNN inference throughput per runtime (issue 3), on a 2048×2048 normalised image.
 * Prints one JSON line per case: Mpixel/s and effective GFLOP/s (pixels × FLOPS_PER_PIXEL / s,
 * FLOPS_PER_PIXEL = 22 800: the five 5×5 convolutions, a multiply-add counted as 2).
 * Targets per core: onnxruntime ≥ 70 GFLOP/s, tfjs-wasm ≥ 18 GFLOP/s.
 *
 * Run from the repository root (weights do not change the speed; uses models/natural if present,
 * else random weights). The output folder must be inside the repository so node_modules resolve:
 *   npx tsc --outDir tmp/bench-cnn --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --esModuleInterop --resolveJsonModule --types node bench/inference.ts
 *   node tmp/bench-cnn/bench/inference.js [SIZE] [RUNTIMES=onnx1,onnx2,wasm,cpu]
 * The tfjs-cpu case runs on a 512² image (it is ~100× slower); its figures are per pixel anyway.
 * Single runs on a shared machine are noisy: each case reports the best of `repeats` runs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Random } from '../src/core/random';
import type { Image } from '../src/core/image';
import type { CnnRuntime } from '../src/model/runtime';
import { FLOPS_PER_PIXEL, initialWeights } from '../src/model/network';
import { saveModelDir } from '../src/model/save';
import { createOnnxRuntime } from '../src/adapters/onnx-runtime';
import { createTfjsRuntimeWith } from '../src/adapters/tfjs-runtime';

function noiseImage(size: number, seed: number): Image {
  const rng = new Random(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.gaussian();
  return { data, width: size, height: size };
}

async function timeRuntime(runtime: CnnRuntime, image: Image, repeats: number): Promise<number> {
  await runtime.infer({ data: image.data.subarray(0, 64 * 64), width: 64, height: 64 }); // warm-up
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    await runtime.infer(image);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 2048);
  const cases = (process.argv[3] ?? 'onnx1,onnx2,wasm,cpu').split(',');
  let modelDir = resolve('models', 'natural');
  let temp: string | null = null;
  if (!existsSync(join(modelDir, 'model.json'))) {
    temp = mkdtempSync(join(tmpdir(), 'bench-cnn-'));
    saveModelDir(temp, initialWeights(1), { name: 'bench', version: '0', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } });
    modelDir = temp;
  }
  try {
    for (const c of cases) {
      let runtime: CnnRuntime;
      let threads = 1;
      let n = size;
      if (c === 'onnx1' || c === 'onnx2') {
        threads = c === 'onnx2' ? 2 : 1;
        runtime = await createOnnxRuntime(modelDir, { intraOpThreads: threads });
      } else if (c === 'wasm' || c === 'cpu') {
        runtime = await createTfjsRuntimeWith(modelDir, { backend: c });
        if (c === 'cpu') n = Math.min(size, 512);
      } else throw new Error(`unknown case ${c}`);
      const image = noiseImage(n, 7);
      const seconds = await timeRuntime(runtime, image, c === 'cpu' ? 1 : 3);
      await runtime.dispose();
      const pixels = n * n;
      process.stdout.write(
        JSON.stringify({
          bench: 'cnn-inference',
          runtime: runtime.name,
          threads,
          size: n,
          seconds: +seconds.toFixed(3),
          mpixelPerSecond: +(pixels / seconds / 1e6).toFixed(3),
          gflopPerSecond: +((pixels * FLOPS_PER_PIXEL) / seconds / 1e9).toFixed(2),
          flopsPerPixel: FLOPS_PER_PIXEL,
          model: temp ? 'random-init' : 'models/natural',
        }) + '\n',
      );
    }
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
