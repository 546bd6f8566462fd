/**
 * The catalogue from tiled inference equals the whole-image catalogue, and a source on a tile seam
 * is found exactly once (issue 5). TBD (src/detect/tbd.ts) runs on the stitched whole map.
 */
import * as path from 'node:path';
import { thresholdedBlobDetection, type TbdOptions } from '../../src/detect/tbd';
import { normaliseInput } from '../../src/model/normalise';
import type { CnnRuntime } from '../../src/model/runtime';
import { createSerialExecutor, createTilePool } from '../../src/tiling/pool';
import { planTiles } from '../../src/tiling/plan';
import { runTiledInference } from '../../src/tiling/stitch';
import { maxAbsDiff, syntheticImage } from './helpers';

const SMOOTH_MODULE = path.join(__dirname, 'fixtures', 'smooth-runtime.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createSmoothRuntime } = require(SMOOTH_MODULE) as { createSmoothRuntime(): Promise<CnnRuntime> };

const WIDTH = 301;
const HEIGHT = 257;
const TILING = { tile: 80, overlap: 12 };
// aMin 40: the smoothed sources cover ~150 px above τ*; smoothed noise peaks cover ~10 px.
const TBD: TbdOptions = { deltaMax: 3, aMin: 40, centre: 'centroid', stopRule: 'first-exceed' };

describe('catalogue from tiled inference', () => {
  const plan = planTiles(WIDTH, HEIGHT, TILING);
  // Seams: core boundaries between columns 0|1 and 2|3, rows 1|2; one source on a four-tile corner.
  const seamX = plan.tiles[1].core.x0;
  const seamX2 = plan.tiles[3].core.x0;
  const seamY = plan.tiles[2 * plan.columns].core.y0;
  const seamSources: Array<[number, number, number]> = [
    [seamX, 40, 40], // on a vertical seam
    [seamX2 - 0.5, seamY - 0.5, 35], // on a four-tile corner, straddling all four cores
    [235, seamY, 30], // on a horizontal seam
  ];
  const otherSources: Array<[number, number, number]> = [
    [20, 20, 50], [250, 30, 45], [200, 200, 40], [60, 230, 35], [280, 240, 30],
  ];
  const image = syntheticImage(WIDTH, HEIGHT, 77, [...seamSources, ...otherSources]);

  it('plans several tiles so that the sources really sit on seams', () => {
    expect(plan.columns).toBeGreaterThanOrEqual(4);
    expect(plan.rows).toBeGreaterThanOrEqual(3);
  });

  it('equals the whole-image catalogue and finds each seam source exactly once (serial and pooled)', async () => {
    const runtime = await createSmoothRuntime();
    const whole = await runtime.infer(normaliseInput(image, 1));
    const serial = await runTiledInference(image, { imageId: 'seams', noiseSigma: 1, tiling: TILING, executor: createSerialExecutor(runtime) });
    const pool = createTilePool({
      runtimeModule: SMOOTH_MODULE, runtimeExport: 'createSmoothRuntime', modelDir: '', workers: 2, maxQueue: 2,
    });
    let pooled;
    try {
      pooled = await runTiledInference(image, { imageId: 'seams', noiseSigma: 1, tiling: TILING, executor: pool });
    } finally {
      await pool.close();
    }
    expect(maxAbsDiff(serial.output.data, whole.data)).toBe(0);
    expect(maxAbsDiff(pooled.output.data, whole.data)).toBe(0);

    const fromWhole = thresholdedBlobDetection(whole, TBD).blobs;
    const fromTiles = thresholdedBlobDetection(pooled.output, TBD).blobs;
    expect(fromTiles.count).toBe(fromWhole.count);
    expect(Array.from(fromTiles.x)).toEqual(Array.from(fromWhole.x));
    expect(Array.from(fromTiles.y)).toEqual(Array.from(fromWhole.y));
    expect(Array.from(fromTiles.area)).toEqual(Array.from(fromWhole.area));

    // Every injected source is found exactly once within 2 px; nothing else is found.
    expect(fromTiles.count).toBe(seamSources.length + otherSources.length);
    for (const [sx, sy] of [...seamSources, ...otherSources]) {
      let matches = 0;
      for (let i = 0; i < fromTiles.count; i++) if (Math.hypot(fromTiles.x[i] - sx, fromTiles.y[i] - sy) < 2) matches++;
      expect({ source: [sx, sy], matches }).toEqual({ source: [sx, sy], matches: 1 });
    }
  });
});
