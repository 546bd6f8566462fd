import type { Image } from '../../src/core/image';
import { createSerialExecutor } from '../../src/tiling/pool';
import { detectImage, imageNoiseSigma } from '../../src/detect/detect-image';
import { boxSmoothRuntime, syntheticField } from './smoothing-model';
import { META } from '../../src/catalogue/provenance';

const SOURCES = [
  { x: 40.3, y: 30.6, amplitude: 25 },
  { x: 150.0, y: 45.2, amplitude: 15 },
  { x: 95.7, y: 100.1, amplitude: 40 },
  { x: 200.4, y: 150.8, amplitude: 20 },
  // on a tile seam (tile 96 with overlap 16 → cores split at x = 64, 128, ...)
  { x: 128.0, y: 160.0, amplitude: 30 },
];
const TBD = { deltaMax: 3, aMin: 5, stopRule: 'first-exceed' as const };

function nearest(table: { columns: Record<string, ArrayLike<unknown>> }, x: number, y: number): number {
  const xs = table.columns.x as Float64Array;
  const ys = table.columns.y as Float64Array;
  let best = Infinity;
  for (let i = 0; i < xs.length; i++) best = Math.min(best, Math.hypot(xs[i] - x, ys[i] - y));
  return best;
}

describe('detectImage with a box-smoothing stand-in CNN', () => {
  const field = syntheticField(240, 200, SOURCES, 11);

  // Tolerances: the mean centre (eq. 4) of a ~80-px blob whose edge is set by unit noise moves by a
  // few tenths of a pixel (0.2–0.7 px over seeds 11–13); 1 px is well inside the crossmatch radius
  // (2/3 of the 3.5-px FWHM = 2.4 px). The intensity-weighted centroid (eq. 5) is tighter: 0.5 px.
  test('finds every source (mean centre within 1 px, centroid within 0.5 px) and nothing else', async () => {
    const runtime = boxSmoothRuntime();
    const result = await detectImage(field, { imageId: 'field', executor: createSerialExecutor(runtime), tile: 96, overlap: 16, tbd: TBD, noise: { estimator: 'global', sigma: 1 } });
    expect(result.table.columns.x.length).toBe(SOURCES.length);
    for (const s of SOURCES) expect(nearest(result.table, s.x, s.y)).toBeLessThan(1);
    const centroid = await detectImage(field, { imageId: 'field', executor: createSerialExecutor(boxSmoothRuntime()), tile: 96, overlap: 16, tbd: { ...TBD, centre: 'centroid' } });
    expect(centroid.table.columns.x.length).toBe(SOURCES.length);
    for (const s of SOURCES) expect(nearest(centroid.table, s.x, s.y)).toBeLessThan(0.5);
    // SNR = image value at the position / noise: close to the amplitude for these peaks
    const snr = Array.from(result.table.columns.snr as Float64Array).sort((a, b) => a - b);
    const amplitudes = SOURCES.map((s) => s.amplitude).sort((a, b) => a - b);
    snr.forEach((v, i) => expect(Math.abs(v - amplitudes[i])).toBeLessThan(5));
    // tiled: the tile ids come from the plan
    expect(result.plan!.tiles.length).toBeGreaterThan(1);
    const tiles = result.table.columns.tile_id as Int32Array;
    for (let i = 0; i < tiles.length; i++) expect(tiles[i]).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(result.table.metadata[META.tbd])).toMatchObject({ delta_max: 3, a_min: 5, stop_rule: 'first-exceed' });
    expect(runtime.calls).toBe(result.plan!.tiles.length);
  });

  test('onCnnDone runs once, after the last tile and before the catalogue; closing the executor there loses nothing', async () => {
    const runtime = boxSmoothRuntime();
    const executor = createSerialExecutor(runtime);
    const seen: number[] = [];
    const base = { imageId: 'field', tile: 96, overlap: 16, tbd: { ...TBD, deblend: 0.05 }, noise: { estimator: 'global' as const, sigma: 1 } };
    const withHook = await detectImage(field, {
      ...base,
      executor,
      onCnnDone: async () => {
        seen.push(runtime.calls);
        await executor.close();
      },
    });
    const plain = await detectImage(field, { ...base, executor: createSerialExecutor(boxSmoothRuntime()) });
    expect(seen).toEqual([withHook.plan!.tiles.length]);
    expect(withHook.table.columns.x).toEqual(plain.table.columns.x);
    expect(JSON.parse(withHook.table.metadata[META.tbd])).toMatchObject({ deblend: 0.05 });
  });

  test('the tile size does not change the catalogue (seams vanish before TBD)', async () => {
    const run = (tile: number) => detectImage(field, { imageId: 'f', executor: createSerialExecutor(boxSmoothRuntime()), tile, overlap: 16, tbd: TBD });
    const [small, large] = await Promise.all([run(96), run(512)]);
    expect(Array.from(small.table.columns.x as Float64Array)).toEqual(Array.from(large.table.columns.x as Float64Array));
    expect(Array.from(small.table.columns.y as Float64Array)).toEqual(Array.from(large.table.columns.y as Float64Array));
    expect(small.tbd.sweep.threshold).toBe(large.tbd.sweep.threshold);
  });

  test('blank (NaN) pixels never become sources, even when a source is blanked', async () => {
    const data = field.data.slice();
    // blank a band covering the first source
    for (let y = 0; y < 200; y++) for (let x = 0; x < 60; x++) data[y * 240 + x] = NaN;
    const blanked: Image = { data, width: 240, height: 200 };
    const result = await detectImage(blanked, { imageId: 'b', executor: createSerialExecutor(boxSmoothRuntime()), tile: 96, overlap: 16, tbd: TBD });
    const xs = result.table.columns.x as Float64Array;
    for (let i = 0; i < xs.length; i++) expect(xs[i]).toBeGreaterThanOrEqual(60);
    expect(xs.length).toBe(SOURCES.length - 1);
    for (const s of SOURCES.slice(1)) expect(nearest(result.table, s.x, s.y)).toBeLessThan(1);
    for (let y = 0; y < 200; y++) expect(Number.isNaN(result.cnn.data[y * 240 + 10])).toBe(true);
    expect(blanked.data).toEqual(data); // input unchanged
  });

  test.each([
    ['all blank', new Float32Array(64 * 64).fill(NaN)],
    ['all zero', new Float32Array(64 * 64)],
    ['constant', new Float32Array(64 * 64).fill(3)],
  ])('%s image: empty catalogue, no error', async (_name, data) => {
    const runtime = boxSmoothRuntime();
    const result = await detectImage({ data, width: 64, height: 64 }, { imageId: 'e', executor: createSerialExecutor(runtime) });
    expect(result.table.columns.x.length).toBe(0);
    expect(result.tbd.blobs.count).toBe(0);
  });

  test('noise for normalisation: the MAD, or the MAD of non-zero pixels for zero-padded images', () => {
    const padded = field.data.slice();
    for (let i = 0; i < padded.length * 0.6; i++) padded[i] = 0;
    const sigma = imageNoiseSigma({ data: padded, width: 240, height: 200 });
    expect(sigma).toBeGreaterThan(0.9);
    expect(sigma).toBeLessThan(1.1);
  });

  test('rejects a malformed image and bad noise options with clear messages', async () => {
    const executor = createSerialExecutor(boxSmoothRuntime());
    await expect(detectImage({ data: new Float32Array(3), width: 2, height: 2 }, { imageId: 'm', executor })).rejects.toThrow(/image m: expected a non-empty/);
    await expect(detectImage(field, { imageId: 'm', executor, noise: { estimator: 'border-std', sigma: -1 } })).rejects.toThrow(/border-std noise for image m must be a positive number, got -1/);
    await expect(detectImage(field, { imageId: 'm', executor, overlap: 4 })).rejects.toThrow(/overlap must be >= 12/);
  });
});
