/**
 * Issue 5: detect reads a FITS file as rows on demand. Every strip-wise statistic must equal its
 * in-memory counterpart exactly, and no read may span the whole image on the normal path.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { Image } from '../../src/core/image';
import type { RowSource } from '../../src/tiling/stitch';
import { createSerialExecutor } from '../../src/tiling/pool';
import { imageRowSource, sourceBorderNoiseStd, sourceNoiseSigma, STRIP_ROWS } from '../../src/detect/row-source';
import { imageNoiseSigma, detectFitsImage, detectHeaderedImage, chooseNoise, chooseNoiseFromSource } from '../../src/detect/detect-image';
import { borderNoiseStd } from '../../src/detect/local-rms';
import { catalogueRows, catalogueRowsFromSource, type NoiseModel } from '../../src/detect/catalogue-rows';
import type { BlobColumns } from '../../src/detect/tbd';
import { openFits } from '../../src/fits/read';
import { writeFitsImage } from '../../src/fits/write';
import { sinWcsCards } from '../../src/fits/wcs';
import { boxSmoothRuntime, syntheticField } from './smoothing-model';

/** A RowSource over an image that records the largest read (rows). */
function tracked(image: Image): RowSource & { maxRows: number; reads: number } {
  const inner = imageRowSource(image);
  const source = {
    width: image.width,
    height: image.height,
    maxRows: 0,
    reads: 0,
    async readRows(y0: number, y1: number) {
      source.maxRows = Math.max(source.maxRows, y1 - y0);
      source.reads++;
      // a copy, as a file read would give
      return (await inner.readRows(y0, y1)).slice();
    },
  };
  return source;
}

function randomImage(width: number, height: number, seed: number, blanks = 0.02): Image {
  let state = seed;
  const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rand() < blanks ? NaN : (rand() - 0.5) * 3 + (rand() < 0.01 ? 50 : 0);
  return { data, width, height };
}

describe('noise estimates from strips equal the in-memory ones', () => {
  test('image noise sigma: sampled (stride > 1), small, zero-padded, constant and blank images', async () => {
    const big = randomImage(1531, 1500, 7); // 2.3 M pixels: stride 3 sample
    const small = randomImage(37, 23, 8);
    const padded = randomImage(300, 300, 9);
    for (let i = 0; i < padded.data.length; i++) if (i % 300 < 200) padded.data[i] = 0; // 2/3 zeros
    const constant: Image = { data: new Float32Array(600).fill(2), width: 30, height: 20 };
    const blank: Image = { data: new Float32Array(600).fill(NaN), width: 20, height: 30 };
    for (const image of [big, small, padded, constant, blank]) {
      const source = tracked(image);
      const got = await sourceNoiseSigma(source);
      const expected = imageNoiseSigma(image);
      if (Number.isNaN(expected)) expect(got).toBeNaN();
      else expect(got).toBe(expected);
    }
    const bigSource = tracked(big);
    await sourceNoiseSigma(bigSource);
    expect(bigSource.maxRows).toBe(STRIP_ROWS); // the normal path never reads the whole image
    expect(imageNoiseSigma(padded)).toBeGreaterThan(0); // the zero-padding fallback was exercised
  });

  test('border std, for any size and border (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 200 }), fc.integer(), async (w, h, border, seed) => {
        const image = randomImage(w, h, seed);
        const got = await sourceBorderNoiseStd(tracked(image), border);
        const expected = borderNoiseStd(image, border);
        if (Number.isNaN(expected)) expect(got).toBeNaN();
        else expect(got).toBe(expected);
      }),
      { numRuns: 60 },
    );
    const header = { getNumber: (key: string) => (key === 'BORDERPX' ? 40 : undefined) } as unknown as Parameters<typeof chooseNoise>[1];
    const image = randomImage(600, 500, 3);
    const source = tracked(image);
    expect(await chooseNoiseFromSource(source, header, 'auto', 'x.fits')).toEqual(chooseNoise(image, header, 'auto', 'x.fits'));
    expect(source.maxRows).toBeLessThanOrEqual(STRIP_ROWS);
    const flat: Image = { data: new Float32Array(100).fill(1), width: 10, height: 10 };
    await expect(chooseNoiseFromSource(imageRowSource(flat), header, { estimator: 'border-std', borderPx: 2 }, 'flat.fits')).rejects.toThrow(/flat\.fits: the 2-px border has no noise/);
  });
});

