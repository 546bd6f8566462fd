import fc from 'fast-check';
import type { Image } from '../../src/core/image';
import { UserInputError } from '../../src/core/errors';
import {
  chooseLevel,
  createTbdSweep,
  DEFAULT_TBD_OPTIONS,
  resolveTbdOptions,
  sweepThresholds,
  thresholdedBlobDetection,
  type TbdOptions,
} from '../../src/detect/tbd';

function img(rows: number[][]): Image {
  const height = rows.length;
  const width = rows[0].length;
  return { data: Float32Array.from(rows.flat()), width, height };
}

// A 7×3 map, hand-worked. With levelsPerDecade 1 and decades 2 the thresholds are 100, 10, 1.
//   level 0 (≥100): (0,0)                                  → N = 1
//   level 1 (≥10):  + (1,0)=20 joins it, (5,0)=30, (3,2)=15 → N = 3
//   level 2 (≥1):   + (3,0)=5, (0,2)=2, (6,2)=1, all alone  → N = 6
const MAP = img([
  [100, 20, 0, 5, 0, 30, 0],
  [0, 0, 0, 0, 0, 0, 0],
  [2, 0, 0, 15, 0, 0, 1],
]);
const SWEEP: TbdOptions = { levelsPerDecade: 1, decades: 2, aMin: 1 };

describe('thresholdedBlobDetection on a hand-worked map', () => {
  test('the sweep counts N(τ) at every level', () => {
    const result = thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 3 });
    expect(Array.from(result.sweep.thresholds)).toEqual([100, 10, 1]);
    expect(Array.from(result.sweep.counts)).toEqual([1, 3, 6]);
    expect(result.sweep.activePixels).toBe(7);
  });

  test('closest rule picks the level whose ΔN is nearest Δmax (ΔN = 2, 3)', () => {
    expect(thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2 }).sweep.threshold).toBe(10);
    expect(thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 3 }).sweep.threshold).toBe(1);
    // |2−1| < |3−1|: level 1
    expect(thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 1 }).sweep.threshold).toBe(10);
    // tie |2−2.5| = |3−2.5|: the first one in the sweep wins
    expect(thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2.5 }).sweep.threshold).toBe(10);
  });

  test('closest rule stops at the first approach to Δmax, not a later one where ΔN falls back as blobs merge', () => {
    // ΔN = 10, 2566, 3389, 5775, 3265: rises past Δmax = 3200 at level 3, peaks, falls back through it.
    const counts = [0, 10, 2576, 5965, 11740, 15005];
    expect(chooseLevel(counts, 3200, 'closest')).toBe(3); // |3389 − 3200| = 189 < |2566 − 3200| = 634
    expect(chooseLevel(counts, 3000, 'closest')).toBe(3); // 389 < 434
    expect(chooseLevel(counts, 2700, 'closest')).toBe(2); // 134 < 689
    // never reached: the closest over the whole sweep
    expect(chooseLevel(counts, 9000, 'closest')).toBe(4);
  });

  test("first-exceed rule (authors' code) stops when ΔN > Δmax and keeps the previous level", () => {
    const rule = { ...SWEEP, stopRule: 'first-exceed' as const };
    expect(thresholdedBlobDetection(MAP, { ...rule, deltaMax: 1 }).sweep.threshold).toBe(100);
    expect(thresholdedBlobDetection(MAP, { ...rule, deltaMax: 2 }).sweep.threshold).toBe(10);
    // never exceeded: the sweep runs to its lowest level
    expect(thresholdedBlobDetection(MAP, { ...rule, deltaMax: 3 }).sweep.threshold).toBe(1);
    // stopped early: levels after the stop are not counted
    expect(Array.from(thresholdedBlobDetection(MAP, { ...rule, deltaMax: 1 }).sweep.counts)).toEqual([1, 3, -1]);
  });

  test('blobs at τ* = 10 with the three centre definitions (eqs. 4–6)', () => {
    const mean = thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2, centre: 'mean' }).blobs;
    expect(mean.count).toBe(3);
    // ordered by decreasing CNN peak: 100, 30, 15
    expect(Array.from(mean.cnnPeak)).toEqual([100, 30, 15]);
    expect(Array.from(mean.area)).toEqual([2, 1, 1]);
    expect(Array.from(mean.x)).toEqual([0.5, 5, 3]);
    expect(Array.from(mean.y)).toEqual([0, 0, 2]);
    expect(Array.from(mean.peakX)).toEqual([0, 5, 3]);
    expect(Array.from(mean.peakY)).toEqual([0, 0, 2]);
    // all three touch the image border (rows 0 and 2 of a 3-row map)
    expect(Array.from(mean.touchesEdge)).toEqual([1, 1, 1]);

    const centroid = thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2, centre: 'centroid' }).blobs;
    expect(centroid.x[0]).toBeCloseTo(20 / 120, 14); // (100·0 + 20·1) / 120
    expect(centroid.y[0]).toBe(0);

    const peak = thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2, centre: 'peak' }).blobs;
    expect(Array.from(peak.x)).toEqual([0, 5, 3]);
  });

  test('the area cut Amin drops small blobs after τ* is chosen', () => {
    const result = thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2, aMin: 2 });
    expect(result.sweep.counts[1]).toBe(3); // N(τ) counts every blob
    expect(result.blobs.count).toBe(1);
    expect(result.blobs.area[0]).toBe(2);
  });

  test('the input map is not modified', () => {
    const before = MAP.data.slice();
    thresholdedBlobDetection(MAP, { ...SWEEP, deltaMax: 2 });
    expect(MAP.data).toEqual(before);
  });
});

