import { Random } from '../../src/core/random';
import { cropCentre, psfAndNoise, renderPointSources } from '../../src/sim/imaging';
import { uvCoverage } from '../../src/sim/uv';
import { applyWeighting, gridCounts, theoreticalImageNoise, type Weighting } from '../../src/sim/weighting';
import { ARCSEC, PAPER_OBSERVATION, meerkat } from './helpers';

function weightsFor(size: number, weighting: Weighting, pixelArcsec = 1.5, decDeg = -20) {
  const coverage = uvCoverage(meerkat(), { decDeg, ...PAPER_OBSERVATION });
  const grid = gridCounts(coverage, size, pixelArcsec * ARCSEC);
  return { grid, weights: applyWeighting(grid, weighting) };
}

describe('PSF', () => {
  it.each(['natural', 'uniform'] as const)('%s: peak exactly 1 at the centre, the maximum, and point-symmetric', (kind) => {
    const size = 256;
    const { grid, weights } = weightsFor(size, { kind });
    const { psf } = psfAndNoise(grid, weights, 1, new Random(1));
    const c = size / 2;
    expect(psf[c * size + c]).toBeCloseTo(1, 12);
    let max = -Infinity;
    for (let i = 0; i < psf.length; i++) if (i !== c * size + c) max = Math.max(max, psf[i]);
    expect(max).toBeLessThan(1);
    // PSF(c + d) = PSF(c - d): the weight grid is real and Hermitian. Float64 FFT round-off ~1e-13.
    let asym = 0;
    for (let dy = -c + 1; dy < c; dy++) {
      for (let dx = -c + 1; dx < c; dx++) asym = Math.max(asym, Math.abs(psf[(c + dy) * size + c + dx] - psf[(c - dy) * size + c - dx]));
    }
    expect(asym).toBeLessThan(1e-12);
  });
});

describe('interferometric noise', () => {
  it('has the std predicted from the visibility noise and the weights (within 3% over 6 realisations)', () => {
    const size = 256;
    for (const kind of ['natural', 'uniform'] as const) {
      const { grid, weights } = weightsFor(size, { kind });
      const sigmaVis = 1e-3;
      const expected = theoreticalImageNoise(weights, sigmaVis);
      let sum2 = 0;
      let n = 0;
      for (let r = 0; r < 6; r++) {
        const { noise } = psfAndNoise(grid, weights, sigmaVis, new Random(100 + r));
        for (let i = 0; i < noise.length; i++) sum2 += noise[i] * noise[i];
        n += noise.length;
      }
      // The whole periodic image: ~6 x 256^2 / (beam area) independent samples, well under 1% error.
      expect(Math.sqrt(sum2 / n) / expected).toBeGreaterThan(0.97);
      expect(Math.sqrt(sum2 / n) / expected).toBeLessThan(1.03);
    }
  });
});

describe('renderPointSources', () => {
  it('equals the direct phase-gradient sum over the sampled cells to 1e-9 of the peak', () => {
    // 1.5" pixels: the sampled cells reach |k| = size/4, where the ES kernel's aliases are ~1e-12.
    const size = 32;
    const { weights } = weightsFor(size, { kind: 'natural' });
    const xs = [10.3, 21.77, 15.5, 2.01];
    const ys = [15.6, 6.25, 25.9, 30.5];
    const flux = [1, 0.5, 2, 0.7];
    const fast = renderPointSources(weights, xs, ys, flux);
    // Direct: image(j) = sum_cells W/sumW * sum_s S exp(2 pi i k.(j - x_s)/M) (inverse DFT of W times the sky phases).
    const w = weights.weights;
    let maxErr = 0;
    for (let jy = 0; jy < size; jy++) {
      for (let jx = 0; jx < size; jx++) {
        let acc = 0;
        for (let cy = 0; cy < size; cy++) {
          const ky = cy < size / 2 ? cy : cy - size;
          for (let cx = 0; cx < size; cx++) {
            const wi = w[cy * size + cx];
            if (wi === 0) continue;
            const kx = cx < size / 2 ? cx : cx - size;
            for (let s = 0; s < xs.length; s++) acc += wi * flux[s] * Math.cos((2 * Math.PI * (kx * (jx - xs[s]) + ky * (jy - ys[s]))) / size);
          }
        }
        maxErr = Math.max(maxErr, Math.abs(acc / weights.sumWeights - fast[jy * size + jx]));
      }
    }
    expect(maxErr).toBeLessThan(1e-9);
  });

  it('puts a point source at an integer pixel as exactly the shifted PSF (flux x PSF)', () => {
    const size = 128;
    const { grid, weights } = weightsFor(size, { kind: 'uniform' });
    const { psf } = psfAndNoise(grid, weights, 1, new Random(2));
    const img = renderPointSources(weights, [70], [50], [3]);
    let maxErr = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const py = (y - 50 + size / 2 + size) % size;
        const px = (x - 70 + size / 2 + size) % size;
        maxErr = Math.max(maxErr, Math.abs(img[y * size + x] - 3 * psf[py * size + px]));
      }
    }
    expect(maxErr).toBeLessThan(3e-7);
  });

  it('does not modify its inputs', () => {
    const size = 64;
    const { weights } = weightsFor(size, { kind: 'natural' });
    const before = weights.weights.slice();
    const xs = [10.5];
    renderPointSources(weights, xs, [20.25], [1]);
    expect(weights.weights).toEqual(before);
    expect(xs).toEqual([10.5]);
  });
});

describe('cropCentre', () => {
  it('keeps the phase centre on pixel floor(n/2)', () => {
    const size = 8;
    const data = new Float64Array(size * size);
    data[4 * size + 4] = 1;
    const odd = cropCentre(data, size, 5, 5);
    expect(odd.data[2 * 5 + 2]).toBe(1);
    const even = cropCentre(data, size, 6, 6);
    expect(even.data[3 * 6 + 3]).toBe(1);
    expect(even.offsetX).toBe(1);
  });
});
