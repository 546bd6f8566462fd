import { Random } from '../../src/core/random';
import { beamQuadraticForm } from '../../src/sim/beam-fit';
import { hogbomClean, restore } from '../../src/sim/clean';

/** A periodic PSF with a Gaussian core and a ring of sidelobes, peak 1 at (size/2, size/2). */
function makePsf(size: number): Float64Array {
  const psf = new Float64Array(size * size);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - c, y - c);
      psf[y * size + x] = Math.exp(-(r * r) / 8) + 0.1 * Math.cos(r / 2) * Math.exp(-r / 10) * (r > 0 ? 1 : 0);
    }
  }
  return psf;
}

function addPsf(image: Float64Array, width: number, psf: Float64Array, psfSize: number, x: number, y: number, flux: number): void {
  const c = psfSize / 2;
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < width; i++) {
      const py = j - y + c;
      const px = i - x + c;
      if (px >= 0 && py >= 0 && px < psfSize && py < psfSize) image[j * width + i] += flux * psf[py * psfSize + px];
    }
  }
}

/** Reference Hogbom CLEAN: brute-force argmax of |residual| over the whole image each iteration. */
function naiveClean(dirty: Float64Array, width: number, psf: Float64Array, psfSize: number, iterations: number, gain: number, half: number) {
  const residual = dirty.slice();
  const order: number[] = [];
  for (let it = 0; it < iterations; it++) {
    let best = -1;
    let arg = 0;
    for (let i = 0; i < residual.length; i++) {
      const a = residual[i] < 0 ? -residual[i] : residual[i];
      if (a > best) {
        best = a;
        arg = i;
      }
    }
    const px = arg % width;
    const py = (arg - px) / width;
    const amount = gain * residual[arg];
    order.push(arg);
    for (let y = Math.max(0, py - half); y <= Math.min(width - 1, py + half); y++) {
      for (let x = Math.max(0, px - half); x <= Math.min(width - 1, px + half); x++) residual[y * width + x] -= amount * psf[(psfSize / 2 + y - py) * psfSize + psfSize / 2 + x - px];
    }
  }
  return { residual, order };
}

