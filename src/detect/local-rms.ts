/**
 * Noise at a source position, for the `local_rms` and `snr` columns (CONTRACT.md, paper section 2).
 *
 * - Real images: a robust local rms, 1.4826 × MAD of the finite pixels in a box centred on the
 *   source. The MAD ignores the source itself and its neighbours (a few dozen pixels in thousands),
 *   and NaN borders simply contribute nothing.
 * - Simulated images: the standard deviation of the source-free border, one number per image,
 *   which is how the truth catalogue's SNR is defined; the caller passes it in.
 */
import type { Image } from '../core/image';
import { MAD_TO_SIGMA, meanStd, medianInPlace } from '../core/stats';

/** Side of the square box (px) for the local MAD rms. 64² = 4096 pixels: ~2 % error on σ. */
export const DEFAULT_LOCAL_RMS_BOX = 64;
/** Fewer finite pixels than this in the box (e.g. at a NaN border): fall back to the global rms. */
export const MIN_LOCAL_RMS_PIXELS = 100;

/**
 * MAD rms of the finite pixels in the box of side `box` centred on pixel (round(x), round(y)),
 * clipped to the image; NaN when fewer than `minPixels` are finite. `scratch` (length ≥ box²) avoids
 * an allocation per source.
 */
export function localMadRms(image: Image, x: number, y: number, box = DEFAULT_LOCAL_RMS_BOX, minPixels = MIN_LOCAL_RMS_PIXELS, scratch?: Float64Array): number {
  const { data, width, height } = image;
  const half = Math.floor(box / 2);
  const cx = Math.round(x);
  const cy = Math.round(y);
  const x0 = Math.max(0, cx - half);
  const x1 = Math.min(width, cx - half + box);
  const y0 = Math.max(0, cy - half);
  const y1 = Math.min(height, cy - half + box);
  const values = scratch && scratch.length >= box * box ? scratch : new Float64Array(box * box);
  let n = 0;
  for (let yy = y0; yy < y1; yy++) {
    const row = yy * width;
    for (let xx = x0; xx < x1; xx++) {
      const v = data[row + xx];
      if (Number.isFinite(v)) values[n++] = v;
    }
  }
  if (n < minPixels) return NaN;
  const sample = values.subarray(0, n);
  const med = medianInPlace(sample);
  for (let i = 0; i < n; i++) sample[i] = Math.abs(sample[i] - med);
  return MAD_TO_SIGMA * medianInPlace(sample);
}

/**
 * Standard deviation of the finite pixels within `border` px of the image edge: the noise of a
 * simulated image whose sources are all placed inside the border (paper section 2.1).
 */
export function borderNoiseStd(image: Image, border: number): number {
  const { data, width, height } = image;
  const b = Math.max(0, Math.min(Math.floor(border), Math.floor(Math.min(width, height) / 2)));
  if (b === 0) return NaN;
  const values = new Float32Array(width * height - Math.max(0, width - 2 * b) * Math.max(0, height - 2 * b));
  let n = 0;
  for (let y = 0; y < height; y++) {
    const inner = y >= b && y < height - b;
    for (let x = 0; x < width; x++) {
      if (inner && x >= b && x < width - b) continue;
      values[n++] = data[y * width + x];
    }
  }
  return meanStd(values.subarray(0, n)).std;
}
