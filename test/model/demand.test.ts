import { coefficientImage, coefficientKernel, demandMap, hornKernel, resolveDemandOptions } from '../../src/model/demand';
import { normaliseInput, DEMAND_SATURATION } from '../../src/model/normalise';

/** Independent reference: direct 2-D sum of cone(u, v) · G(dx − u) · G(dy − v), truncated at 4σ. */
function referenceProfile(dx: number, dy: number, hornRadius: number, sigma: number): number {
  const g = Math.ceil(4 * sigma);
  let norm = 0;
  for (let i = -g; i <= g; i++) norm += Math.exp(-(i * i) / (2 * sigma * sigma));
  const gauss = (d: number): number => (Math.abs(d) <= g ? Math.exp(-(d * d) / (2 * sigma * sigma)) / norm : 0);
  let s = 0;
  const r = Math.ceil(hornRadius);
  for (let v = -r; v <= r; v++)
    for (let u = -r; u <= r; u++) {
      const cone = Math.max(0, 1 - Math.sqrt(u * u + v * v) / hornRadius);
      s += cone * gauss(dx - u) * gauss(dy - v);
    }
  return s;
}

describe('demand map (paper eq. 3)', () => {
  it('the horn is a cone of radius R', () => {
    const k = hornKernel(15);
    const side = 2 * k.radius + 1;
    const at = (dx: number, dy: number): number => k.data[(dy + k.radius) * side + dx + k.radius];
    expect(at(0, 0)).toBe(1);
    expect(at(3, 4)).toBeCloseTo(1 - 5 / 15, 12);
    expect(at(15, 0)).toBe(0);
    expect(at(12, 12)).toBe(0);
  });

  it('a single δ gives the horn × Gaussian profile (radius 15, σ 10), peak 1', () => {
    const n = 121;
    const c = coefficientImage(n, n, [{ x: 60.3, y: 59.6 }], { hornRadius: 15, gaussianSigma: 10 });
    const peak = referenceProfile(0, 0, 15, 10);
    expect(c.data[60 * n + 60]).toBeCloseTo(1, 6); // δ at the rounded position
    for (const [dx, dy] of [[5, 0], [0, 12], [20, 0], [14, -9], [35, 20], [55, 0]]) {
      expect(c.data[(60 + dy) * n + 60 + dx]).toBeCloseTo(referenceProfile(dx, dy, 15, 10) / peak, 5);
    }
    // symmetric, monotone along a ray, zero beyond horn radius + 4σ
    expect(c.data[60 * n + 70]).toBeCloseTo(c.data[70 * n + 60], 6);
    for (let d = 1; d < 55; d++) expect(c.data[60 * n + 60 + d]).toBeLessThan(c.data[60 * n + 60 + d - 1]);
    const kernel = coefficientKernel(15, 10);
    expect(kernel.radius).toBe(55);
  });

  it('overlapping sources add and are clipped to 1; sources outside the image are ignored', () => {
    const c = coefficientImage(40, 40, [{ x: 20, y: 20 }, { x: 21, y: 20 }, { x: -100, y: 5 }], {});
    let max = 0;
    for (const v of c.data) max = Math.max(max, v);
    expect(max).toBe(1);
    expect(coefficientImage(40, 40, [{ x: -100, y: 5 }]).data.every((v) => v === 0)).toBe(true);
  });

  it('α = 0 makes faint and bright sources equally bright; α = 0.75 favours the bright one', () => {
    const w = 200, h = 80;
    const raw = new Float32Array(w * h);
    for (let i = 0; i < raw.length; i++) raw[i] = ((i * 7919) % 13) / 13 - 0.5; // deterministic ±0.5 "noise"
    raw[40 * w + 50] = 3; // faint source, SNR ~ 3 in units of sigma 1
    raw[40 * w + 150] = 60; // bright source
    const input = normaliseInput({ data: raw, width: w, height: h }, 1);
    const sources = [{ x: 50, y: 40 }, { x: 150, y: 40 }];
    const flat = demandMap(input, sources, { alpha: 0, bn: 0.05 });
    expect(flat.data[40 * w + 50]).toBeCloseTo(1, 6);
    expect(flat.data[40 * w + 150]).toBeCloseTo(1, 6);
    const weighted = demandMap(input, sources, { alpha: 0.75, bn: 0.05 });
    const faint = weighted.data[40 * w + 50];
    const bright = weighted.data[40 * w + 150];
    expect(faint).toBeCloseTo(Math.pow(input.data[40 * w + 50] / DEMAND_SATURATION, 0.75), 5);
    expect(bright).toBeGreaterThan(3 * faint);
    for (const v of weighted.data) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('is pixel-wise: D at a pixel is (C + bn)·I^α / (1 + bn) of that pixel (hand-worked)', () => {
    const w = 64;
    const raw = new Float32Array(w * w).map((_, i) => Math.sin(i * 0.37));
    const input = normaliseInput({ data: raw, width: w, height: w }, 0.5);
    const d = demandMap(input, [{ x: 30, y: 30 }], {});
    // D at a pixel depends only on that pixel of I and of C.
    const c = coefficientImage(w, w, [{ x: 30, y: 30 }], {});
    const i0 = 17 * w + 41;
    const iv = Math.min(1, Math.max(0, input.data[i0] / DEMAND_SATURATION));
    expect(d.data[i0]).toBeCloseTo(((c.data[i0] + 0.05) * Math.pow(iv, 0.75)) / 1.05, 6);
  });

  it('rejects bad options naming the option', () => {
    expect(() => resolveDemandOptions({ alpha: -1 })).toThrow(/--alpha must be a finite number >= 0, got -1/);
    expect(() => resolveDemandOptions({ bn: NaN })).toThrow(/--bn/);
  });
});
