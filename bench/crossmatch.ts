/**
 * Benchmark: one-to-one crossmatch (src/eval/crossmatch.ts, grid hash) and the full evaluation
 * (src/eval/metrics.ts) on large random catalogues. Prints one JSON line per case.
 *
 * Run:
 *   npx tsc --outDir /tmp/bench-xm --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --types node bench/crossmatch.ts && node /tmp/bench-xm/bench/crossmatch.js [N [REPEATS]]
 *
 * Catalogues: N true sources uniform in a square with ~300 per beam-area-free deg² equivalent,
 * N detections of which 80% sit within 0.3 radius of a true source and 20% are random.
 */
import { Random } from '../src/core/random';
import { crossmatch } from '../src/eval/crossmatch';
import { evaluateCatalogues } from '../src/eval/metrics';

function catalogues(n: number, seed: number) {
  const rng = new Random(seed);
  const side = Math.sqrt(n) * 50; // mean spacing 50 units, radius 10 below
  const tx = new Float64Array(n);
  const ty = new Float64Array(n);
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    tx[i] = rng.range(0, side);
    ty[i] = rng.range(0, side);
    ts[i] = rng.exponential(1.7);
  }
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  const ds = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (rng.uniform() < 0.8) {
      dx[j] = tx[j] + 3 * rng.gaussian();
      dy[j] = ty[j] + 3 * rng.gaussian();
      ds[j] = ts[j] + 0.3 * rng.gaussian();
    } else {
      dx[j] = rng.range(0, side);
      dy[j] = rng.range(0, side);
      ds[j] = rng.exponential(1);
    }
  }
  return { tx, ty, ts, dx, dy, ds };
}

const n = Number(process.argv[2] ?? 1_000_000);
const repeats = Number(process.argv[3] ?? 3);
const c = catalogues(n, 1);
let best = Infinity;
let matches = 0;
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  matches = crossmatch({ x: c.tx, y: c.ty }, { x: c.dx, y: c.dy }, 10).matches;
  best = Math.min(best, performance.now() - t0);
}
console.log(JSON.stringify({ bench: 'crossmatch', n_truth: n, n_detections: n, radius: 10, matches, best_ms: Math.round(best), repeats }));

const table = (x: Float64Array, y: Float64Array, snr: Float64Array) => ({ columns: { x, y, snr }, info: {}, metadata: {} });
best = Infinity;
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  evaluateCatalogues([{ imageId: 'bench', truth: table(c.tx, c.ty, c.ts), detections: table(c.dx, c.dy, c.ds), beamArcsec: 15, pixelScaleArcsec: 1 }], { space: 'pixel' });
  best = Math.min(best, performance.now() - t0);
}
console.log(JSON.stringify({ bench: 'evaluateCatalogues', n_truth: n, n_detections: n, best_ms: Math.round(best), repeats }));
