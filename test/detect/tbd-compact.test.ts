/**
 * Issue 5: the compact sweep (one Int32 per pixel, a bounded level-sorted order buffer refilled by
 * scans of the map) must give bit-identical results to the sweep it replaced, kept verbatim in
 * tbd-reference.ts. Tiny order buffers force every chunked path: level groups, a level split into
 * raster pieces, rescans for the measurement pass and for createTbdSweep's incremental rebuilds.
 */
import fc from 'fast-check';
import type { Image } from '../../src/core/image';
import { createTbdSweep, defaultBandRows, defaultOrderCapacity, resolveTbdOptions, tbdCore, type CentreMethod, type StopRule, type TbdOptions } from '../../src/detect/tbd';
import * as reference from './tbd-reference';

/** Everything a result carries, as plain arrays (exact comparison, NaN-safe through toEqual). */
function flat(result: { blobs: reference.BlobColumns; sweep: { thresholds: Float64Array; counts: Int32Array; chosenIndex: number; threshold: number; activePixels: number } }) {
  const b = result.blobs;
  return {
    count: b.count,
    x: Array.from(b.x),
    y: Array.from(b.y),
    area: Array.from(b.area),
    cnnPeak: Array.from(b.cnnPeak),
    peakX: Array.from(b.peakX),
    peakY: Array.from(b.peakY),
    touchesEdge: Array.from(b.touchesEdge),
    thresholds: Array.from(result.sweep.thresholds),
    counts: Array.from(result.sweep.counts),
    chosenIndex: result.sweep.chosenIndex,
    threshold: result.sweep.threshold,
    activePixels: result.sweep.activePixels,
  };
}

/** Maps with plateaus (many equal values: peak ties), blanks, negatives and smooth bumps. */
const mapArb = fc
  .record({ width: fc.integer({ min: 1, max: 20 }), height: fc.integer({ min: 1, max: 20 }), seed: fc.integer({ min: 1, max: 1 << 30 }) })
  .map(({ width, height, seed }) => {
    let state = seed;
    const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const data = new Float32Array(width * height);
    const quantise = rand() < 0.3; // plateaus: equal values, so peak ties are decided by order
    for (let i = 0; i < data.length; i++) {
      const r = rand();
      data[i] = r < 0.05 ? NaN : r < 0.1 ? -rand() : rand() * 0.3;
    }
    for (let b = 0; b < 4; b++) {
      const cx = rand() * width;
      const cy = rand() * height;
      const a = 1 + 20 * rand();
      for (let i = 0; i < data.length; i++) {
        if (Number.isNaN(data[i])) continue;
        data[i] += a * Math.exp(-(((i % width) - cx) ** 2 + (Math.floor(i / width) - cy) ** 2) / (1 + 6 * rand()));
      }
    }
    if (quantise) for (let i = 0; i < data.length; i++) data[i] = Math.round(data[i] * 4) / 4;
    return { data, width, height } as Image;
  });

const optionsArb = fc.record({
  deltaMax: fc.integer({ min: -1, max: 8 }),
  aMin: fc.integer({ min: 0, max: 5 }),
  centre: fc.constantFrom<CentreMethod>('mean', 'centroid', 'peak'),
  stopRule: fc.constantFrom<StopRule>('closest', 'first-exceed'),
  connectivity: fc.constantFrom<4 | 8>(4, 8),
  levelsPerDecade: fc.integer({ min: 1, max: 12 }),
  decades: fc.integer({ min: 1, max: 4 }),
});

describe('compact TBD sweep equals the previous implementation bit for bit', () => {
  test('every result field, for any order-buffer capacity (property)', () => {
    fc.assert(
      fc.property(mapArb, optionsArb, fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 22 }), (map, options: TbdOptions, capacity, bandRows) => {
        const expected = flat(reference.thresholdedBlobDetection(map, options));
        const resolved = resolveTbdOptions(options);
        expect(flat(tbdCore(map, resolved, { orderCapacity: capacity }))).toEqual(expected);
        expect(flat(tbdCore(map, resolved))).toEqual(expected);
        // the banded count pass (bands of 1..22 rows; 0 = the whole-map pass)
        expect(flat(tbdCore(map, resolved, { orderCapacity: capacity, bandRows }))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  test('createTbdSweep with a tiny buffer: same as the reference for parameter sets in any order', () => {
    fc.assert(
      fc.property(mapArb, fc.array(optionsArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 9 }), (map, sets, capacity, bandRows) => {
        const sweepOptions = { levelsPerDecade: 5, decades: 3, connectivity: 8 as const };
        const handle = createTbdSweep(map, sweepOptions, { orderCapacity: capacity, bandRows });
        for (const s of sets) {
          const p = { deltaMax: s.deltaMax, aMin: s.aMin, centre: s.centre, stopRule: s.stopRule };
          const expected = flat(reference.createTbdSweep(map, sweepOptions).detect(p));
          expect(flat(handle.detect(p))).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('a level larger than the buffer is split in raster pieces (one flat level, one blob)', () => {
    // 30×30 plateau at 1 plus one bright pixel: level 0 = 1 pixel, the plateau's level = 899 pixels.
    const data = new Float32Array(900).fill(1);
    data[455] = 5;
    const map: Image = { data, width: 30, height: 30 };
    const options = resolveTbdOptions({ levelsPerDecade: 2, decades: 1, aMin: 1, deltaMax: 0 });
    for (const capacity of [1, 7, 100, 898, 899, 900]) {
      const got = flat(tbdCore(map, options, { orderCapacity: capacity }));
      expect(got).toEqual(flat(reference.thresholdedBlobDetection(map, options)));
      expect(got.activePixels).toBe(900);
    }
  });

  test('banded count pass: N(τ) of every level equals the reference for any band height, 4- and 8-connected (property)', () => {
    fc.assert(
      fc.property(mapArb, fc.integer({ min: 1, max: 25 }), fc.constantFrom<4 | 8>(4, 8), fc.integer({ min: 1, max: 20 }), (map, bandRows, connectivity, levelsPerDecade) => {
        const options: TbdOptions = { connectivity, levelsPerDecade, decades: 3, stopRule: 'closest' };
        const expected = reference.thresholdedBlobDetection(map, options).sweep.counts;
        expect(Array.from(tbdCore(map, resolveTbdOptions(options), { bandRows }).sweep.counts)).toEqual(Array.from(expected));
      }),
      { numRuns: 200 },
    );
  });

  test('default band height: bands of ~2^18 pixels, at least 64 rows, only for maps of 2^20 pixels and two bands', () => {
    expect(defaultBandRows(4096, 4096)).toBe(64);
    expect(defaultBandRows(16384, 16384)).toBe(64);
    expect(defaultBandRows(1024, 1024)).toBe(256);
    expect(defaultBandRows(1000, 1000)).toBe(0); // under 2^20 pixels: one pass
    expect(defaultBandRows(1 << 20, 40)).toBe(0); // fewer than two bands
  });

  test('default buffer: every active pixel up to 2^24, then 2^24 or a sixteenth', () => {
    expect(defaultOrderCapacity(0)).toBe(1);
    expect(defaultOrderCapacity(1000)).toBe(1000);
    expect(defaultOrderCapacity(1 << 24)).toBe(1 << 24);
    expect(defaultOrderCapacity((1 << 24) + 1)).toBe(1 << 24);
    expect(defaultOrderCapacity(263_000_000)).toBe(1 << 24);
    expect(defaultOrderCapacity(2 ** 30)).toBe(2 ** 26);
  });
});