describe('connectivity, merging and blanks', () => {
  const diagonal = img([
    [9, 0, 0],
    [0, 8, 0],
    [0, 0, 0],
  ]);
  test('8-connectivity joins diagonal pixels, 4-connectivity does not', () => {
    const opts = { levelsPerDecade: 1, decades: 1, aMin: 1, stopRule: 'first-exceed' as const, deltaMax: 10 };
    expect(thresholdedBlobDetection(diagonal, { ...opts, connectivity: 8 }).blobs.count).toBe(1);
    expect(thresholdedBlobDetection(diagonal, { ...opts, connectivity: 4 }).blobs.count).toBe(2);
  });

  test('blobs merging lowers N(τ) (negative ΔN)', () => {
    const result = thresholdedBlobDetection(img([[10, 1, 10]]), { levelsPerDecade: 1, decades: 1, aMin: 1, deltaMax: 5, stopRule: 'first-exceed' });
    expect(Array.from(result.sweep.counts)).toEqual([2, 1]);
    expect(result.blobs.count).toBe(1);
    expect(result.blobs.x[0]).toBe(1);
  });

  test('NaN pixels never join or become blobs', () => {
    const result = thresholdedBlobDetection(img([[5, NaN, 5, 0]]), { levelsPerDecade: 1, decades: 1, aMin: 1, deltaMax: 0 });
    expect(result.blobs.count).toBe(2);
    expect(Array.from(result.blobs.x).sort()).toEqual([0, 2]);
    const nanPeak = thresholdedBlobDetection(img([[NaN, 3, 0, NaN]]), { aMin: 1 });
    expect(nanPeak.blobs.count).toBe(1);
    expect(nanPeak.blobs.x[0]).toBe(1);
  });

  test('touchesEdge marks blobs next to the border or a blank pixel only', () => {
    const map = img([
      [0, 0, 0, 0, 0, 0],
      [0, 9, 0, 0, 9, NaN],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 9, 0, 0, 0],
      [9, 0, 0, 0, 0, 0],
    ]);
    const blobs = thresholdedBlobDetection(map, { aMin: 1, deltaMax: 0, levelsPerDecade: 1, decades: 1 }).blobs;
    expect(blobs.count).toBe(4);
    const byPosition = new Map(Array.from({ length: 4 }, (_, i) => [`${blobs.x[i]},${blobs.y[i]}`, blobs.touchesEdge[i]]));
    expect(Object.fromEntries(byPosition)).toEqual({ '1,1': 0, '4,1': 1, '2,3': 0, '0,4': 1 });
  });

  test('infinite pixels are treated as blank', () => {
    const result = thresholdedBlobDetection(img([[Infinity, 0, 4, 0]]), { aMin: 1, deltaMax: 0 });
    expect(result.blobs.count).toBe(1);
    expect(result.blobs.x[0]).toBe(2);
  });
});

describe('nothing to find is a result', () => {
  test.each([
    ['all zero', img([[0, 0], [0, 0]])],
    ['flat positive', img([[3, 3], [3, 3]])],
    ['all negative', img([[-1, -2], [-3, -1]])],
    ['all blank', img([[NaN, NaN]])],
    ['zero size', { data: new Float32Array(0), width: 0, height: 0 }],
  ])('%s map gives an empty result', (_name, map) => {
    const result = thresholdedBlobDetection(map as Image);
    expect(result.blobs.count).toBe(0);
    expect(result.blobs.x.length).toBe(0);
    expect(result.sweep.chosenIndex).toBe(-1);
    expect(result.sweep.threshold).toBeNaN();
  });
});

