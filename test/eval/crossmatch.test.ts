import fc from 'fast-check';
import { crossmatch, projectToTangentPlane, skyCentre } from '../../src/eval/crossmatch';

const pts = (xy: Array<[number, number]>) => ({ x: xy.map((p) => p[0]), y: xy.map((p) => p[1]) });

describe('crossmatch', () => {
  test('pairs nearby objects and leaves far ones unmatched', () => {
    const r = crossmatch(pts([[0, 0], [10, 0], [30, 30]]), pts([[0.5, 0], [10, 1], [50, 50]]), 2);
    expect(Array.from(r.truthToDetection)).toEqual([0, 1, -1]);
    expect(Array.from(r.detectionToTruth)).toEqual([0, 1, -1]);
    expect(r.matches).toBe(2);
    expect(r.distance[0]).toBeCloseTo(0.5, 15);
    expect(r.distance[1]).toBeCloseTo(1, 15);
    expect(Number.isNaN(r.distance[2])).toBe(true);
  });

  test('two detections around one source: the nearest is the TP, the other stays free (FP)', () => {
    const r = crossmatch(pts([[0, 0]]), pts([[1, 0], [0, 0.5]]), 2);
    expect(Array.from(r.truthToDetection)).toEqual([1]);
    expect(Array.from(r.detectionToTruth)).toEqual([-1, 0]);
  });

  test('one detection between two sources is used once, by the closer source', () => {
    // D0 is 1.2 from T0 and 0.8 from T1: T1 gets it; T0 has nothing else -> FN.
    const r = crossmatch(pts([[0, 0], [2, 0]]), pts([[1.2, 0]]), 1.5);
    expect(Array.from(r.truthToDetection)).toEqual([-1, 0]);
    expect(r.matches).toBe(1);
  });

  test('chain: a source that loses its nearest detection takes its next free one', () => {
    // T0 nearest is D0 (1.2) but D0 is closer to T1 (0.8); T0 then takes D1 at 1.3.
    const r = crossmatch(pts([[0, 0], [2, 0]]), pts([[1.2, 0], [-1.3, 0]]), 1.5);
    expect(Array.from(r.truthToDetection)).toEqual([1, 0]);
    expect(Array.from(r.detectionToTruth)).toEqual([1, 0]);
  });

  test('greedy by distance, not by source order', () => {
    // T0 sees D0 at 1.0; T1 sees D0 at 0.3 and D1 at 1.4. Global order: (T1,D0) then (T0,D0) blocked.
    const r = crossmatch(pts([[0, 0], [1.3, 0]]), pts([[1, 0], [2.7, 0]]), 1.5);
    expect(Array.from(r.truthToDetection)).toEqual([-1, 0]);
    expect(Array.from(r.detectionToTruth)).toEqual([1, -1]);
  });

  test('exact ties: lower source index wins a shared detection; lower detection index wins a shared source', () => {
    const shared = crossmatch(pts([[0, 0], [2, 0]]), pts([[1, 0]]), 1.5);
    expect(Array.from(shared.truthToDetection)).toEqual([0, -1]);
    const two = crossmatch(pts([[0, 0]]), pts([[1, 0], [0, 1]]), 1.5);
    expect(Array.from(two.truthToDetection)).toEqual([0]);
    expect(Array.from(two.detectionToTruth)).toEqual([0, -1]);
  });

  test('the radius is inclusive', () => {
    expect(crossmatch(pts([[0, 0]]), pts([[3, 4]]), 5).matches).toBe(1);
    expect(crossmatch(pts([[0, 0]]), pts([[3, 4.000001]]), 5).matches).toBe(0);
  });

  test('pairs across grid-cell boundaries and at negative coordinates', () => {
    const r = crossmatch(pts([[-0.1, -0.1], [5.99, 0]]), pts([[0.1, 0.1], [6.01, -0.01]]), 2);
    expect(Array.from(r.truthToDetection)).toEqual([0, 1]);
  });

  test('non-finite positions never match', () => {
    const r = crossmatch(pts([[NaN, 0], [1, 1]]), pts([[0, 0], [1, NaN]]), 5);
    expect(Array.from(r.truthToDetection)).toEqual([-1, 0]);
    expect(Array.from(r.detectionToTruth)).toEqual([1, -1]);
  });

  test('empty catalogues are a normal result', () => {
    expect(crossmatch(pts([]), pts([[0, 0]]), 1).detectionToTruth[0]).toBe(-1);
    expect(crossmatch(pts([[0, 0]]), pts([]), 1).matches).toBe(0);
  });

  test('rejects a bad radius and ragged columns, naming them', () => {
    expect(() => crossmatch(pts([]), pts([]), 0)).toThrow(/radius must be .* > 0, got 0/);
    expect(() => crossmatch(pts([]), pts([]), NaN)).toThrow(/radius/);
    expect(() => crossmatch({ x: [1], y: [] }, pts([]), 1)).toThrow(/truth x and y .* 1 and 0/);
  });

  test('does not modify its inputs', () => {
    const truth = { x: new Float64Array([0, 1]), y: new Float64Array([0, 1]) };
    const det = { x: new Float64Array([0.2, 5]), y: new Float64Array([0, 5]) };
    const copies = [truth.x.slice(), truth.y.slice(), det.x.slice(), det.y.slice()];
    crossmatch(truth, det, 1);
    expect([truth.x, truth.y, det.x, det.y]).toEqual(copies);
  });

  test('agrees with an all-pairs greedy reference on random catalogues', () => {
    const coord = fc.double({ min: -50, max: 50, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(coord, coord), { maxLength: 40 }),
        fc.array(fc.tuple(coord, coord), { maxLength: 40 }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        (truth, det, radius) => {
          const r = crossmatch(pts(truth), pts(det), radius);
          expect(Array.from(r.truthToDetection)).toEqual(allPairsGreedy(truth, det, radius));
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Independent reference: every pair, sorted by (distance, truth, detection), greedy. */
function allPairsGreedy(truth: Array<[number, number]>, det: Array<[number, number]>, radius: number): number[] {
  const pairs: Array<[number, number, number]> = [];
  truth.forEach(([tx, ty], i) =>
    det.forEach(([dx, dy], j) => {
      const d = Math.sqrt((dx - tx) ** 2 + (dy - ty) ** 2);
      if (d <= radius) pairs.push([d, i, j]);
    }),
  );
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const t2d = truth.map(() => -1);
  const used = new Set<number>();
  for (const [, i, j] of pairs) {
    if (t2d[i] !== -1 || used.has(j)) continue;
    t2d[i] = j;
    used.add(j);
  }
  return t2d;
}

describe('projectToTangentPlane', () => {
  test('offsets north and east come out in arcsec', () => {
    const p = projectToTangentPlane([50, 50, 50 + 10 / 3600 / Math.cos((-20 * Math.PI) / 180)], [-20, -20 + 10 / 3600, -20], 50, -20);
    expect(p.x[0]).toBeCloseTo(0, 9);
    expect(p.y[0]).toBeCloseTo(0, 9);
    expect(p.x[1]).toBeCloseTo(0, 6);
    expect(p.y[1]).toBeCloseTo(10, 6);
    expect(p.x[2]).toBeCloseTo(10, 4);
  });

  test('planar distances equal great-circle distances to < 3e-4 within 1 degree', () => {
    const ra0 = 359.7;
    const dec0 = -63;
    const rng = mulberry32(7);
    const cosDec0 = Math.cos((dec0 * Math.PI) / 180);
    for (let k = 0; k < 500; k++) {
      // first point within ~0.7 degree of the tangent point, second up to 30 arcsec away
      const ra1 = ra0 + (rng() - 0.5) / cosDec0;
      const dec1 = dec0 + (rng() - 0.5);
      const ra2 = ra1 + ((rng() - 0.5) * 60) / 3600 / Math.cos((dec1 * Math.PI) / 180);
      const dec2 = dec1 + ((rng() - 0.5) * 60) / 3600;
      const ra = [ra1, ra2].map((r) => (r + 360) % 360);
      const p = projectToTangentPlane(ra, [dec1, dec2], ra0, dec0);
      const planar = Math.hypot(p.x[1] - p.x[0], p.y[1] - p.y[0]);
      const sphere = greatCircleArcsec(ra[0], dec1, ra[1], dec2);
      expect(Math.abs(planar - sphere) / sphere).toBeLessThan(3e-4);
    }
  });

  test('skyCentre handles the RA wrap', () => {
    const c = skyCentre([359.9, 0.1], [10, 10]);
    expect(c).toBeDefined();
    expect(Math.min(c!.raDeg, 360 - c!.raDeg)).toBeLessThan(1e-9);
    expect(c!.decDeg).toBeCloseTo(10, 3);
    expect(skyCentre([], [])).toBeUndefined();
  });
});

function greatCircleArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d2r = Math.PI / 180;
  const h = Math.sin(((dec2 - dec1) * d2r) / 2) ** 2 + Math.cos(dec1 * d2r) * Math.cos(dec2 * d2r) * Math.sin(((ra2 - ra1) * d2r) / 2) ** 2;
  return 2 * Math.asin(Math.sqrt(h)) / d2r * 3600;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
