import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFits } from '../../src/fits/read';
import { writeFitsImage } from '../../src/fits/write';
import { normaliseInput } from '../../src/model/normalise';
import { createSerialExecutor } from '../../src/tiling/pool';
import { runTiledInference, sampleRows, type RowSource } from '../../src/tiling/stitch';
import { planTiles } from '../../src/tiling/plan';
import { CONV_RADIUS, createConvRuntime, maxAbsDiff, syntheticImage } from './helpers';
import type { Image } from '../../src/core/image';

const SIGMA = 1;

async function wholeImageInference(image: Image): Promise<Float32Array> {
  const runtime = await createConvRuntime('');
  return (await runtime.infer(normaliseInput(image, SIGMA))).data;
}

/** A FitsFile look-alike that records every readRows call. */
function recordingSource(image: Image): RowSource & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  return {
    width: image.width,
    height: image.height,
    calls,
    async readRows(y0, y1) {
      calls.push([y0, y1]);
      return image.data.slice(y0 * image.width, y1 * image.width);
    },
  };
}

describe('runTiledInference (serial path)', () => {
  it('has a test CNN whose receptive-field radius is the 12 px the plan assumes', () => {
    expect(CONV_RADIUS).toBe(12);
  });

  it.each([
    [203, 157, 64, 12], // odd sizes, not multiples of the tile
    [150, 130, 50, 12], // many small tiles
    [97, 211, 80, 16],
    [40, 33, 1024, 16], // smaller than one tile
  ])('stitched output of %i×%i (tile %i, overlap %i) equals whole-image inference', async (width, height, tile, overlap) => {
    const image = syntheticImage(width, height, width * 7 + height, [[width / 2, height / 2, 30], [3, 5, 12]]);
    const before = image.data.slice();
    const whole = await wholeImageInference(image);
    const executor = createSerialExecutor(await createConvRuntime(''));
    const warnings: string[] = [];
    const result = await runTiledInference(image, {
      imageId: 'synthetic', noiseSigma: SIGMA, executor, tiling: { tile, overlap }, onWarning: (w) => warnings.push(w),
    });
    // A tile larger than the image is clamped, and the caller hears about it.
    expect(warnings.length > 0).toBe(tile > width || tile > height);
    if (warnings.length) expect(warnings[0]).toMatch(/^synthetic: tile 1024 px is larger than the 40×33 image; clamped to 40×33$/);
    // Same arithmetic per pixel in this pure-JS CNN, so float32 tolerance here is exact equality.
    expect(maxAbsDiff(result.output.data, whole)).toBe(0);
    expect(result.output.width).toBe(width);
    expect(result.pixelsProcessed).toBeGreaterThanOrEqual(width * height);
    expect(image.data).toEqual(before); // input untouched
  });

  it('differs from whole-image inference when the overlap is below the receptive field (control)', async () => {
    const image = syntheticImage(150, 130, 5, [[75, 65, 30]]);
    const whole = await wholeImageInference(image);
    const executor = createSerialExecutor(await createConvRuntime(''));
    // planTiles itself does not enforce the minimum (resolveTilingOptions does), so 11 gets through:
    // one pixel short of the receptive field already changes pixels next to the seams.
    const result = await runTiledInference(image, { imageId: 'synthetic', noiseSigma: SIGMA, executor, tiling: { tile: 50, overlap: 11 } });
    expect(maxAbsDiff(result.output.data, whole)).toBeGreaterThan(0);
  });

  it('keeps blanks (NaN) as the whole image does', async () => {
    const image = syntheticImage(120, 90, 9, [[60, 45, 20]]);
    for (let y = 0; y < 90; y++) for (let x = 0; x < 15; x++) image.data[y * 120 + x] = NaN;
    image.data[50 * 120 + 61] = NaN;
    const whole = await wholeImageInference(image);
    const executor = createSerialExecutor(await createConvRuntime(''));
    const result = await runTiledInference(image, { imageId: 'blanks', noiseSigma: SIGMA, executor, tiling: { tile: 48, overlap: 12 } });
    expect(maxAbsDiff(result.output.data, whole)).toBe(0);
  });

  it('reads a row source strip by strip, never the whole image', async () => {
    const image = syntheticImage(160, 200, 11, [[80, 100, 25]]);
    const source = recordingSource(image);
    const executor = createSerialExecutor(await createConvRuntime(''));
    const result = await runTiledInference(source, { imageId: 'rows.fits', noiseSigma: SIGMA, executor, tiling: { tile: 64, overlap: 12 } });
    expect(maxAbsDiff(result.output.data, await wholeImageInference(image))).toBe(0);
    // One strip per tile-row, each at most a tile high.
    expect(source.calls.length).toBe(result.plan.rows);
    for (const [y0, y1] of source.calls) expect(y1 - y0).toBeLessThanOrEqual(64);
  });

  it('reads strips from a real FITS file (src/fits openFits) and matches the in-memory image', async () => {
    const image = syntheticImage(173, 141, 17, [[90, 70, 30]]);
    image.data[5] = NaN;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiling-fits-'));
    try {
      const file = path.join(dir, 'img.fits');
      await writeFitsImage(file, image, []);
      const fits = await openFits(file);
      const executor = createSerialExecutor(await createConvRuntime(''));
      const tiling = { tile: 60, overlap: 12 };
      const fromFile = await runTiledInference(fits, { imageId: file, noiseSigma: SIGMA, executor, tiling });
      await fits.close();
      const fromMemory = await runTiledInference(image, { imageId: 'mem', noiseSigma: SIGMA, executor, tiling });
      expect(maxAbsDiff(fromFile.output.data, fromMemory.output.data)).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports progress per tile and rejects a bad noise sigma', async () => {
    const image = syntheticImage(100, 100, 2);
    const executor = createSerialExecutor(await createConvRuntime(''));
    const seen: string[] = [];
    const result = await runTiledInference(image, {
      imageId: 'p', noiseSigma: SIGMA, executor, tiling: { tile: 50, overlap: 12 },
      onTile: (done, total) => seen.push(`${done}/${total}`),
    });
    expect(seen).toHaveLength(result.plan.tiles.length);
    expect(seen[seen.length - 1]).toBe(`${result.plan.tiles.length}/${result.plan.tiles.length}`);
    await expect(runTiledInference(image, { imageId: 'img.fits', noiseSigma: 0, executor, tiling: { tile: 50, overlap: 12 } }))
      .rejects.toThrow(/noise sigma for img.fits must be a positive finite number, got 0/);
  });

  it('names the rows and image when reading a strip fails, after the tiles in flight finish', async () => {
    const image = syntheticImage(100, 120, 3);
    const source = recordingSource(image);
    let reads = 0;
    const failing: RowSource = {
      width: 100,
      height: 120,
      readRows: async (y0, y1) => {
        if (++reads === 2) throw new Error('disk on fire');
        return source.readRows(y0, y1);
      },
    };
    let settled = 0;
    const inner = createSerialExecutor(await createConvRuntime(''));
    const executor = { capacity: 4, runTile: async (r: Parameters<typeof inner.runTile>[0]) => {
      try { return await inner.runTile(r); } finally { settled++; }
    }, close: async () => {} };
    const run = runTiledInference(failing, { imageId: 'cube.fits', noiseSigma: SIGMA, executor, tiling: { tile: 50, overlap: 12 } });
    await expect(run).rejects.toThrow(/^reading rows \d+\.\.\d+ of cube\.fits failed: disk on fire$/);
    // The tiles of the first strip (one tile-row) were all submitted and have all finished.
    expect(settled).toBe(planTiles(100, 120, { tile: 50, overlap: 12 }).columns);
  });

  it('names the tile and image when the serial path fails', async () => {
    const image = syntheticImage(100, 60, 2);
    const executor = createSerialExecutor({
      name: 'broken',
      infer: async () => { throw new Error('boom'); },
      dispose: async () => {},
    });
    await expect(runTiledInference(image, { imageId: 'img_007.fits', noiseSigma: SIGMA, executor, tiling: { tile: 50, overlap: 12 } }))
      .rejects.toThrow(/^tile 0 \(x 0\.\.\d+, y 0\.\.42\) of image img_007\.fits failed: boom$/);
  });
});

describe('bounded memory', () => {
  it('never sends a worker more than tile² pixels, and never exceeds the executor capacity', async () => {
    const image = syntheticImage(410, 333, 13, [[200, 160, 30]]);
    const inner = createSerialExecutor(await createConvRuntime(''));
    let inFlight = 0;
    let maxInFlight = 0;
    let maxPixels = 0;
    const recording = {
      capacity: 3,
      async runTile(request: Parameters<typeof inner.runTile>[0]) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        maxPixels = Math.max(maxPixels, request.pixels.length);
        await new Promise((resolve) => setTimeout(resolve, 1)); // let the caller try to queue more
        try {
          return await inner.runTile(request);
        } finally {
          inFlight--;
        }
      },
      close: async () => {},
    };
    const result = await runTiledInference(image, { imageId: 'big', noiseSigma: SIGMA, executor: recording, tiling: { tile: 64, overlap: 12 } });
    expect(result.plan.tiles.length).toBeGreaterThan(20);
    expect(maxPixels).toBeLessThanOrEqual(64 * 64);
    expect(maxInFlight).toBe(3);
    expect(maxAbsDiff(result.output.data, await wholeImageInference(image))).toBe(0);
  });
});

