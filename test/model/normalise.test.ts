import { estimateNoiseSigma, normaliseInput, normalisePixel, demandIntensity, SOFTENING, DEMAND_SATURATION } from '../../src/model/normalise';
import { cropImage } from '../../src/core/image';
import { Random } from '../../src/core/random';

describe('normaliseInput', () => {
  it('maps values through SOFTENING·asinh(x / σ / SOFTENING), blanks to 0 (hand-worked)', () => {
    const image = { data: new Float32Array([0, 2, -2, 20, NaN, Infinity, -Infinity, 2000]), width: 8, height: 1 };
    const out = normaliseInput(image, 2);
    const expected = [0, 10 * Math.asinh(0.1), -10 * Math.asinh(0.1), 10 * Math.asinh(1), 0, 0, 0, 10 * Math.asinh(100)];
    expect(SOFTENING).toBe(10);
    expected.forEach((v, i) => expect(out.data[i]).toBeCloseTo(v, 5));
    expect(normalisePixel(NaN, 1)).toBe(0);
  });

  it('is nearly linear in SNR below a few sigma and compresses bright pixels', () => {
    const out = normaliseInput({ data: new Float32Array([3, 1e4]), width: 2, height: 1 }, 1);
    expect(out.data[0]).toBeGreaterThan(0.985 * 3); // 3σ stays within 1.5 % (u³/6 with u = 0.3)
    expect(out.data[1]).toBeLessThan(80); // 10⁴σ becomes ~76
  });

  it('normalises a tile exactly like the same pixels of the whole image, and leaves the input alone', () => {
    const rng = new Random(1);
    const data = new Float32Array(50 * 40).map(() => 3 * rng.gaussian());
    const image = { data, width: 50, height: 40 };
    const copy = data.slice();
    const sigma = estimateNoiseSigma(image);
    const whole = normaliseInput(image, sigma);
    const tile = normaliseInput(cropImage(image, 7, 5, 31, 29), sigma);
    expect(tile.data).toEqual(cropImage(whole, 7, 5, 31, 29).data);
    expect(image.data).toEqual(copy);
  });

  it('rejects a non-positive sigma', () => {
    expect(() => normaliseInput({ data: new Float32Array(4), width: 2, height: 2 }, 0)).toThrow(/noise sigma must be a positive finite number, got 0/);
  });
});

describe('estimateNoiseSigma', () => {
  it('recovers the noise of a Gaussian image despite bright pixels and blanks', () => {
    const rng = new Random(2);
    const n = 512 * 512;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = 0.004 * rng.gaussian();
    for (let i = 0; i < n; i += 97) data[i] = 5; // ~1 % very bright pixels
    for (let i = 0; i < 20000; i++) data[i] = NaN; // a blank region
    const sigma = estimateNoiseSigma({ data, width: 512, height: 512 });
    // 1 % outliers shift the MAD by ~1.3 %; the MAD's own error at 2.4e5 samples is ~0.2 %.
    expect(sigma / 0.004).toBeGreaterThan(0.98);
    expect(sigma / 0.004).toBeLessThan(1.03);
  });

  it('subsamples large images to about 10⁶ pixels without losing accuracy', () => {
    const rng = new Random(3);
    const w = 2048;
    const data = new Float32Array(w * w);
    for (let i = 0; i < data.length; i++) data[i] = 2 * rng.gaussian();
    const sigma = estimateNoiseSigma({ data, width: w, height: w });
    expect(Math.abs(sigma / 2 - 1)).toBeLessThan(0.01);
  });

  it('says why when there is no noise to measure', () => {
    expect(() => estimateNoiseSigma({ data: new Float32Array([NaN, NaN]), width: 2, height: 1 })).toThrow(/no finite pixels/);
    expect(() => estimateNoiseSigma({ data: new Float32Array(16).fill(1), width: 4, height: 4 })).toThrow(/zero spread/);
  });
});

describe('demandIntensity', () => {
  it('clips to [0, 1] on a fixed scale', () => {
    const out = demandIntensity({ data: new Float32Array([-1, 0, DEMAND_SATURATION / 2, DEMAND_SATURATION, 1000, NaN]), width: 6, height: 1 });
    expect(Array.from(out.data)).toEqual([0, 0, 0.5, 1, 1, 0]);
  });
});