describe('options and input checks', () => {
  test('defaults are the paper 4.3 values', () => {
    expect(DEFAULT_TBD_OPTIONS.deltaMax).toBe(100);
    expect(DEFAULT_TBD_OPTIONS.aMin).toBe(10);
    expect(DEFAULT_TBD_OPTIONS.centre).toBe('mean');
    expect(Object.isFrozen(DEFAULT_TBD_OPTIONS)).toBe(true);
  });

  test('undefined fields fall back to defaults', () => {
    expect(resolveTbdOptions({ deltaMax: undefined, aMin: 3 })).toMatchObject({ deltaMax: 100, aMin: 3 });
  });

  test.each([
    [{ deltaMax: NaN }, /deltaMax must be a finite number, got NaN/],
    [{ aMin: -1 }, /aMin must be a number >= 0 \(pixels\), got -1/],
    [{ centre: 'median' as never }, /centre must be one of mean\|centroid\|peak, got "median"/],
    [{ stopRule: 'never' as never }, /stopRule must be one of closest\|first-exceed/],
    [{ levelsPerDecade: 0 }, /levelsPerDecade must be > 0, got 0/],
    [{ connectivity: 6 as never }, /connectivity must be 4 or 8, got 6/],
  ])('rejects %p', (options, message) => {
    expect(() => thresholdedBlobDetection(MAP, options)).toThrow(UserInputError);
    expect(() => thresholdedBlobDetection(MAP, options)).toThrow(message);
  });

  test('rejects a map whose data does not match its shape', () => {
    expect(() => thresholdedBlobDetection({ data: new Float32Array(5), width: 2, height: 2 })).toThrow(
      /data length must be width × height = 4, got 5/,
    );
  });

  test('sweepThresholds spaces levels logarithmically from the maximum down to the floor', () => {
    const levels = sweepThresholds(8, resolveTbdOptions({ levelsPerDecade: 2, decades: 1 }));
    expect(levels.length).toBe(3);
    expect(levels[0]).toBe(8);
    expect(levels[1]).toBeCloseTo(8 / Math.sqrt(10), 12);
    expect(levels[2]).toBeCloseTo(0.8, 12);
    // an absolute floor above max·10^−decades shortens the sweep
    expect(sweepThresholds(8, resolveTbdOptions({ levelsPerDecade: 2, decades: 1, floor: 2 })).length).toBe(2);
  });

  test('chooseLevel on hand-made counts', () => {
    expect(chooseLevel([1, 5, 40, 160, 90], 100, 'closest')).toBe(3); // ΔN: 4, 35, 120, −70
    expect(chooseLevel([1, 5, 40, 160, 90], 100, 'first-exceed')).toBe(2);
    expect(chooseLevel([1, 5, 40], 100, 'first-exceed')).toBe(2);
    expect(chooseLevel([4], 100, 'closest')).toBe(0);
    expect(chooseLevel([], 100, 'closest')).toBe(-1);
  });
});

/** Naive reference: flood-fill labelling of {v ≥ τ} from scratch (what TBD must agree with). */
function naiveBlobs(map: Image, tau: number, eight: boolean): { area: number; sx: number; sy: number; peak: number }[] {
  const { data, width, height } = map;
  const seen = new Uint8Array(width * height);
  const blobs: { area: number; sx: number; sy: number; peak: number }[] = [];
  for (let start = 0; start < data.length; start++) {
    if (seen[start] || !(data[start] >= tau) || !Number.isFinite(data[start])) continue;
    const stack = [start];
    seen[start] = 1;
    const blob = { area: 0, sx: 0, sy: 0, peak: -Infinity };
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = Math.floor(p / width);
      blob.area++;
      blob.sx += x;
      blob.sy += y;
      blob.peak = Math.max(blob.peak, data[p]);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (!eight && dx !== 0 && dy !== 0)) continue;
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (!seen[q] && data[q] >= tau && Number.isFinite(data[q])) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    blobs.push(blob);
  }
  return blobs;
}

