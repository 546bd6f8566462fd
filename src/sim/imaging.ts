/**
 * From gridded weights to images: the PSF, interferometric (correlated) noise and point sources
 * seen through the instrument (paper sections 2 and 2.2).
 *
 * Everything is a periodic M x M image computed by FFT from the same weight grid W, normalised by
 * sum(W), so that:
 *   PSF    = IFFT(W) / sum W                          (peak exactly 1 at the phase centre)
 *   noise  = IFFT(W_vis * sum of visibility noise)    (complex Gaussian noise per sampled cell,
 *                                                      weighted like the data)
 *   source = IFFT(W * sky visibilities) / sum W       (PSF shifted to the exact sub-pixel position)
 * The CLEAN in clean.ts subtracts this same periodic PSF, so the simulated instrument is exactly
 * self-consistent.
 */
import { fft2d, irfft2d, rfft2d } from '../core/fft';
import type { Random } from '../core/random';
import type { UvGrid, WeightGrid } from './weighting';

export interface PsfAndNoise {
  size: number;
  /** PSF, peak 1 at (size/2, size/2). */
  psf: Float64Array;
  /** Noise image (Jy/beam), stationary, with the autocorrelation of the PSF. */
  noise: Float64Array;
}

/**
 * One complex FFT gives both the PSF and a noise realisation: W and the noise grid are both
 * Hermitian, so IFFT(W + i*Noise) = IFFT(W) + i*IFFT(Noise) with both transforms real.
 *
 * Noise in a cell holding N visibilities of weight w = W/N each, with independent complex Gaussian
 * noise of std `sigmaVis` on the real and imaginary parts: w * (sum of N draws) ~ W/sqrt(N) * sigmaVis * (g1 + i g2).
 * The conjugate cell gets the complex conjugate.
 */
export function psfAndNoise(grid: UvGrid, weights: WeightGrid, sigmaVis: number, rng: Random): PsfAndNoise {
  const size = grid.size;
  const counts = grid.counts;
  const w = weights.weights;
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  for (let ky = 0; ky < size; ky++) {
    const cy = (size - ky) % size;
    for (let kx = 0; kx < size; kx++) {
      const i = ky * size + kx;
      const n = counts[i];
      if (n === 0) continue;
      const j = cy * size + ((size - kx) % size);
      if (j < i) continue; // set together with its conjugate partner
      let nzRe: number;
      let nzIm: number;
      if (j === i) {
        // Self-conjugate cell (zero spacing): visibilities and conjugates add to 2 Re(sum).
        nzRe = (w[i] / n) * Math.sqrt(2 * n) * sigmaVis * rng.gaussian();
        nzIm = 0;
      } else {
        const amp = (w[i] / Math.sqrt(n)) * sigmaVis;
        nzRe = amp * rng.gaussian();
        nzIm = amp * rng.gaussian();
      }
      // grid = W + i * Noise  ->  re = W - Im(Noise), im = Re(Noise); partner gets conj(Noise).
      re[i] = w[i] - nzIm;
      im[i] = nzRe;
      if (j !== i) {
        re[j] = w[j] + nzIm;
        im[j] = nzRe;
      }
    }
  }
  // (-1)^(kx+ky) moves the PSF peak from pixel 0 to pixel size/2 (the noise is stationary, so
  // the same modulation only changes which realisation we get, not its statistics).
  for (let ky = 0; ky < size; ky++) {
    for (let kx = (ky & 1) === 0 ? 1 : 0; kx < size; kx += 2) {
      const i = ky * size + kx;
      re[i] = -re[i];
      im[i] = -im[i];
    }
  }
  fft2d(re, im, size, size, true);
  const norm = 1 / weights.sumWeights;
  for (let i = 0; i < re.length; i++) {
    re[i] *= norm;
    im[i] *= norm;
  }
  return { size, psf: re, noise: im };
}

/**
 * Exponential-of-semicircle spreading kernel (Barnett et al. 2019, FINUFFT):
 * phi(t) = exp(beta * (sqrt(1 - (2t/width)^2) - 1)) for |t| < width/2.
 */
export const SPREAD_WIDTH = 12;
export const SPREAD_BETA = 2.3 * SPREAD_WIDTH;

function esKernel(t: number): number {
  const z = (2 * t) / SPREAD_WIDTH;
  const s = 1 - z * z;
  return s <= 0 ? 0 : Math.exp(SPREAD_BETA * (Math.sqrt(s) - 1));
}

const kernelTransformCache = new Map<number, Float64Array>();