describe('catalogue rows from row bands equal catalogueRows on the whole image', () => {
  test('peak_flux, local_rms, snr and flags for blobs anywhere, any band size (property)', async () => {
    const width = 90;
    const height = 140;
    const image = randomImage(width, height, 5, 0.1);
    const cnn: Image = { data: Float32Array.from(image.data, (v) => (Number.isFinite(v) ? Math.abs(v) : NaN)), width, height };
    // Tenths of a pixel (integers: fast-check's doubles crowd at the range ends), mostly inside.
    const coordinate = (size: number) => fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 10 * size - 10 }) }, { weight: 1, arbitrary: fc.integer({ min: -400, max: 10 * size + 400 }) }).map((v) => v / 10);
    const position = fc.record({ x: coordinate(width), y: coordinate(height), edge: fc.boolean() });
    const noiseArb = fc.oneof(
      fc.record({ estimator: fc.constant('mad-local-rms' as const), globalSigma: fc.constant(1.5), boxPx: fc.constantFrom(8, 13, 64, 200) }),
      fc.constant({ estimator: 'border-std' as const, sigma: 0.7 }),
    );
    const distinct = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(position, { maxLength: 25 }), noiseArb, fc.constantFrom(1, 5, 256), async (rows, noise: NoiseModel, bandRows) => {
        const blobs: BlobColumns = {
          count: rows.length,
          x: Float64Array.from(rows, (r) => r.x),
          y: Float64Array.from(rows, (r) => r.y),
          area: Int32Array.from(rows, (_, i) => 10 + i),
          cnnPeak: new Float32Array(rows.length),
          peakX: Int32Array.from(rows, (r) => Math.round(r.x)),
          peakY: Int32Array.from(rows, (r) => Math.round(r.y)),
          touchesEdge: Uint8Array.from(rows, (r) => (r.edge ? 1 : 0)),
        };
        const common = { cnn, blobs, imageId: 'img', noise, tileOf: (x: number, y: number) => x + 1000 * y };
        const expected = catalogueRows({ ...common, image });
        const source = tracked(image);
        const box = noise.estimator === 'mad-local-rms' ? noise.boxPx! : 0;
        const got = await catalogueRowsFromSource({ ...common, source, bandRows });
        expect(got.columns).toEqual(expected.columns);
        expect(got.metadata).toEqual(expected.metadata);
        if (box > 0) distinct.add((got.columns.local_rms as Float64Array).join());
        expect(source.maxRows).toBeLessThanOrEqual(Math.max(bandRows, box + 1) + 1);
      }),
      // Fixed seed: the coverage check below counts distinct cases, which a random seed made flaky
      // (about 1 run in 3 gave exactly 50).
      { numRuns: 150, seed: 20261125 },
    );
    expect(distinct.size).toBeGreaterThan(50); // the local rms really varied from case to case
  });
});

describe('detectFitsImage reads rows on demand and equals detectHeaderedImage on the whole image', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'row-source-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('same catalogue, CNN map and sweep, with blanks, MAD local rms and border noise', async () => {
    const sources = [
      { x: 30.2, y: 40.7, amplitude: 30 },
      { x: 140.5, y: 60.1, amplitude: 18 },
      { x: 90.9, y: 150.3, amplitude: 25 },
      { x: 5.5, y: 190.2, amplitude: 40 }, // near the edge: a clipped local-rms box
    ];
    const image = syntheticField(211, 197, sources, 4);
    for (let y = 0; y < 197; y++) for (let x = 180; x < 211; x++) if ((x - 200) ** 2 + (y - 20) ** 2 < 300) image.data[y * 211 + x] = NaN;
    const file = path.join(dir, 'field.fits');
    await writeFitsImage(file, image, sinWcsCards({ raDeg: 150, decDeg: -30, cdeltDeg: 1 / 3600, width: 211, height: 197 }));
    for (const noise of ['auto', { estimator: 'border-std' as const, borderPx: 20 }] as const) {
      const options = { executor: createSerialExecutor(boxSmoothRuntime()), tile: 96, overlap: 16, tbd: { deltaMax: 3, aMin: 5, stopRule: 'first-exceed' as const }, noise };
      const streamed = await detectFitsImage(file, options);
      const fits = await openFits(file);
      const whole = await fits.readImage();
      const header = fits.header;
      await fits.close();
      const inMemory = await detectHeaderedImage(whole, header, { ...options, executor: createSerialExecutor(boxSmoothRuntime()), imageId: 'field', where: file, imageName: 'field.fits', imageSha256: streamed.table.metadata['deepsource.image_sha256'] ?? '' });
      expect(streamed.table.columns.x.length).toBeGreaterThanOrEqual(3);
      expect(streamed.table.columns).toEqual(inMemory.table.columns);
      expect(Array.from(streamed.cnn.data)).toEqual(Array.from(inMemory.cnn.data));
      expect(streamed.tbd.sweep.counts).toEqual(inMemory.tbd.sweep.counts);
      // blanks stay blank in the CNN map
      for (let i = 0; i < whole.data.length; i++) if (!Number.isFinite(whole.data[i])) expect(streamed.cnn.data[i]).toBeNaN();
    }
  });
});