describe('agrees with relabelling from scratch at every level (property)', () => {
  const mapArb = fc
    .record({ width: fc.integer({ min: 1, max: 12 }), height: fc.integer({ min: 1, max: 12 }) })
    .chain(({ width, height }) =>
      fc.record({
        width: fc.constant(width),
        height: fc.constant(height),
        values: fc.array(
          fc.oneof(
            { weight: 8, arbitrary: fc.float({ min: 0, max: 100, noNaN: true }) },
            { weight: 1, arbitrary: fc.constant(NaN) },
            { weight: 1, arbitrary: fc.float({ min: -5, max: 0, noNaN: true }) },
          ),
          { minLength: width * height, maxLength: width * height },
        ),
      }),
    );

  test('N(τ) and the blobs at τ*', () => {
    fc.assert(
      fc.property(mapArb, fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.constantFrom('closest', 'first-exceed'), (m, eight, deltaMax, rule) => {
        const map: Image = { data: Float32Array.from(m.values), width: m.width, height: m.height };
        const result = thresholdedBlobDetection(map, {
          levelsPerDecade: 3,
          decades: 2,
          aMin: 2,
          deltaMax,
          stopRule: rule as 'closest' | 'first-exceed',
          connectivity: eight ? 8 : 4,
        });
        const { thresholds, counts, chosenIndex } = result.sweep;
        for (let k = 0; k < thresholds.length; k++) {
          if (counts[k] < 0) break;
          expect(counts[k]).toBe(naiveBlobs(map, thresholds[k], eight).length);
        }
        if (chosenIndex < 0) {
          expect(result.blobs.count).toBe(0);
          return;
        }
        const expected = naiveBlobs(map, thresholds[chosenIndex], eight)
          .filter((b) => b.area >= 2)
          .map((b) => [b.area, b.sx / b.area, b.sy / b.area, Math.fround(b.peak)])
          .sort((a, b) => a[1] - b[1] || a[2] - b[2]);
        const got = Array.from({ length: result.blobs.count }, (_, i) => [
          result.blobs.area[i],
          result.blobs.x[i],
          result.blobs.y[i],
          result.blobs.cnnPeak[i],
        ]).sort((a, b) => a[1] - b[1] || a[2] - b[2]);
        expect(got.length).toBe(expected.length);
        for (let i = 0; i < got.length; i++) {
          expect(got[i][0]).toBe(expected[i][0]);
          expect(got[i][1]).toBeCloseTo(expected[i][1], 12);
          expect(got[i][2]).toBeCloseTo(expected[i][2], 12);
          expect(got[i][3]).toBe(expected[i][3]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('createTbdSweep (one sweep, many parameter sets, for tuning)', () => {
  test('gives the same result as thresholdedBlobDetection for every parameter set, in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.record({ deltaMax: fc.integer({ min: 0, max: 8 }), aMin: fc.integer({ min: 1, max: 4 }), centre: fc.constantFrom('mean', 'centroid', 'peak'), stopRule: fc.constantFrom('closest', 'first-exceed') }), { minLength: 1, maxLength: 6 }),
        (seed, paramSets) => {
          // a 24×20 map of smooth bumps plus noise, deterministic per seed
          let state = seed;
          const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
          const data = new Float32Array(24 * 20);
          for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 0.5;
          for (let b = 0; b < 5; b++) {
            const cx = rand() * 24, cy = rand() * 20, a = 2 + 8 * rand();
            for (let i = 0; i < data.length; i++) data[i] += a * Math.exp(-(((i % 24) - cx) ** 2 + (Math.floor(i / 24) - cy) ** 2) / 4);
          }
          const map: Image = { data, width: 24, height: 20 };
          const sweepOptions = { levelsPerDecade: 4, decades: 2 };
          const handle = createTbdSweep(map, sweepOptions);
          for (const p of paramSets) {
            const options = { ...sweepOptions, ...p } as TbdOptions;
            const expected = thresholdedBlobDetection(map, options);
            const got = handle.detect(p as TbdOptions);
            expect(got.sweep.chosenIndex).toBe(expected.sweep.chosenIndex);
            expect(Array.from(got.sweep.counts)).toEqual(Array.from(expected.sweep.counts));
            expect(got.blobs).toEqual(expected.blobs);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test('an empty map gives empty results', () => {
    const handle = createTbdSweep(img([[0, 0], [0, 0]]));
    expect(handle.counts.length).toBe(0);
    expect(handle.detect({ deltaMax: 5 }).blobs.count).toBe(0);
  });
});
