/**
 * Benchmark: thresholded blob detection (src/detect/tbd.ts) on a synthetic 4096² CNN output map.
 * Target (issue 4): ≤ 2 s on one core with the paper's defaults. Prints one JSON line per case.
 *
 * Run (one core, no other load):
 *   npx tsc --outDir /tmp/bench-tbd --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --types node bench/tbd.ts && node /tmp/bench-tbd/bench/tbd.js [SIZE]
 *
 * Cases:
 *  - cnn-like: ReLU'd weak noise plus Gaussian blobs of log-uniform amplitude, like a trained
 *    CNN's output (most background pixels are 0 or tiny, so few pixels enter the sweep);
 *  - all-active: uniform noise in (0.5, 1], every pixel above the floor: the worst case for
 *    memory and time (the union-find runs over the whole image).
 */
import { Random } from '../src/core/random';
import type { Image } from '../src/core/image';
import { thresholdedBlobDetection, type TbdOptions } from '../src/detect/tbd';

function cnnLikeMap(size: number, seed: number): Image {
  const rng = new Random(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, 0.01 * rng.gaussian());
  const sources = Math.round((size * size) / 8000);
  const sigma = 1.5;
  for (let s = 0; s < sources; s++) {
    const cx = rng.range(0, size);
    const cy = rng.range(0, size);
    const amp = Math.pow(10, rng.range(-1.5, 0));
    for (let y = Math.max(0, Math.floor(cy - 6)); y <= Math.min(size - 1, Math.ceil(cy + 6)); y++) {
      for (let x = Math.max(0, Math.floor(cx - 6)); x <= Math.min(size - 1, Math.ceil(cx + 6)); x++) {
        const r2 = (x - cx) ** 2 + (y - cy) ** 2;
        data[y * size + x] += amp * Math.exp(-r2 / (2 * sigma * sigma));
      }
    }
  }
  return { data, width: size, height: size };
}

function allActiveMap(size: number, seed: number): Image {
  const rng = new Random(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.5 * rng.uniform() + 1e-6;
  return { data, width: size, height: size };
}

function run(name: string, map: Image, options: TbdOptions, repeats: number): void {
  thresholdedBlobDetection(map, options); // warm-up (JIT)
  const times: number[] = [];
  let result = thresholdedBlobDetection(map, options);
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    result = thresholdedBlobDetection(map, options);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  const mem = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      bench: 'tbd',
      case: name,
      width: map.width,
      height: map.height,
      options,
      repeats,
      seconds_median: +times[times.length >> 1].toFixed(4),
      seconds_min: +times[0].toFixed(4),
      megapixels_per_s: +((map.width * map.height) / 1e6 / times[times.length >> 1]).toFixed(2),
      active_pixels: result.sweep.activePixels,
      levels: result.sweep.thresholds.length,
      chosen_level: result.sweep.chosenIndex,
      threshold: result.sweep.threshold,
      blobs: result.blobs.count,
      rss_mb: Math.round(mem.rss / 2 ** 20),
      array_buffers_mb: Math.round(mem.arrayBuffers / 2 ** 20),
      node: process.version,
    }) + '\n',
  );
}

const size = Number(process.argv[2] ?? 4096);
const repeats = Number(process.argv[3] ?? 3);
run('cnn-like', cnnLikeMap(size, 1), {}, repeats);
run('cnn-like first-exceed', cnnLikeMap(size, 1), { stopRule: 'first-exceed' }, repeats);
run('all-active', allActiveMap(size, 2), {}, repeats);
