import { FftPlan, fft1d, fft2d, irfft2d, isPowerOfTwo, nextPowerOfTwo, rfft2d } from '../../src/core/fft';
import { Random } from '../../src/core/random';

/** Naive O(n^2) DFT in the same sign convention as src/core/fft.ts. */
function naiveDft(re: Float64Array, im: Float64Array, inverse: boolean): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  const sgn = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const angle = (sgn * 2 * Math.PI * ((j * k) % n)) / n;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      sr += re[j] * c - im[j] * s;
      si += re[j] * s + im[j] * c;
    }
    outRe[k] = sr;
    outIm[k] = si;
  }
  return { re: outRe, im: outIm };
}

function randomComplex(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const rng = new Random(seed);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = rng.gaussian();
    im[i] = rng.gaussian();
  }
  return { re, im };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('fft1d', () => {
  // Float64 round-off of an O(n log n) transform of unit-variance data: errors ~ 1e-15 * sqrt(n) * log n.
  const tolerance = (n: number) => 1e-12 * Math.max(1, Math.log2(n)) * Math.sqrt(n);

  it.each([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])('matches a naive DFT for n = %i (forward and inverse)', (n) => {
    for (const inverse of [false, true]) {
      const input = randomComplex(n, n * 7 + (inverse ? 1 : 0));
      const expected = naiveDft(input.re, input.im, inverse);
      const re = input.re.slice();
      const im = input.im.slice();
      fft1d(re, im, inverse);
      expect(maxAbsDiff(re, expected.re)).toBeLessThan(tolerance(n));
      expect(maxAbsDiff(im, expected.im)).toBeLessThan(tolerance(n));
    }
  });

  it('transforms a delta at j0 into exp(-2 pi i j0 k / n)', () => {
    const n = 16;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re[3] = 1;
    fft1d(re, im);
    for (let k = 0; k < n; k++) {
      expect(re[k]).toBeCloseTo(Math.cos((-2 * Math.PI * 3 * k) / n), 14);
      expect(im[k]).toBeCloseTo(Math.sin((-2 * Math.PI * 3 * k) / n), 14);
    }
  });

  it('inverse of forward is n times the input', () => {
    const n = 4096;
    const input = randomComplex(n, 5);
    const re = input.re.slice();
    const im = input.im.slice();
    fft1d(re, im);
    fft1d(re, im, true);
    for (let i = 0; i < n; i++) {
      re[i] /= n;
      im[i] /= n;
    }
    expect(maxAbsDiff(re, input.re)).toBeLessThan(1e-13);
    expect(maxAbsDiff(im, input.im)).toBeLessThan(1e-13);
  });

  it('transforms a slice at an offset without touching the rest', () => {
    const n = 8;
    const input = randomComplex(3 * n, 9);
    const re = input.re.slice();
    const im = input.im.slice();
    new FftPlan(n).transform(re, im, false, n);
    const expected = naiveDft(input.re.slice(n, 2 * n), input.im.slice(n, 2 * n), false);
    expect(maxAbsDiff(re.slice(n, 2 * n), expected.re)).toBeLessThan(1e-12);
    expect(Array.from(re.slice(0, n))).toEqual(Array.from(input.re.slice(0, n)));
    expect(Array.from(re.slice(2 * n))).toEqual(Array.from(input.re.slice(2 * n)));
  });

  it('rejects lengths that are not powers of two', () => {
    expect(() => new FftPlan(12)).toThrow(/power of two, got 12/);
    expect(isPowerOfTwo(12)).toBe(false);
    expect(isPowerOfTwo(4096)).toBe(true);
    expect(nextPowerOfTwo(1000)).toBe(1024);
    expect(nextPowerOfTwo(1024)).toBe(1024);
  });
});

