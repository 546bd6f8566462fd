/**
 * Input normalisation, shared by training and inference (issue 3; paper section 4.1).
 *
 * The choice: divide by the image-wide robust noise sigma, then compress the bright end with an
 * asinh stretch,
 *
 *     n = SOFTENING · asinh((x / σ) / SOFTENING),      σ = MAD-based noise of the whole image,
 *
 * and map blanks (NaN, ±Inf) to 0, the background level, so they can never look like sources.
 *
 * Why this one:
 * - Robust to the noise level: pixel values are expressed in units of the noise (SNR), so images of
 *   different depth or weighting look alike to the CNN. σ comes from the median absolute deviation,
 *   which a few bright pixels (or a few hundred point sources) do not move.
 * - Robust to a few bright pixels: nothing is scaled by the image maximum. The stretch is close to
 *   linear for faint pixels (asinh(u) ≈ u − u³/6: within 1.5 % at 3σ, 5 % at 6σ), the regime that
 *   matters (paper section 5), and compresses bright ones: a 10⁴ σ source maps to ~76 instead of
 *   10⁴, which keeps activations and the training loss well-conditioned.
 * - Tiles normalise like the whole image: given σ the map is pixel-wise, so the caller estimates σ
 *   once per image and every tile (and every training patch) gets exactly the same values as the
 *   corresponding pixels of the full normalised image.
 *
 * The demand map's I in [0, 1] (paper eq. 3) is derived from the same normalised values: see
 * `demandIntensity`.
 */
import type { Image } from '../core/image';
import { madSigma } from '../core/stats';
import { UserInputError } from '../core/errors';

/** Pixels above about SOFTENING·σ are compressed logarithmically. */
export const SOFTENING = 10;

/**
 * Normalised value at which the demand-map intensity I saturates at 1: the stretched SNR 30.
 * Simulated sources are mostly faint (SNR ~ 0.1 + Exp(mean 1.5), paper Fig. 1), so almost none
 * saturate, while faint sources still get a usable share of [0, 1].
 */
export const DEMAND_SATURATION_SNR = 30;
export const DEMAND_SATURATION = SOFTENING * Math.asinh(DEMAND_SATURATION_SNR / SOFTENING);

/** Target number of pixels sampled by `estimateNoiseSigma` (a strided subsample). */
const NOISE_SAMPLE_TARGET = 1 << 20;

/**
 * Robust, NaN-safe noise sigma of a whole image: 1.4826 × MAD over a strided subsample of at most
 * about 10⁶ finite pixels (the MAD of 10⁶ samples has a relative standard error of ~0.1 %).
 * Throws a UserInputError when the image has no finite pixels or no spread (constant image).
 */
export function estimateNoiseSigma(image: Image): number {
  const n = image.data.length;
  // An odd stride avoids aliasing with even image widths (sampling one column only).
  let stride = Math.max(1, Math.floor(n / NOISE_SAMPLE_TARGET));
  if (stride > 1 && stride % 2 === 0) stride += 1;
  let sigma = madSigma(image.data, stride);
  if (!(sigma > 0) && stride > 1) sigma = madSigma(image.data, 1);
  if (!Number.isFinite(sigma)) throw new UserInputError(`cannot estimate the noise: the ${image.width}x${image.height} image has no finite pixels`);
  if (!(sigma > 0)) throw new UserInputError(`cannot estimate the noise: the ${image.width}x${image.height} image has zero spread (MAD = 0)`);
  return sigma;
}

/** Normalises one pixel value (see the file comment). */
export function normalisePixel(value: number, noiseSigma: number): number {
  if (!Number.isFinite(value)) return 0;
  return SOFTENING * Math.asinh(value / noiseSigma / SOFTENING);
}

/**
 * The CNN input for an image (or a tile of it) given the image-wide noise sigma. Pure: returns a
 * new image. NaN/±Inf become 0.
 */
export function normaliseInput(image: Image, noiseSigma: number): Image {
  if (!(noiseSigma > 0) || !Number.isFinite(noiseSigma)) {
    throw new UserInputError(`noise sigma must be a positive finite number, got ${noiseSigma}`);
  }
  const src = image.data;
  const out = new Float32Array(src.length);
  const invScale = 1 / (noiseSigma * SOFTENING);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = Number.isFinite(v) ? SOFTENING * Math.asinh(v * invScale) : 0;
  }
  return { data: out, width: image.width, height: image.height };
}

/**
 * I in [0, 1] for the demand map (paper eq. 3), from the *normalised* image: negative values are
 * clipped to 0 and values at or above DEMAND_SATURATION (SNR 30) to 1. The scale is fixed, not
 * the image maximum, so one very bright source does not make every other source faint in D.
 */
export function demandIntensity(normalised: Image): Image {
  const src = normalised.data;
  const out = new Float32Array(src.length);
  const inv = 1 / DEMAND_SATURATION;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] * inv;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
  }
  return { data: out, width: normalised.width, height: normalised.height };
}
