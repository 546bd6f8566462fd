import type { ColumnTable } from '../../src/catalogue/table';
import { computeS90, evaluateCatalogues, type SnrBin } from '../../src/eval/metrics';
import { UserInputError } from '../../src/core/errors';

function table(columns: Record<string, number[]>): ColumnTable {
  return {
    columns: Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Float64Array.from(v)])),
    info: {},
    metadata: {},
  };
}

// Pixel scale 1 arcsec, beam 3 arcsec -> radius 2 px at 2/3 beam.
const truth = table({
  x: [10, 30, 50, 70],
  y: [10, 10, 10, 10],
  snr: [3.2, 3.3, 4.1, 5.7],
});
const detections = table({
  // matches source 0, source 1, source 2; a lone FP; a second detection near source 2 (FP).
  x: [10.5, 31, 50, 90, 51.5],
  y: [10, 10, 10.2, 90, 10],
  snr: [3.1, 3.4, 4.2, 3.2, 4.3],
});

describe('evaluateCatalogues (pixel space)', () => {
  const result = evaluateCatalogues([{ imageId: 'a', truth, detections, beamArcsec: 3, pixelScaleArcsec: 1 }], { space: 'pixel' });

  test('totals', () => {
    expect(result.images).toBe(1);
    expect(result.radius_arcsec).toBeCloseTo(2, 12);
    expect(result.totals).toEqual({ truth: 4, detections: 5, tp: 3, fp: 2, fn: 1 });
  });

  test('bins: purity by detection SNR, completeness by true SNR', () => {
    expect(result.bins).toHaveLength(20);
    const b3 = result.bins[6];
    expect([b3.snr_lo, b3.snr_hi]).toEqual([3, 3.5]);
    expect([b3.tp, b3.fp, b3.tp_true, b3.fn]).toEqual([2, 1, 2, 0]);
    expect(b3.purity).toBeCloseTo(2 / 3, 12);
    expect(b3.completeness).toBe(1);
    const b4 = result.bins[8];
    expect([b4.tp, b4.fp, b4.tp_true, b4.fn]).toEqual([1, 1, 1, 0]);
    expect(b4.purity).toBe(0.5);
    const b55 = result.bins[11];
    expect([b55.tp, b55.fp, b55.tp_true, b55.fn]).toEqual([0, 0, 0, 1]);
    expect(b55.purity).toBeNull();
    expect(b55.completeness).toBe(0);
    expect(b55.pc).toBeNull();
  });

  test('P, C, PC at 3, 4, 5: in the bin and cumulative above', () => {
    expect(result.purity['3']).toBeCloseTo(2 / 3, 12);
    expect(result.completeness['3']).toBe(1);
    expect(result.pc['3']).toBeCloseTo(2 / 3, 12);
    expect(result.purity['5']).toBeNull();
    expect(result.purity_cumulative['3']).toBeCloseTo(3 / 5, 12);
    expect(result.completeness_cumulative['3']).toBeCloseTo(3 / 4, 12);
    expect(result.pc_cumulative['3']).toBeCloseTo(0.45, 12);
    expect(result.purity_cumulative['4']).toBe(0.5);
    expect(result.completeness_cumulative['4']).toBe(0.5);
    expect(result.purity_cumulative['5']).toBeNull();
    expect(result.completeness_cumulative['5']).toBe(0);
  });

  test('S90 is never reached when the top non-empty bin fails', () => {
    expect(result.s90).toBeNull();
    expect(result.counts_above_s90).toBeNull();
  });
});

describe('evaluateCatalogues (sky space, several images)', () => {
  const deg = 1 / 3600;
  const skyTruth = table({ x: [0, 0], y: [0, 0], ra_deg: [50, 50 + 100 * deg], dec_deg: [0, 0], snr: [6, 7] });
  test('matches on ra/dec with the beam in arcsec', () => {
    // 1.9 arcsec off (inside 2/3 * 3 = 2) and 2.1 arcsec off (outside).
    const det = table({ x: [0, 0], y: [0, 0], ra_deg: [50 + 1.9 * deg, 50 + 102.1 * deg], dec_deg: [0, 0], snr: [6, 7] });
    const r = evaluateCatalogues([{ imageId: 'a', truth: skyTruth, detections: det, beamArcsec: 3 }]);
    expect(r.match_space).toBe('sky');
    expect(r.totals).toEqual({ truth: 2, detections: 2, tp: 1, fp: 1, fn: 1 });
  });

  test('a detection never matches a source of another image', () => {
    const det = table({ x: [0], y: [0], ra_deg: [50], dec_deg: [0], snr: [6] });
    const empty = table({ x: [], y: [], ra_deg: [], dec_deg: [], snr: [] });
    const r = evaluateCatalogues([
      { imageId: 'a', truth: skyTruth, detections: empty, beamArcsec: 3 },
      { imageId: 'b', truth: empty, detections: det, beamArcsec: 3 },
    ]);
    expect(r.images).toBe(2);
    expect(r.totals).toEqual({ truth: 2, detections: 1, tp: 0, fp: 1, fn: 2 });
  });

  test('the radius scales with each image beam', () => {
    const det = table({ x: [0, 0], y: [0, 0], ra_deg: [50 + 1.9 * deg, 50 + 102.1 * deg], dec_deg: [0, 0], snr: [6, 7] });
    const r = evaluateCatalogues([{ imageId: 'a', truth: skyTruth, detections: det, beamArcsec: 3 }], { radiusBeams: 1 });
    expect(r.totals.tp).toBe(2);
    expect(r.radius_arcsec).toBeCloseTo(3, 12);
  });
});

