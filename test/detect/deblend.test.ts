import type { Image } from '../../src/core/image';
import { UserInputError } from '../../src/core/errors';
import { createTbdSweep, resolveTbdOptions, thresholdedBlobDetection, type TbdOptions } from '../../src/detect/tbd';
import { parseTbdParams } from '../../src/detect/tbd-params';

function img(rows: number[][]): Image {
  return { data: Float32Array.from(rows.flat()), width: rows[0].length, height: rows.length };
}

// One row, hand-worked. Thresholds 50, 5, 0.5 (max · 10^−k, levelsPerDecade 1, decades 2); Δmax
// (1e9) with the 'first-exceed' rule never stops before the last level, so τ* = 0.5 and all five pixels
// are one blob. Activation by decreasing value: 50 (x=0), 40 joins it, 30 (x=3) starts a second
// component, 20 joins that, and 2 (x=2) is the saddle where the two meet:
//   left branch  {x=0, 1}: area 2, flux above τ* 49.5 + 39.5 = 89, mean x 0.5, peak 50 at x=0
//   right branch {x=3, 4}: area 2, flux 29.5 + 19.5 = 49, mean x 3.5, peak 30 at x=3
//   whole blob: area 5, flux 89 + 49 + 1.5 = 139.5, mean x 2; right share 49/139.5 = 0.351
const ROW = img([[50, 40, 2, 30, 20]]);
const AT_LOWEST: TbdOptions = { levelsPerDecade: 1, decades: 2, stopRule: 'first-exceed', deltaMax: 1e9 };

describe('deblending (beyond the paper)', () => {
  test('off (0, the default): one source per blob, as in section 4.2', () => {
    const { blobs, sweep } = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 1 });
    expect(sweep.threshold).toBe(0.5);
    expect(blobs.count).toBe(1);
    expect(blobs.x[0]).toBe(2);
    expect(blobs.area[0]).toBe(5);
  });

  test('splits at the saddle when both branches hold >= Amin px and >= contrast of the flux', () => {
    const { blobs } = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 2, deblend: 0.3 });
    expect(blobs.count).toBe(2);
    // ordered by decreasing CNN peak; the saddle pixel belongs to neither branch
    expect(Array.from(blobs.x)).toEqual([0.5, 3.5]);
    expect(Array.from(blobs.area)).toEqual([2, 2]);
    expect(Array.from(blobs.cnnPeak)).toEqual([50, 30]);
    expect(Array.from(blobs.peakX)).toEqual([0, 3]);
    const peak = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 2, deblend: 0.3, centre: 'peak' }).blobs;
    expect(Array.from(peak.x)).toEqual([0, 3]);
    const centroid = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 2, deblend: 0.3, centre: 'centroid' }).blobs;
    expect(centroid.x[0]).toBeCloseTo(40 / 90, 12); // (50·0 + 40·1) / 90
    expect(centroid.x[1]).toBeCloseTo((30 * 3 + 20 * 4) / 50, 12);
  });

  test('keeps the blob whole when the fainter branch is below the contrast or Amin', () => {
    const low = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 2, deblend: 0.36 }).blobs; // 0.351 < 0.36
    expect(low.count).toBe(1);
    expect(low.x[0]).toBe(2);
    expect(low.area[0]).toBe(5);
    const small = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 3, deblend: 0.01 }).blobs; // branches of 2 px
    expect(small.count).toBe(1);
    expect(small.area[0]).toBe(5);
  });

  test('two Gaussians merged at τ*: deblended positions are within a pixel of the true ones', () => {
    const width = 40;
    const height = 21;
    const data = new Float32Array(width * height);
    const sources = [
      { x: 12.3, y: 10.2, a: 1 },
      { x: 23.6, y: 9.7, a: 0.6 },
    ];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (const s of sources) data[y * width + x] += s.a * Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * 3 ** 2));
      }
    }
    const map: Image = { data, width, height };
    const options: TbdOptions = { levelsPerDecade: 10, decades: 2, stopRule: 'first-exceed', deltaMax: 1e9, aMin: 5, floor: 0.05 };
    const whole = thresholdedBlobDetection(map, options).blobs;
    expect(whole.count).toBe(1); // one blob at τ* = 0.05: the sources are 3.8 σ apart
    const split = thresholdedBlobDetection(map, { ...options, deblend: 0.05 }).blobs;
    expect(split.count).toBe(2);
    for (const [j, s] of sources.entries()) {
      // branches stop at the saddle, so the mean is pulled a little away from it; the peak is exact
      expect(Math.hypot(split.x[j] - s.x, split.y[j] - s.y)).toBeLessThan(1);
      expect(split.peakX[j]).toBe(Math.round(s.x));
    }
    // the single-Gaussian blob is never split, whatever the contrast
    const one = { data: new Float32Array(width * height), width, height };
    for (let p = 0; p < data.length; p++) one.data[p] = Math.exp(-(((p % width) - 20) ** 2 + (Math.floor(p / width) - 10) ** 2) / 18);
    for (const deblend of [1e-6, 0.01, 0.5]) expect(thresholdedBlobDetection(one, { ...options, deblend }).blobs.count).toBe(1);
  });

  test('blank pixels stay outside every branch, and a branch next to one is flagged', () => {
    const map = img([
      [0, 0, 0, 0, 0, 0],
      [0, 50, 40, 2, 30, NaN],
      [0, 0, 0, 0, 20, 0],
      [0, 0, 0, 0, 0, 0],
    ]);
    const { blobs } = thresholdedBlobDetection(map, { ...AT_LOWEST, aMin: 2, deblend: 0.3 });
    expect(blobs.count).toBe(2);
    expect(Array.from(blobs.area)).toEqual([2, 2]);
    expect([blobs.x[1], blobs.y[1]]).toEqual([4, 1.5]); // {(4,1), (4,2)}: the NaN at (5,1) is not part of it
    expect(Array.from(blobs.touchesEdge)).toEqual([0, 1]);
  });

  test('the tuning sweep handle gives the same deblended blobs as a direct run', () => {
    const handle = createTbdSweep(ROW, { levelsPerDecade: 1, decades: 2 });
    for (const deblend of [0, 0.1, 0.3, 0.4]) {
      const via = handle.detect({ deltaMax: 1e9, stopRule: 'first-exceed', aMin: 2, deblend }).blobs;
      const direct = thresholdedBlobDetection(ROW, { ...AT_LOWEST, aMin: 2, deblend }).blobs;
      expect(via).toEqual(direct);
    }
  });

  test('a bad contrast is a one-line error naming it; tbd.json carries it', () => {
    for (const bad of [-0.1, 1, Number.NaN]) {
      expect(() => resolveTbdOptions({ deblend: bad })).toThrow(UserInputError);
      expect(() => resolveTbdOptions({ deblend: bad })).toThrow(/deblend/);
    }
    expect(parseTbdParams('{"deltaMax": 50, "deblend": 0.02}', 'tbd.json').deblend).toBe(0.02);
    expect(() => parseTbdParams('{"deblend": 2}', 'x/tbd.json')).toThrow(/x\/tbd\.json: .*deblend/);
  });
});
