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
 * Runs on a shared machine are noisy: each case reports the best of 3 runs, and also GFLOP per
 * CPU-second of the process (the per-core rate while other jobs compete for the cores).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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

/** Best of `repeats` runs: wall seconds, and the process CPU seconds of that run. */
async function timeRuntime(runtime: CnnRuntime, image: Image, repeats: number): Promise<{ wall: number; cpu: number }> {
  await runtime.infer({ data: image.data.subarray(0, 64 * 64), width: 64, height: 64 }); // warm-up
  let best = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await runtime.infer(image);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    if (wall < best.wall) best = { wall, cpu: (c.user + c.system) / 1e6 };
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
      const { wall: seconds, cpu } = await timeRuntime(runtime, image, c === 'cpu' ? 1 : 3);
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
          // Per CPU-second of this process: the per-core figure when the machine is shared.
          cpuSeconds: +cpu.toFixed(3),
          gflopPerCpuSecond: +((pixels * FLOPS_PER_PIXEL) / cpu / 1e9).toFixed(2),
          loadAverage1m: +loadavg()[0].toFixed(2),
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
