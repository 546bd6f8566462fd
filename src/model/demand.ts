/**
 * Demand images, the CNN's training target (paper section 4.1, eq. 3):
 *
 *     D = (C + bn) · I^α, then scaled to [0, 1]
 *
 * - C, the coefficient image: the δ-image of true source positions (one pixel per source, at the
 *   rounded truth x, y) smoothed by a horn (cone) kernel of radius 15 px and then a Gaussian of
 *   σ = 10 px (section 4.1: "horn-shaped smooth triangle function and a Gaussian kernel ... 15 and
 *   10 pixels"; the authors' code uses a cone built from stacked discs and scipy's
 *   gaussian_filter(sigma)). We use the continuous cone h(d) = max(0, 1 − d/R). The combined kernel
 *   is scaled so that an isolated source peaks at exactly 1; overlapping sources add, and C is
 *   clipped to 1, so C lies in [0, 1].
 * - I: the input image in [0, 1], from the same normalised input the CNN sees (normalise.ts,
 *   `demandIntensity`: negative → 0, SNR ≥ 30 → 1).
 * - α weights sources by brightness: α = 0 makes faint and bright sources equally bright in D.
 * - bn keeps a little of the background in D, so the CNN learns about it too.
 * - D is divided by (1 + bn), its largest possible value, so D lies in [0, 1]. A fixed divisor
 *   (not the image maximum) keeps D pixel-wise, so a patch of D equals D of the patch.
 */
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import { demandIntensity } from './normalise';

export interface DemandOptions {
  /** Exponent of I (paper eq. 3); best value 0.75 (section 4.3). */
  alpha?: number;
  /** Background weight (paper eq. 3); best value 0.05 (section 4.3). */
  bn?: number;
  /** Radius of the horn (cone) kernel, px (section 4.1: 15). */
  hornRadius?: number;
  /** Sigma of the Gaussian kernel, px (section 4.1: 10). */
  gaussianSigma?: number;
}

export type ResolvedDemandOptions = Required<DemandOptions>;

export const DEFAULT_DEMAND_OPTIONS: Readonly<ResolvedDemandOptions> = Object.freeze({ alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 });

export function resolveDemandOptions(options: DemandOptions = {}): ResolvedDemandOptions {
  const o = { ...DEFAULT_DEMAND_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ResolvedDemandOptions;
  if (!Number.isFinite(o.alpha) || o.alpha < 0) throw new UserInputError(`--alpha must be a finite number >= 0, got ${o.alpha}`);
  if (!Number.isFinite(o.bn) || o.bn < 0) throw new UserInputError(`--bn must be a finite number >= 0, got ${o.bn}`);
  if (!Number.isFinite(o.hornRadius) || o.hornRadius <= 0) throw new UserInputError(`horn radius must be > 0 px, got ${o.hornRadius}`);
  if (!Number.isFinite(o.gaussianSigma) || o.gaussianSigma < 0) throw new UserInputError(`Gaussian sigma must be >= 0 px, got ${o.gaussianSigma}`);
  return o;
}

/** A square kernel of side 2·radius + 1, row-major. */
export interface SmoothingKernel {
  readonly radius: number;
  readonly data: Float64Array;
}

/** The cone h(d) = max(0, 1 − d/R), d = distance from the centre pixel. */
export function hornKernel(hornRadius: number): SmoothingKernel {
  const radius = Math.ceil(hornRadius);
  const side = 2 * radius + 1;
  const data = new Float64Array(side * side);
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) data[(dy + radius) * side + dx + radius] = Math.max(0, 1 - Math.hypot(dx, dy) / hornRadius);
  return { radius, data };
}

/**
 * Horn ⊛ Gaussian (Gaussian truncated at 4σ, weights summing to 1), scaled to peak 1.
 * This is the response of C to a single δ.
 */
export function coefficientKernel(hornRadius: number, gaussianSigma: number): SmoothingKernel {
  const horn = hornKernel(hornRadius);
  const g = gaussianSigma > 0 ? Math.ceil(4 * gaussianSigma) : 0;
  const weights = new Float64Array(2 * g + 1);
  let sum = 0;
  for (let i = -g; i <= g; i++) sum += weights[i + g] = gaussianSigma > 0 ? Math.exp((-0.5 * i * i) / (gaussianSigma * gaussianSigma)) : 1;
  for (let i = 0; i < weights.length; i++) weights[i] /= sum;
  const radius = horn.radius + g;
  const side = 2 * radius + 1;
  const hornSide = 2 * horn.radius + 1;
  // Place the horn in the middle of the output grid, then the separable Gaussian along x and y.
  const placed = new Float64Array(side * side);
  for (let y = 0; y < hornSide; y++) for (let x = 0; x < hornSide; x++) placed[(y + g) * side + x + g] = horn.data[y * hornSide + x];
  const alongX = new Float64Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let s = 0;
      for (let k = -g; k <= g; k++) {
        const xx = x + k;
        if (xx >= 0 && xx < side) s += weights[k + g] * placed[y * side + xx];
      }
      alongX[y * side + x] = s;
    }
  const out = new Float64Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let s = 0;
      for (let k = -g; k <= g; k++) {
        const yy = y + k;
        if (yy >= 0 && yy < side) s += weights[k + g] * alongX[yy * side + x];
      }
      out[y * side + x] = s;
    }
  const peak = out[radius * side + radius];
  for (let i = 0; i < out.length; i++) out[i] /= peak;
  return { radius, data: out };
}

export interface SourcePosition {
  /** 0-based pixel coordinates (CONTRACT.md). */
  readonly x: number;
  readonly y: number;
}

/** C: the smoothed δ-image (sum of peak-1 kernels at rounded positions), clipped to [0, 1]. */
export function coefficientImage(width: number, height: number, sources: readonly SourcePosition[], options: DemandOptions = {}): Image {
  const o = resolveDemandOptions(options);
  const kernel = coefficientKernel(o.hornRadius, o.gaussianSigma);
  const r = kernel.radius;
  const side = 2 * r + 1;
  const acc = new Float64Array(width * height);
  for (const s of sources) {
    const cx = Math.round(s.x);
    const cy = Math.round(s.y);
    if (!(cx >= 0 && cx < width && cy >= 0 && cy < height)) continue; // δ outside the image
    const y0 = Math.max(0, cy - r);
    const y1 = Math.min(height - 1, cy + r);
    const x0 = Math.max(0, cx - r);
    const x1 = Math.min(width - 1, cx + r);
    for (let y = y0; y <= y1; y++) {
      const krow = (y - cy + r) * side - cx + r;
      const row = y * width;
      for (let x = x0; x <= x1; x++) acc[row + x] += kernel.data[krow + x];
    }
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = acc[i] < 1 ? acc[i] : 1;
  return { data, width, height };
}

/**
 * D (paper eq. 3) for a *normalised* image (normalise.ts) and its true source positions.
 */
export function demandMap(normalised: Image, sources: readonly SourcePosition[], options: DemandOptions = {}): Image {
  const o = resolveDemandOptions(options);
  const c = coefficientImage(normalised.width, normalised.height, sources, o).data;
  const intensity = demandIntensity(normalised).data;
  const out = new Float32Array(c.length);
  const scale = 1 / (1 + o.bn);
  for (let i = 0; i < out.length; i++) out[i] = (c[i] + o.bn) * Math.pow(intensity[i], o.alpha) * scale;
  return { data: out, width: normalised.width, height: normalised.height };
}