describe('counts above S90', () => {
  test('counts detections (TP + FP) with SNR >= S90, including SNR above the binned range', () => {
    // Sources at SNR 1.2 are all missed; sources at 6.2 and 12 found; one FP at 6.3.
    const t = table({ x: [0, 10, 20, 30], y: [0, 0, 0, 0], snr: [1.2, 1.3, 6.2, 12] });
    const d = table({ x: [20, 30, 40], y: [0, 0, 0], snr: [6.2, 12, 1.1] });
    const r = evaluateCatalogues([{ imageId: 'a', truth: t, detections: d, beamArcsec: 3, pixelScaleArcsec: 1 }], { space: 'pixel' });
    // bins: [1,1.5): P 0 (1 FP), C 0 (2 FN); [6,6.5): P 1, C 1. Failing bin centre 1.25, next 6.25:
    // both cross 0.9 at 1.25 + 0.9 * 5 = 5.75.
    expect(r.s90).toBeCloseTo(5.75, 12);
    expect(r.counts_above_s90).toBe(2);
    expect(r.tp_above_s90).toBe(2);
  });
});

describe('computeS90', () => {
  const bins = (values: Array<[number | null, number | null]>): SnrBin[] =>
    values.map(([purity, completeness], k) => ({
      snr_lo: k * 0.5,
      snr_hi: (k + 1) * 0.5,
      tp: 0,
      fp: 0,
      tp_true: 0,
      fn: 0,
      purity,
      completeness,
      pc: purity !== null && completeness !== null ? purity * completeness : null,
    }));

  test('interpolates the crossing between bin centres of the last failing bin and the next', () => {
    // bin 6 [3,3.5) P 0.8 fails, bin 7 [3.5,4) passes with P 1.0 -> 3.25 + 0.5 * 0.5 = 3.5
    const b = bins([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4], [0.5, 0.5], [0.6, 0.6], [0.8, 0.95], [1, 1], [1, 1]]);
    expect(computeS90(b)).toBeCloseTo(3.5, 12);
  });

  test('the later crossing wins when both curves fail in the last failing bin', () => {
    // bin 7 [3.5,4): P 0.8, C 0.85; bin 8: P 1.0, C 0.95 -> P crosses at 4.0, C at 4.0; make C later:
    const b = bins([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.8, 0.8], [1, 0.92]]);
    // P: 3.75 + (0.1/0.2)*0.5 = 4.0; C: 3.75 + (0.1/0.12)*0.5 = 4.1667
    expect(computeS90(b)).toBeCloseTo(3.75 + (0.1 / 0.12) * 0.5, 12);
  });

  test('a failure after a passing stretch moves S90 up ("stay >= 0.9")', () => {
    const b = bins([[0.5, 0.5], [1, 1], [1, 1], [0.7, 1], [1, 1]]);
    expect(computeS90(b)).toBeCloseTo(1.75 + (0.2 / 0.3) * 0.5, 12);
  });

  test('skips empty bins; an empty curve at the next bin passes from its lower edge', () => {
    const b = bins([[0.5, 0.5], [null, null], [null, 1], [1, 1]]);
    // last failing bin 0; next non-empty bin is 2 where purity is empty -> its lower edge 1.0;
    // completeness crosses at 0.25 + (0.4/0.5) * 1.0 = 1.05
    expect(computeS90(b)).toBeCloseTo(1.05, 12);
  });

  test('never failing gives the first non-empty edge; failing at the top gives null', () => {
    expect(computeS90(bins([[null, null], [0.95, 1], [1, 1]]))).toBe(0.5);
    expect(computeS90(bins([[1, 1], [1, 0.5]]))).toBeNull();
    expect(computeS90(bins([[null, null]]))).toBeNull();
  });
});

describe('input checks', () => {
  test('missing columns and bad options name the problem', () => {
    const noSnr = table({ x: [1], y: [1] });
    expect(() => evaluateCatalogues([{ imageId: 'img_7', truth: noSnr, detections, beamArcsec: 3, pixelScaleArcsec: 1 }], { space: 'pixel' })).toThrow(
      /img_7 truth: missing column "snr"/,
    );
    expect(() => evaluateCatalogues([{ imageId: 'a', truth, detections, beamArcsec: 3 }], { space: 'pixel' })).toThrow(/pixel scale/);
    expect(() => evaluateCatalogues([{ imageId: 'a', truth, detections, beamArcsec: 3 }], { radiusBeams: -1 })).toThrow(UserInputError);
    expect(() => evaluateCatalogues([{ imageId: 'a', truth, detections, beamArcsec: 0, pixelScaleArcsec: 1 }], { space: 'pixel' })).toThrow(/beam must be > 0/);
  });
});
