/**
 * Benchmark: CNN training throughput (issue 3) on the current TF.js backend: patches per second
 * and effective GFLOP/s (a training step ≈ 3 forward passes: forward, input gradient, filter
 * gradient), on synthetic noise images with random sources. Prints one JSON line per case.
 *
 * Run from the repository root (output folder inside the repository so node_modules resolve):
 *   npx tsc --outDir tmp/bench-cnn --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --esModuleInterop --resolveJsonModule --types node bench/train.ts
 *   node tmp/bench-cnn/bench/train.js [STEPS=20] [PATCH=128] [BATCH=8] [BACKEND=wasm]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../src/core/random';
import { FLOPS_PER_PIXEL } from '../src/model/network';
import { makeTrainingImage } from '../src/model/training-data';
import { trainModel } from '../src/model/train';
import type { TfBackendPreference } from '../src/model/tf-backend';

function sky(size: number, seed: number): { image: { data: Float32Array; width: number; height: number }; sources: { x: number; y: number }[] } {
  const rng = new Random(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.gaussian();
  const sources: { x: number; y: number }[] = [];
  for (let s = 0; s < size / 4; s++) {
    const x = rng.int(size);
    const y = rng.int(size);
    data[y * size + x] += rng.range(2, 30);
    sources.push({ x, y });
  }
  return { image: { data, width: size, height: size }, sources };
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 20);
  const patch = Number(process.argv[3] ?? 128);
  const batch = Number(process.argv[4] ?? 8);
  const backend = (process.argv[5] ?? 'wasm') as TfBackendPreference;
  const images = [1, 2, 3].map((s) => {
    const { image, sources } = sky(512, s);
    return makeTrainingImage(`bench_${s}`, image, sources, { alpha: 0.75, bn: 0.05 });
  });
  const out = mkdtempSync(join(tmpdir(), 'bench-train-'));
  try {
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    const result = await trainModel(images.slice(0, 2), images.slice(2), out, { steps, patch, batch, backend, validateEvery: steps, valPatches: batch, checkpointEvery: steps });
    const wall = (Date.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    process.stdout.write(
      JSON.stringify({
        bench: 'cnn-train',
        backend: result.backend,
        steps,
        patch,
        batch,
        wallSeconds: +wall.toFixed(2),
        patchesPerSecond: +result.patchesPerSecond.toFixed(3),
        secondsPerStep: +((steps > 0 ? wall / steps : NaN)).toFixed(3),
        effectiveGflopPerSecond: +((result.patchesPerSecond * patch * patch * 3 * FLOPS_PER_PIXEL) / 1e9).toFixed(2),
        // per CPU-second (includes validation and image preparation): the per-core rate on a shared machine
        cpuSeconds: +cpu.toFixed(2),
        patchesPerCpuSecond: +((steps * batch) / cpu).toFixed(3),
        loadAverage1m: +loadavg()[0].toFixed(2),
      }) + '\n',
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
