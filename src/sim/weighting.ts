/**
 * Gridding and visibility weighting (paper section 2.2).
 *
 * The uv grid has the same size M as the (padded) image and cell 1/(M * pixel) wavelengths, in FFT
 * order (cell k holds frequency k for k < M/2, k - M above). The u axis is flipped (kx = -u M dtheta)
 * because RA, and so l, increases towards smaller x (CDELT1 < 0). Each visibility is gridded to its
 * nearest cell together with its conjugate at (-u, -v); rounding is symmetric, so the count grid is
 * exactly Hermitian and every image made from it is real.
 *
 * Gridded weights W per cell (N = visibilities in the cell):
 *   natural:  W = N                    (every visibility weight 1; the paper's R = 1.5 limit)
 *   uniform:  W = 1 for sampled cells  (weight 1/N per visibility; the R = -1.5 limit)
 *   briggs R: W = N / (1 + N f^2), f^2 = (5 * 10^-R)^2 / (sum N^2 / sum N)   (Briggs 1995)
 */
import type { UvCoverage } from './uv';

export type Weighting = { kind: 'natural' } | { kind: 'uniform' } | { kind: 'briggs'; robust: number };

export function describeWeighting(weighting: Weighting): string {
  return weighting.kind === 'briggs' ? `briggs:${weighting.robust}` : weighting.kind;
}

export interface UvGrid {
  /** Grid side (power of two). */
  size: number;
  /** Visibilities per cell, conjugates included (Hermitian). */
  counts: Float32Array;
  /** Visibilities that fell outside the grid (baselines longer than the pixel scale supports). */
  dropped: number;
  /** Largest |kx|, |ky| of a sampled cell, in cells (the band limit of the instrument on this grid). */
  maxCell: number;
}

/** Round half away from zero, so that round(-a) = -round(a) (|a| < 2^31). */
function symmetricRound(a: number): number {
  return a < 0 ? -((0.5 - a) | 0) : (a + 0.5) | 0;
}

/** Counts visibilities (and their conjugates) per cell of a size x size grid with pixel `pixelRad`. */
export function gridCounts(coverage: UvCoverage, size: number, pixelRad: number): UvGrid {
  const counts = new Float32Array(size * size);
  const scale = size * pixelRad;
  const half = size / 2;
  let dropped = 0;
  let maxCell = 0;
  const { u, v } = coverage;
  for (let i = 0; i < u.length; i++) {
    const kx = symmetricRound(-u[i] * scale);
    const ky = symmetricRound(v[i] * scale);
    if (kx >= half || kx <= -half || ky >= half || ky <= -half) {
      dropped++;
      continue;
    }
    const ax = Math.abs(kx);
    const ay = Math.abs(ky);
    if (ax > maxCell) maxCell = ax;
    if (ay > maxCell) maxCell = ay;
    counts[((ky + size) % size) * size + ((kx + size) % size)] += 1;
    counts[((size - ky) % size) * size + ((size - kx) % size)] += 1;
  }
  return { size, counts, dropped, maxCell };
}

export interface WeightGrid {
  size: number;
  /** Gridded weight per cell (0 where unsampled). */
  weights: Float64Array;
  /** Sum of all gridded weights (the PSF peak before normalisation). */
  sumWeights: number;
  /**
   * sum over cells of W^2 / N: with per-visibility noise sigma (per real/imaginary part) the image
   * noise is sigma * sqrt(2 * this) / sumWeights (see imaging.ts).
   */
  sumWeightSquaredPerVis: number;
  /** Sampled cells. */
  cells: number;
}

export function applyWeighting(grid: UvGrid, weighting: Weighting): WeightGrid {
  const { counts, size } = grid;
  const weights = new Float64Array(size * size);
  let f2 = 0;
  if (weighting.kind === 'briggs') {
    let sumN = 0;
    let sumN2 = 0;
    for (let i = 0; i < counts.length; i++) {
      const n = counts[i];
      sumN += n;
      sumN2 += n * n;
    }
    const s = 5 * Math.pow(10, -weighting.robust);
    f2 = sumN > 0 ? (s * s) / (sumN2 / sumN) : 0;
  }
  let sumW = 0;
  let sumW2N = 0;
  let cells = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (n === 0) continue;
    let w: number;
    if (weighting.kind === 'natural') w = n;
    else if (weighting.kind === 'uniform') w = 1;
    else w = n / (1 + n * f2);
    weights[i] = w;
    sumW += w;
    sumW2N += (w * w) / n;
    cells++;
  }
  return { size, weights, sumWeights: sumW, sumWeightSquaredPerVis: sumW2N, cells };
}

/** Theoretical image noise (Jy/beam) for per-visibility noise `sigmaVis` on each of the real and imaginary parts. */
export function theoreticalImageNoise(weights: WeightGrid, sigmaVis: number): number {
  return (sigmaVis * Math.sqrt(2 * weights.sumWeightSquaredPerVis)) / weights.sumWeights;
}