describe('sampleRows', () => {
  it('takes whole rows at a fixed stride, about the requested number of pixels', async () => {
    const image = syntheticImage(100, 1000, 4);
    const sample = await sampleRows(image, 10_000);
    expect(sample.width).toBe(100);
    expect(sample.height).toBe(100);
    expect(Array.from(sample.data.subarray(100, 200))).toEqual(Array.from(image.data.subarray(1000, 1100)));
  });
});

describe('maskBlanks (issue 5: detect masks blanks in the tile function, not with a whole-image pass)', () => {
  test('NaN exactly where the input is blank, on every tile (the tile function, which the pool runs too); untouched without the flag', async () => {
    const image = syntheticImage(150, 97, 21);
    const blank = new Set<number>();
    for (let i = 0; i < image.data.length; i += 37) {
      image.data[i] = i % 2 ? NaN : Infinity;
      blank.add(i);
    }
    const run = async (maskBlanks: boolean) => {
      const runtime = await createConvRuntime('');
      return runTiledInference(recordingSource(image), { imageId: 'm', noiseSigma: SIGMA, executor: createSerialExecutor(runtime), tiling: { tile: 64, overlap: 16 }, maskBlanks });
    };
    const masked = await run(true);
    const plain = await run(false);
    expect(masked.plan.tiles.length).toBeGreaterThan(4);
    for (let i = 0; i < image.data.length; i++) {
      if (blank.has(i)) {
        expect(masked.output.data[i]).toBeNaN();
        expect(Number.isFinite(plain.output.data[i])).toBe(true); // the CNN saw 0 there
      } else {
        expect(masked.output.data[i]).toBe(plain.output.data[i]);
      }
    }
  });
});
