/**
 * Benchmark: thresholded blob detection (src/detect/tbd.ts) on a synthetic 4096² CNN output map.
 * Target (issue 4): ≤ 2 s on one core with the paper's defaults. Prints one JSON line per case.
 *
 * Run (one core, no other load):
 *   npx tsc --outDir /tmp/bench-tbd --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --types node bench/tbd.ts && taskset -c 0 node /tmp/bench-tbd/bench/tbd.js [SIZE [REPEATS [CASE]]]
 * Memory at 16384² (the map alone is 1 GiB):
 *   node --max-old-space-size=8192 /tmp/bench-tbd/bench/tbd.js 16384 1 cnn-like
 *
 * Cases:
 *  - cnn-like: ReLU'd weak noise plus Gaussian blobs of log-uniform amplitude, like a trained
 *    CNN's output (most background pixels are 0 or tiny, so few pixels enter the sweep);
 *  - all-active: uniform noise in (0.5, 1], every pixel above the floor: the worst case for
 *    memory and time (the union-find runs over the whole image).
 *  - a real CNN map saved by `deepsource detect --save-cnn MAP.fits`: pass the FITS path as CASE
 *    (SIZE is then ignored), e.g. `node /tmp/bench-tbd/bench/tbd.js 0 3 tmp/bench/cnn4096.fits`;
 *    TBD options as JSON in the 4th argument, e.g. '{"deltaMax":3200,"aMin":146}'.
 */
import * as os from 'node:os';
import { Random } from '../src/core/random';
import type { Image } from '../src/core/image';
import { thresholdedBlobDetection, type TbdOptions } from '../src/detect/tbd';
import { openFits } from '../src/fits/read';

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
  if (map.width * map.height <= 1 << 26) thresholdedBlobDetection(map, options); // warm-up (JIT); big maps warm up on their own
  const times: number[] = [];
  const cpu: number[] = [];
  let result = thresholdedBlobDetection(map, options);
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    result = thresholdedBlobDetection(map, options);
    const c1 = process.cpuUsage(c0);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    cpu.push((c1.user + c1.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
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
      // CPU time of this thread's process: on a shared, loaded machine wall time overstates the work
      cpu_seconds_median: +cpu[cpu.length >> 1].toFixed(4),
      load_average_1m: +os.loadavg()[0].toFixed(2),
      megapixels_per_s: +((map.width * map.height) / 1e6 / times[times.length >> 1]).toFixed(2),
      active_pixels: result.sweep.activePixels,
      levels: result.sweep.thresholds.length,
      chosen_level: result.sweep.chosenIndex,
      threshold: result.sweep.threshold,
      blobs: result.blobs.count,
      rss_mb: Math.round(mem.rss / 2 ** 20),
      max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      array_buffers_mb: Math.round(mem.arrayBuffers / 2 ** 20),
      node: process.version,
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 4096);
  const repeats = Number(process.argv[3] ?? 3);
  const only = process.argv[4]; // optional: one case name, e.g. cnn-like (memory runs at 16384²), or a FITS map
  if (only && /\.fits?$/i.test(only)) {
    const file = await openFits(only);
    const map = await file.readImage();
    await file.close();
    run(only, map, JSON.parse(process.argv[5] ?? '{}') as TbdOptions, repeats);
    return;
  }
  if (!only || only === 'cnn-like') {
    const map = cnnLikeMap(size, 1);
    run('cnn-like', map, {}, repeats);
    if (!only) run('cnn-like first-exceed', map, { stopRule: 'first-exceed' }, repeats);
  }
  if (!only || only === 'all-active') run('all-active', allActiveMap(size, 2), {}, repeats);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/tbd: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