/**
 * The kernel's continuous Fourier transform at xi = k/size cycles per pixel for every FFT index k:
 * phi^(xi) = 2 * integral_0^{w/2} phi(t) cos(2 pi xi t) dt, by the midpoint rule (the integrand is
 * smooth and vanishes to ~1e-12 at t = w/2, so the rule converges exponentially). cos(2 pi k t/size)
 * over k comes from rotating a phasor (no trigonometric call per k; round-off grows ~k * 1e-16).
 * Cached per size (one image calls it once per CLEAN major cycle).
 */
function esKernelTransform(size: number): Float64Array {
  const cached = kernelTransformCache.get(size);
  if (cached !== undefined) return cached;
  const samples = 128;
  const h = SPREAD_WIDTH / 2 / samples;
  const half = size / 2;
  const out = new Float64Array(size);
  for (let s = 0; s < samples; s++) {
    const t = (s + 0.5) * h;
    const weight = 2 * h * esKernel(t);
    const stepC = Math.cos((2 * Math.PI * t) / size);
    const stepS = Math.sin((2 * Math.PI * t) / size);
    let c = 1;
    let sn = 0;
    for (let k = 0; k <= half; k++) {
      out[k] += weight * c;
      const nc = c * stepC - sn * stepS;
      sn = c * stepS + sn * stepC;
      c = nc;
    }
  }
  for (let k = half + 1; k < size; k++) out[k] = out[size - k];
  kernelTransformCache.set(size, out);
  return out;
}

/**
 * Point sources of flux `flux[i]` at continuous pixel positions (x[i], y[i]) of the periodic
 * size x size image, convolved with the PSF through the uv plane: the sky visibilities
 * sum_s S_s exp(-2 pi i (kx x_s + ky y_s) / size) are needed on the sampled cells only. They are
 * computed as a type-1 non-uniform FFT: spread each source with the ES kernel onto the pixel grid,
 * FFT, and divide by the kernel's transform. The instrument's band limit (|k| <= maxCell < size/2)
 * leaves room for the kernel's aliases, so the relative error is ~1e-9 when maxCell <= 0.3 size
 * (test/sim/imaging.test.ts checks it against a direct sum). Returns the image in Jy/beam.
 */
export function renderPointSources(
  weights: WeightGrid,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  flux: ArrayLike<number>,
): Float64Array {
  const size = weights.size;
  const spread = new Float64Array(size * size);
  const half = SPREAD_WIDTH / 2;
  const kx = new Float64Array(SPREAD_WIDTH + 1);
  const ky = new Float64Array(SPREAD_WIDTH + 1);
  for (let s = 0; s < flux.length; s++) {
    const x0 = Math.ceil(x[s] - half);
    const y0 = Math.ceil(y[s] - half);
    for (let j = 0; j <= SPREAD_WIDTH; j++) {
      kx[j] = esKernel(x0 + j - x[s]);
      ky[j] = esKernel(y0 + j - y[s]);
    }
    for (let b = 0; b <= SPREAD_WIDTH; b++) {
      const row = (((y0 + b) % size) + size) % size;
      const fy = flux[s] * ky[b];
      if (fy === 0) continue;
      for (let a = 0; a <= SPREAD_WIDTH; a++) {
        const col = (((x0 + a) % size) + size) % size;
        spread[row * size + col] += fy * kx[a];
      }
    }
  }
  // The sky is real and W is real and even, so a real-to-complex transform and its inverse over
  // the half spectrum (kx = 0 .. size/2) do the job at about half the cost of complex FFTs.
  const spectrum = rfft2d(spread, size, size);
  const correction = esKernelTransform(size);
  const w = weights.weights;
  const norm = 1 / weights.sumWeights;
  const stride = spectrum.stride;
  for (let cy = 0; cy < size; cy++) {
    const fy = correction[cy];
    for (let cx = 0; cx < stride; cx++) {
      const i = cy * stride + cx;
      const wi = w[cy * size + cx];
      if (wi === 0) {
        spectrum.re[i] = 0;
        spectrum.im[i] = 0;
      } else {
        const scale = (wi * norm) / (fy * correction[cx]);
        spectrum.re[i] *= scale;
        spectrum.im[i] *= scale;
      }
    }
  }
  return irfft2d(spectrum, size, size);
}

/** Central width x height window of a size x size image whose phase centre is (size/2, size/2). */
export function cropCentre(data: Float64Array, size: number, width: number, height: number): { data: Float64Array; offsetX: number; offsetY: number } {
  const offsetX = size / 2 - Math.floor(width / 2);
  const offsetY = size / 2 - Math.floor(height / 2);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) out.set(data.subarray((y + offsetY) * size + offsetX, (y + offsetY) * size + offsetX + width), y * width);
  return { data: out, offsetX, offsetY };
}