describe('fft2d', () => {
  it('matches a naive 2-D DFT on a non-square 16 x 8 array', () => {
    const width = 16;
    const height = 8;
    const input = randomComplex(width * height, 3);
    // Naive: rows then columns with the 1-D naive DFT.
    const eRe = input.re.slice();
    const eIm = input.im.slice();
    for (let y = 0; y < height; y++) {
      const r = naiveDft(eRe.slice(y * width, (y + 1) * width), eIm.slice(y * width, (y + 1) * width), false);
      eRe.set(r.re, y * width);
      eIm.set(r.im, y * width);
    }
    for (let x = 0; x < width; x++) {
      const cr = new Float64Array(height);
      const ci = new Float64Array(height);
      for (let y = 0; y < height; y++) {
        cr[y] = eRe[y * width + x];
        ci[y] = eIm[y * width + x];
      }
      const r = naiveDft(cr, ci, false);
      for (let y = 0; y < height; y++) {
        eRe[y * width + x] = r.re[y];
        eIm[y * width + x] = r.im[y];
      }
    }
    const re = input.re.slice();
    const im = input.im.slice();
    fft2d(re, im, width, height);
    expect(maxAbsDiff(re, eRe)).toBeLessThan(1e-11);
    expect(maxAbsDiff(im, eIm)).toBeLessThan(1e-11);
  });

  it('gives a real, even result for a real, even input (Hermitian symmetry)', () => {
    const n = 32;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    re[0] = 2;
    re[3 * n + 5] = 1;
    re[(n - 3) * n + (n - 5)] = 1;
    fft2d(re, im, n, n, true);
    for (let i = 0; i < n * n; i++) expect(Math.abs(im[i])).toBeLessThan(1e-13);
  });
});

describe('rfft2d / irfft2d', () => {
  it.each([
    [8, 4],
    [16, 16],
    [64, 32],
  ])('match the complex fft2d on a real %i x %i image (half spectrum, and the round trip)', (width, height) => {
    const rng = new Random(width + height);
    const data = new Float64Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = rng.gaussian();
    const copy = data.slice();
    const spec = rfft2d(data, width, height);
    expect(Array.from(data)).toEqual(Array.from(copy));
    const re = data.slice();
    const im = new Float64Array(width * height);
    fft2d(re, im, width, height);
    let maxErr = 0;
    for (let y = 0; y < height; y++) {
      for (let k = 0; k <= width / 2; k++) {
        maxErr = Math.max(maxErr, Math.abs(spec.re[y * spec.stride + k] - re[y * width + k]), Math.abs(spec.im[y * spec.stride + k] - im[y * width + k]));
      }
    }
    expect(maxErr).toBeLessThan(1e-11);
    const back = irfft2d(spec, width, height);
    for (let i = 0; i < data.length; i++) expect(back[i] / (width * height)).toBeCloseTo(data[i], 12);
  });

  it('irfft2d of a filtered spectrum equals the complex route (real, even filter)', () => {
    const width = 32;
    const height = 16;
    const rng = new Random(77);
    const data = new Float64Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = rng.gaussian();
    const filter = (kx: number, ky: number) => {
      const fx = kx <= width / 2 ? kx : width - kx;
      const fy = ky <= height / 2 ? ky : height - ky;
      return Math.exp(-(fx * fx + fy * fy) / 20);
    };
    const spec = rfft2d(data, width, height);
    for (let y = 0; y < height; y++) for (let k = 0; k <= width / 2; k++) {
      spec.re[y * spec.stride + k] *= filter(k, y);
      spec.im[y * spec.stride + k] *= filter(k, y);
    }
    const fast = irfft2d(spec, width, height);
    const re = data.slice();
    const im = new Float64Array(width * height);
    fft2d(re, im, width, height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      re[y * width + x] *= filter(x, y);
      im[y * width + x] *= filter(x, y);
    }
    fft2d(re, im, width, height, true);
    let maxErr = 0;
    for (let i = 0; i < re.length; i++) maxErr = Math.max(maxErr, Math.abs(fast[i] - re[i]));
    expect(maxErr).toBeLessThan(1e-10);
  });
});
