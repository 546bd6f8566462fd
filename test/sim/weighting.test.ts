import { Random } from '../../src/core/random';
import { fitBeam } from '../../src/sim/beam-fit';
import { psfAndNoise } from '../../src/sim/imaging';
import { uvCoverage } from '../../src/sim/uv';
import { applyWeighting, gridCounts, type Weighting } from '../../src/sim/weighting';
import { ARCSEC, PAPER_OBSERVATION, meerkat } from './helpers';

const size = 512;
const coverage = uvCoverage(meerkat(), { decDeg: -20, ...PAPER_OBSERVATION });
const grid = gridCounts(coverage, size, 1.5 * ARCSEC);

function beamArcsec(weighting: Weighting): { major: number; minor: number; geo: number } {
  const weights = applyWeighting(grid, weighting);
  const { psf } = psfAndNoise(grid, weights, 1, new Random(1));
  const b = fitBeam(psf, size, size, size / 2, size / 2);
  return { major: b.majorPx * 1.5, minor: b.minorPx * 1.5, geo: Math.sqrt(b.majorPx * b.minorPx) * 1.5 };
}

describe('gridCounts', () => {
  it('is Hermitian: every visibility has its conjugate, and nothing is dropped at 1.5" pixels', () => {
    const { counts } = grid;
    for (let ky = 0; ky < size; ky++) {
      for (let kx = 0; kx < size; kx++) expect(counts[ky * size + kx]).toBe(counts[((size - ky) % size) * size + ((size - kx) % size)]);
    }
    let total = 0;
    for (const c of counts) total += c;
    expect(total).toBe(2 * coverage.u.length);
    expect(grid.dropped).toBe(0);
  });

  it('drops baselines beyond the grid when pixels are too coarse', () => {
    const coarse = gridCounts(coverage, 64, 6 * ARCSEC);
    expect(coarse.dropped).toBeGreaterThan(0);
    expect(coarse.maxCell).toBeLessThan(32);
  });
});

describe('weighting', () => {
  it('uniform gives weight 1 on every sampled cell; natural gives the count', () => {
    const nat = applyWeighting(grid, { kind: 'natural' });
    const uni = applyWeighting(grid, { kind: 'uniform' });
    for (let i = 0; i < grid.counts.length; i += 97) {
      expect(nat.weights[i]).toBe(grid.counts[i]);
      expect(uni.weights[i]).toBe(grid.counts[i] > 0 ? 1 : 0);
    }
  });

  it('Briggs tends to uniform at R = -5 and natural at R = +5, in proportion', () => {
    const lo = applyWeighting(grid, { kind: 'briggs', robust: -5 });
    const hi = applyWeighting(grid, { kind: 'briggs', robust: 5 });
    let maxLo = 0;
    let maxHi = 0;
    const ratioLo = lo.sumWeights / lo.cells; // ~ constant per cell
    for (let i = 0; i < grid.counts.length; i++) {
      const n = grid.counts[i];
      if (n === 0) continue;
      maxLo = Math.max(maxLo, Math.abs(lo.weights[i] / ratioLo - 1));
      maxHi = Math.max(maxHi, Math.abs(hi.weights[i] / n - 1));
    }
    expect(maxLo).toBeLessThan(0.01);
    expect(maxHi).toBeLessThan(0.01);
  });

  it('natural beam is much larger than uniform (paper section 2.2: ~27" vs ~6"), Briggs in between', () => {
    const nat = beamArcsec({ kind: 'natural' });
    const uni = beamArcsec({ kind: 'uniform' });
    const mid = beamArcsec({ kind: 'briggs', robust: 0 });
    expect(nat.geo).toBeGreaterThan(2 * uni.geo);
    expect(mid.geo).toBeGreaterThan(uni.geo);
    expect(mid.geo).toBeLessThan(nat.geo);
    // Broad sanity ranges for MeerKAT at 1.4 GHz, 1 h: natural 15-35", uniform 4-10".
    expect(nat.geo).toBeGreaterThan(15);
    expect(nat.geo).toBeLessThan(35);
    expect(uni.geo).toBeGreaterThan(4);
    expect(uni.geo).toBeLessThan(10);
  });
});

describe('sky orientation of the PSF', () => {
  it('uv samples along u = v (north-east) give a beam elongated north-west: BPA = -45 deg', () => {
    // Hand-made coverage: points on the line u = v (u towards east/RA, v towards north).
    const count = 400;
    const u = new Float64Array(count);
    const v = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const r = 2000 + (i * 30000) / count;
      u[i] = r / Math.SQRT2;
      v[i] = r / Math.SQRT2 + ((i % 7) - 3) * 150; // a little width so the fit has two axes
    }
    const g = gridCounts({ u, v, baselines: count, times: 1, channels: 1, maxUvWavelengths: 32000 }, 256, 1.5 * ARCSEC);
    const w = applyWeighting(g, { kind: 'natural' });
    const { psf } = psfAndNoise(g, w, 1, new Random(1));
    const beam = fitBeam(psf, 256, 256, 128, 128);
    expect(beam.majorPx).toBeGreaterThan(1.5 * beam.minorPx);
    expect(Math.abs(beam.paDeg + 45)).toBeLessThan(3);
  });
});