describe('hogbomClean', () => {
  const size = 96;
  const psf = makePsf(size);

  it('removes two point sources exactly placed on pixels and finds their fluxes', () => {
    // A 40 px image inside the 96 px PSF frame: the +-47 px window covers the whole image.
    const width = 40;
    const dirty = new Float64Array(width * width);
    addPsf(dirty, width, psf, size, 10, 12, 5);
    addPsf(dirty, width, psf, size, 30, 25, -2);
    const copy = dirty.slice();
    const result = hogbomClean(dirty, width, width, psf, size, { iterations: 3000, gain: 0.1, thresholdSigma: 0, windowHalf: 47 });
    for (let i = 0; i < dirty.length; i++) expect(dirty[i]).toBe(copy[i]); // input untouched
    expect(result.components.get(12 * width + 10)).toBeCloseTo(5, 4);
    expect(result.components.get(25 * width + 30)).toBeCloseTo(-2, 4);
    let maxRes = 0;
    for (const v of result.residual) maxRes = Math.max(maxRes, Math.abs(v));
    expect(maxRes).toBeLessThan(1e-3);
  });

  it('finds the same components and residual as a brute-force peak search', () => {
    // A 40 px image in the 96 px PSF frame, windows covering the whole image in both versions.
    const width = 40;
    const rng = new Random(5);
    const dirty = new Float64Array(width * width);
    for (let i = 0; i < dirty.length; i++) dirty[i] = 0.05 * rng.gaussian();
    for (let s = 0; s < 6; s++) addPsf(dirty, width, psf, size, 3 + rng.int(34), 3 + rng.int(34), rng.range(-3, 3));
    const iterations = 300;
    const fast = hogbomClean(dirty, width, width, psf, size, { iterations, gain: 0.1, thresholdSigma: 0, windowHalf: 40 });
    const slow = naiveClean(dirty, width, psf, size, iterations, 0.1, 40);
    expect(fast.iterations).toBe(iterations);
    let maxDiff = 0;
    for (let i = 0; i < dirty.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast.residual[i] - slow.residual[i]));
    expect(maxDiff).toBeLessThan(1e-12);
    expect(new Set(fast.components.keys())).toEqual(new Set(slow.order));
  });

  it('with a window smaller than the image, matches brute force with the same (block-aligned) window', () => {
    const big = 256;
    const bigPsf = makePsf(big);
    const width = 200;
    const rng = new Random(6);
    const dirty = new Float64Array(width * width);
    for (let i = 0; i < dirty.length; i++) dirty[i] = 0.05 * rng.gaussian();
    for (let s = 0; s < 10; s++) addPsf(dirty, width, bigPsf, big, 10 + rng.int(180), 10 + rng.int(180), rng.range(-3, 3));
    const iterations = 200;
    const fast = hogbomClean(dirty, width, width, bigPsf, big, { iterations, gain: 0.1, thresholdSigma: 0, windowHalf: 20 });
    // Spec of the window: +-20 px around the peak, widened to whole 32 x 32 blocks.
    const block = 32;
    const residual = dirty.slice();
    const order: number[] = [];
    for (let it = 0; it < iterations; it++) {
      let best = -1;
      let arg = 0;
      for (let i = 0; i < residual.length; i++) {
        const a = residual[i] < 0 ? -residual[i] : residual[i]; // Math.abs is slow under jest's vm context
        if (a > best) {
          best = a;
          arg = i;
        }
      }
      order.push(arg);
      const px = arg % width;
      const py = (arg - px) / width;
      const amount = 0.1 * residual[arg];
      const x0 = Math.floor(Math.max(0, px - 20) / block) * block;
      const x1 = Math.min(width, (Math.floor(Math.min(width - 1, px + 20) / block) + 1) * block);
      const y0 = Math.floor(Math.max(0, py - 20) / block) * block;
      const y1 = Math.min(width, (Math.floor(Math.min(width - 1, py + 20) / block) + 1) * block);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) residual[y * width + x] -= amount * bigPsf[(big / 2 + y - py) * big + big / 2 + x - px];
    }
    let maxDiff = 0;
    for (let i = 0; i < residual.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast.residual[i] - residual[i]));
    expect(maxDiff).toBeLessThan(1e-12);
    expect(new Set(fast.components.keys())).toEqual(new Set(order));
  });

  it('major cycles make the residual exact even with a tiny minor-cycle window', () => {
    const width = 40;
    const rng = new Random(8);
    const dirty = new Float64Array(width * width);
    for (let i = 0; i < dirty.length; i++) dirty[i] = 0.01 * rng.gaussian();
    addPsf(dirty, width, psf, size, 12, 14, 4);
    addPsf(dirty, width, psf, size, 27, 30, 2.5);
    const convolve = (components: Map<number, number>) => {
      const model = new Float64Array(width * width);
      for (const [index, flux] of components) addPsf(model, width, psf, size, index % width, Math.floor(index / width), flux);
      return model;
    };
    const options = { iterations: 10000, gain: 0.1, thresholdSigma: 5, windowHalf: 3, majorGain: 0.8 };
    const result = hogbomClean(dirty, width, width, psf, size, options, convolve);
    expect(result.stopped).toBe('threshold');
    expect(result.majorCycles).toBeGreaterThan(1);
    const model = convolve(result.components);
    let maxDiff = 0;
    let maxRes = 0;
    for (let i = 0; i < dirty.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(dirty[i] - model[i] - result.residual[i]));
      maxRes = Math.max(maxRes, Math.abs(result.residual[i]));
    }
    expect(maxDiff).toBeLessThan(1e-12);
    expect(maxRes).toBeLessThan(result.threshold);
    // Most of each source's flux sits in components at its pixel.
    expect(result.components.get(14 * width + 12)).toBeGreaterThan(3.5);
    expect(result.components.get(30 * width + 27)).toBeGreaterThan(2);
  });

  it('stops at the auto-threshold (k x robust noise) on pure noise', () => {
    const rng = new Random(9);
    const dirty = new Float64Array(size * size);
    for (let i = 0; i < dirty.length; i++) dirty[i] = rng.gaussian();
    const result = hogbomClean(dirty, size, size, psf, size, { iterations: 10000, gain: 0.1, thresholdSigma: 3, windowHalf: 47 });
    expect(result.stopped).toBe('threshold');
    expect(result.noiseSigma).toBeGreaterThan(0.95);
    expect(result.noiseSigma).toBeLessThan(1.05);
    let maxRes = 0;
    for (const v of result.residual) maxRes = Math.max(maxRes, Math.abs(v));
    expect(maxRes).toBeLessThan(result.threshold);
  });
});

describe('restore', () => {
  it('adds components convolved with the Gaussian beam (peak 1) to the residual', () => {
    const width = 40;
    const residual = new Float64Array(width * width).fill(0.01);
    const components = new Map<number, number>([[20 * width + 15, 2]]);
    const beam = { majorPx: 6, minorPx: 4, paDeg: 30 };
    const out = restore(residual, width, width, components, beam);
    expect(out[20 * width + 15]).toBeCloseTo(2.01, 12);
    const { qa, qb, qc } = beamQuadraticForm(beam);
    const dx = 3;
    const dy = -2;
    expect(out[(20 + dy) * width + 15 + dx]).toBeCloseTo(0.01 + 2 * Math.exp(-(qa * dx * dx + 2 * qb * dx * dy + qc * dy * dy)), 12);
    expect(residual[20 * width + 15]).toBe(0.01);
  });
});
