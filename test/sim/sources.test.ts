import { Random } from '../../src/core/random';
import { headerFromCards } from '../../src/fits/header';
import { Wcs } from '../../src/fits/wcs';
import { checkSeparationFeasible, drawSnrs, placeSources, snrExponentialMean } from '../../src/sim/sources';
import { fieldWcsCards, resolveSimulationOptions } from '../../src/sim/simulate';

function wcsFor(ra: number, dec: number, size: number) {
  const o = resolveSimulationOptions({ size });
  return Wcs.fromHeader(headerFromCards(fieldWcsCards(ra, dec, o)));
}

describe('placeSources', () => {
  const size = 2048;
  const border = 205;
  const core = { lo: border, hiX: size - 1 - border, hiY: size - 1 - border };
  const minSep = 40 / 1.5;

  it.each([
    [50, -20],
    [100, -69],
    [12, 29],
    [359.9, 0],
  ])('at (%s, %s): keeps the minimum separation, stays out of the border, and RA/Dec match x/y', (ra, dec) => {
    const wcs = wcsFor(ra, dec, size);
    const placed = placeSources(300, core, minSep, wcs, new Random(7));
    const n = placed.x.length;
    expect(n).toBe(300);
    let minD2 = Infinity;
    for (let i = 0; i < n; i++) {
      expect(placed.x[i]).toBeGreaterThanOrEqual(border);
      expect(placed.x[i]).toBeLessThanOrEqual(size - 1 - border);
      expect(placed.y[i]).toBeGreaterThanOrEqual(border);
      expect(placed.y[i]).toBeLessThanOrEqual(size - 1 - border);
      const p = wcs.skyToPix(placed.raDeg[i], placed.decDeg[i]);
      expect(Math.abs(p.x - placed.x[i])).toBeLessThan(1e-6);
      expect(Math.abs(p.y - placed.y[i])).toBeLessThan(1e-6);
      for (let j = 0; j < i; j++) minD2 = Math.min(minD2, (placed.x[i] - placed.x[j]) ** 2 + (placed.y[i] - placed.y[j]) ** 2);
    }
    expect(Math.sqrt(minD2)).toBeGreaterThanOrEqual(minSep);
  });

  it('is not snapped to pixels and fills the core uniformly (quadrant counts within 4 sigma)', () => {
    const wcs = wcsFor(50, -20, size);
    const placed = placeSources(1000, core, 10, wcs, new Random(3));
    let fractional = 0;
    const quadrants = [0, 0, 0, 0];
    const mid = size / 2;
    for (let i = 0; i < 1000; i++) {
      if (Math.abs(placed.x[i] - Math.round(placed.x[i])) > 1e-3) fractional++;
      quadrants[(placed.x[i] < mid ? 0 : 1) + (placed.y[i] < mid ? 0 : 2)]++;
    }
    expect(fractional).toBeGreaterThan(990);
    for (const q of quadrants) expect(Math.abs(q - 250)).toBeLessThan(4 * Math.sqrt(1000 * 0.25 * 0.75));
  });

  it('refuses an impossible separation before trying', () => {
    const small = { lo: 10, hiX: 100, hiY: 100 };
    expect(() => checkSeparationFeasible(100, small, 30)).toThrow(/cannot place 100 sources at least 30.0 px apart/);
    expect(() => checkSeparationFeasible(3, small, 30)).not.toThrow();
  });
});

describe('drawSnrs (paper Fig. 1)', () => {
  it('has 45 +- 5% of sources below SNR 1 and none below the 0.1 cut', () => {
    const snr = drawSnrs(5000, 0.1, 0.45, new Random(11));
    let below = 0;
    let min = Infinity;
    for (const s of snr) {
      if (s < 1) below++;
      min = Math.min(min, s);
    }
    expect(below / snr.length).toBeGreaterThan(0.4);
    expect(below / snr.length).toBeLessThan(0.5);
    expect(min).toBeGreaterThanOrEqual(0.1);
  });

  it('is exponential above the cut: mean - 0.1 = (1 - 0.1)/ln(1/0.55) within 3 standard errors', () => {
    const mean = snrExponentialMean(0.1, 0.45);
    expect(mean).toBeCloseTo(0.9 / Math.log(1 / 0.55), 12);
    const snr = drawSnrs(20000, 0.1, 0.45, new Random(12));
    let sum = 0;
    for (const s of snr) sum += s - 0.1;
    expect(Math.abs(sum / snr.length - mean)).toBeLessThan((3 * mean) / Math.sqrt(snr.length));
  });
});
