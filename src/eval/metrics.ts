/**
 * Purity, completeness, PC and S90 of a detection catalogue against the truth (paper, section 5.1).
 *
 * Entry point, for `evaluate`, `tune`, `compare` and the demo:
 *
 *   evaluateCatalogues(images: ImageCatalogues[], options?: EvaluateOptions): Evaluation
 *
 *   - images: one entry per image: { imageId, truth, detections, beamArcsec, pixelScaleArcsec? }.
 *     `truth` has the truth columns of CONTRACT.md (x, y, ra_deg, dec_deg, snr are read);
 *     `detections` the detection columns (x, y, ra_deg, dec_deg, snr are read). Each image is
 *     crossmatched on its own (a detection never matches a source of another image), then counts
 *     are summed over images, as the paper integrates over its 290 test images.
 *   - options: radiusBeams (default 2/3, paper 5.1), space ('sky' default: ra/dec on the tangent
 *     plane; 'pixel': x/y, needs pixelScaleArcsec), binWidth 0.5, snrMax 10, snrPoints [3,4,5],
 *     quality 0.9 (the level that defines S90).
 *   - returns an `Evaluation`, which is exactly the JSON `evaluate --json` writes (CONTRACT.md).
 *
 * Definitions (paper eqs. 7 and 8):
 * - purity in an SNR bin = TP / (TP + FP) over DETECTIONS whose detection SNR is in the bin;
 * - completeness in a bin = TP / (TP + FN) over TRUE sources whose true SNR is in the bin;
 *   so each bin carries two TP counts: `tp` (matched detections, by detection SNR) and `tp_true`
 *   (matched true sources, by true SNR). Catalogue counts (Table 4) sum `tp` + `fp`.
 * - P, C, PC at SNR s: the value in the bin [s, s + binWidth) (`purity`, ...) and the cumulative
 *   value over everything with SNR >= s (`purity_cumulative`, ...), including SNR above snrMax.
 * - S90 (paper 5.1.2): the lowest SNR above which purity and completeness both stay >= 0.9. On the
 *   binned curves (values at bin centres; empty bins are skipped): take the highest bin where P or
 *   C is below 0.9; S90 is where the failing curve(s) cross 0.9 by linear interpolation between that
 *   bin's centre and the next non-empty bin's centre (the later crossing if both fail). If no bin
 *   fails, S90 is the lower edge of the first non-empty bin; if the highest non-empty bin fails,
 *   S90 is null (never reached below snrMax).
 * - counts_above_s90: detections (TP + FP) with detection SNR >= S90, unbinned.
 * - Objects with a non-finite SNR are matched and counted in the totals but fall in no bin.
 */
import type { ColumnTable, Column } from '../catalogue/table';
import { tableLength } from '../catalogue/table';
import { UserInputError } from '../core/errors';
import { crossmatch, projectToTangentPlane, skyCentre, type PlanePoints } from './crossmatch';

export interface ImageCatalogues {
  /** Names the image in messages and per-image results. */
  readonly imageId: string;
  readonly truth: ColumnTable;
  readonly detections: ColumnTable;
  /** Beam size sqrt(BMAJ * BMIN) in arcsec (paper eq. 1). */
  readonly beamArcsec: number;
  /** Pixel size in arcsec; required when matching in pixel space. */
  readonly pixelScaleArcsec?: number;
}

export type MatchSpace = 'sky' | 'pixel';

export interface EvaluateOptions {
  /** Crossmatch radius in beams (paper 5.1: 2/3). */
  radiusBeams?: number;
  /** 'sky': ra_deg/dec_deg on a tangent plane per image; 'pixel': x/y. */
  space?: MatchSpace;
  binWidth?: number;
  snrMax?: number;
  /** SNR values where P, C and PC are reported (paper Table 3: 3, 4, 5). */
  snrPoints?: readonly number[];
  /** The quality level of S90 (paper 5.1.2: 0.9). */
  quality?: number;
}

export const DEFAULT_EVALUATE_OPTIONS: Readonly<Required<EvaluateOptions>> = Object.freeze({
  radiusBeams: 2 / 3,
  space: 'sky' as MatchSpace,
  binWidth: 0.5,
  snrMax: 10,
  snrPoints: Object.freeze([3, 4, 5]) as readonly number[],
  quality: 0.9,
});

export interface SnrBin {
  snr_lo: number;
  snr_hi: number;
  /** Matched detections with detection SNR in the bin. */
  tp: number;
  /** Unmatched detections with detection SNR in the bin. */
  fp: number;
  /** Matched true sources with true SNR in the bin. */
  tp_true: number;
  /** Unmatched true sources with true SNR in the bin. */
  fn: number;
  purity: number | null;
  completeness: number | null;
  pc: number | null;
}

export interface Evaluation {
  images: number;
  /** Crossmatch radius (mean over images when their beams differ). */
  radius_arcsec: number;
  radius_beams: number;
  match_space: MatchSpace;
  bins: SnrBin[];
  purity: Record<string, number | null>;
  completeness: Record<string, number | null>;
  pc: Record<string, number | null>;
  purity_cumulative: Record<string, number | null>;
  completeness_cumulative: Record<string, number | null>;
  pc_cumulative: Record<string, number | null>;
  s90: number | null;
  counts_above_s90: number | null;
  tp_above_s90: number | null;
  totals: { truth: number; detections: number; tp: number; fp: number; fn: number };
}

/** The per-object outcome of crossmatching, concatenated over images; input to `summarise`. */
export interface MatchSample {
  detectionSnr: Float64Array;
  detectionMatched: Uint8Array;
  truthSnr: Float64Array;
  truthMatched: Uint8Array;
  radiusArcsec: number[];
}

/** Checks options and fills defaults. */
export function resolveEvaluateOptions(options: EvaluateOptions = {}): Required<EvaluateOptions> {
  const o = { ...DEFAULT_EVALUATE_OPTIONS, ...stripUndefined(options) };
  if (!(o.radiusBeams > 0) || !Number.isFinite(o.radiusBeams)) throw new UserInputError(`radius must be > 0 beams, got ${o.radiusBeams}`);
  if (o.space !== 'sky' && o.space !== 'pixel') throw new UserInputError(`match space must be sky or pixel, got ${String(o.space)}`);
  if (!(o.binWidth > 0)) throw new UserInputError(`SNR bin width must be > 0, got ${o.binWidth}`);
  if (!(o.snrMax > 0) || Math.abs(o.snrMax / o.binWidth - Math.round(o.snrMax / o.binWidth)) > 1e-9) {
    throw new UserInputError(`SNR range 0..${o.snrMax} must be a positive whole number of ${o.binWidth}-wide bins`);
  }
  if (!(o.quality > 0 && o.quality <= 1)) throw new UserInputError(`quality level must be in (0, 1], got ${o.quality}`);
  return o;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Crossmatches every image and summarises (see the file comment). */
export function evaluateCatalogues(images: readonly ImageCatalogues[], options: EvaluateOptions = {}): Evaluation {
  const resolved = resolveEvaluateOptions(options);
  return summarise(matchImages(images, resolved), resolved);
}

/** Crossmatch step only: per-object outcomes for all images (reusable across summaries). */
export function matchImages(images: readonly ImageCatalogues[], options: EvaluateOptions = {}): MatchSample {
  const o = resolveEvaluateOptions(options);
  const parts = images.map((image) => matchOneImage(image, o));
  return concatSamples(parts);
}

function matchOneImage(image: ImageCatalogues, o: Required<EvaluateOptions>): MatchSample {
  if (!(image.beamArcsec > 0) || !Number.isFinite(image.beamArcsec)) {
    throw new UserInputError(`${image.imageId}: beam must be > 0 arcsec, got ${image.beamArcsec}`);
  }
  const radiusArcsec = o.radiusBeams * image.beamArcsec;
  const truthSnr = toFloat64(numericColumn(image.truth, 'snr', `${image.imageId} truth`));
  const detectionSnr = toFloat64(numericColumn(image.detections, 'snr', `${image.imageId} detections`));
  let truthPoints: PlanePoints;
  let detectionPoints: PlanePoints;
  let radius: number;
  if (o.space === 'pixel') {
    const scale = image.pixelScaleArcsec;
    if (scale === undefined || !(scale > 0)) {
      throw new UserInputError(`${image.imageId}: matching in pixels needs the pixel scale, got ${scale}`);
    }
    truthPoints = { x: numericColumn(image.truth, 'x', `${image.imageId} truth`), y: numericColumn(image.truth, 'y', `${image.imageId} truth`) };
    detectionPoints = { x: numericColumn(image.detections, 'x', `${image.imageId} detections`), y: numericColumn(image.detections, 'y', `${image.imageId} detections`) };
    radius = radiusArcsec / scale;
  } else {
    const tRa = numericColumn(image.truth, 'ra_deg', `${image.imageId} truth`);
    const tDec = numericColumn(image.truth, 'dec_deg', `${image.imageId} truth`);
    const dRa = numericColumn(image.detections, 'ra_deg', `${image.imageId} detections`);
    const dDec = numericColumn(image.detections, 'dec_deg', `${image.imageId} detections`);
    const centre = skyCentre(tRa, tDec) ?? skyCentre(dRa, dDec) ?? { raDeg: 0, decDeg: 0 };
    truthPoints = projectToTangentPlane(tRa, tDec, centre.raDeg, centre.decDeg);
    detectionPoints = projectToTangentPlane(dRa, dDec, centre.raDeg, centre.decDeg);
    radius = radiusArcsec;
  }
  const result = crossmatch(truthPoints, detectionPoints, radius);
  const truthMatched = new Uint8Array(result.truthToDetection.length);
  for (let i = 0; i < truthMatched.length; i++) truthMatched[i] = result.truthToDetection[i] >= 0 ? 1 : 0;
  const detectionMatched = new Uint8Array(result.detectionToTruth.length);
  for (let j = 0; j < detectionMatched.length; j++) detectionMatched[j] = result.detectionToTruth[j] >= 0 ? 1 : 0;
  return { detectionSnr, detectionMatched, truthSnr, truthMatched, radiusArcsec: [radiusArcsec] };
}

/** Concatenates per-image samples (the counts are then sums over images). */
export function concatSamples(parts: readonly MatchSample[]): MatchSample {
  const cat = <T extends Float64Array | Uint8Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((s, a) => s + a.length, 0));
    let offset = 0;
    for (const a of arrays) {
      out.set(a, offset);
      offset += a.length;
    }
    return out;
  };
  return {
    detectionSnr: cat(parts.map((p) => p.detectionSnr), (n) => new Float64Array(n)),
    detectionMatched: cat(parts.map((p) => p.detectionMatched), (n) => new Uint8Array(n)),
    truthSnr: cat(parts.map((p) => p.truthSnr), (n) => new Float64Array(n)),
    truthMatched: cat(parts.map((p) => p.truthMatched), (n) => new Uint8Array(n)),
    radiusArcsec: parts.flatMap((p) => p.radiusArcsec),
  };
}

/** Binned and cumulative P, C, PC, S90 and counts from crossmatch outcomes. */
export function summarise(sample: MatchSample, options: EvaluateOptions = {}): Evaluation {
  const o = resolveEvaluateOptions(options);
  const nBins = Math.round(o.snrMax / o.binWidth);
  const tp = new Float64Array(nBins);
  const fp = new Float64Array(nBins);
  const tpTrue = new Float64Array(nBins);
  const fn = new Float64Array(nBins);
  const binOf = (snr: number): number => {
    if (!Number.isFinite(snr) || snr < 0) return -1;
    const k = Math.floor(snr / o.binWidth + 1e-12);
    return k < nBins ? k : -1;
  };
  for (let j = 0; j < sample.detectionSnr.length; j++) {
    const k = binOf(sample.detectionSnr[j]);
    if (k < 0) continue;
    if (sample.detectionMatched[j]) tp[k]++;
    else fp[k]++;
  }
  for (let i = 0; i < sample.truthSnr.length; i++) {
    const k = binOf(sample.truthSnr[i]);
    if (k < 0) continue;
    if (sample.truthMatched[i]) tpTrue[k]++;
    else fn[k]++;
  }
  const bins: SnrBin[] = [];
  for (let k = 0; k < nBins; k++) {
    const purity = ratio(tp[k], tp[k] + fp[k]);
    const completeness = ratio(tpTrue[k], tpTrue[k] + fn[k]);
    bins.push({
      snr_lo: round12(k * o.binWidth),
      snr_hi: round12((k + 1) * o.binWidth),
      tp: tp[k],
      fp: fp[k],
      tp_true: tpTrue[k],
      fn: fn[k],
      purity,
      completeness,
      pc: purity === null || completeness === null ? null : purity * completeness,
    });
  }

  const purity: Record<string, number | null> = {};
  const completeness: Record<string, number | null> = {};
  const pc: Record<string, number | null> = {};
  const purityCum: Record<string, number | null> = {};
  const completenessCum: Record<string, number | null> = {};
  const pcCum: Record<string, number | null> = {};
  for (const s of o.snrPoints) {
    const key = String(s);
    const k = binOf(s);
    const bin = k >= 0 ? bins[k] : undefined;
    purity[key] = bin ? bin.purity : null;
    completeness[key] = bin ? bin.completeness : null;
    pc[key] = bin ? bin.pc : null;
    const pCum = cumulativeRatio(sample.detectionSnr, sample.detectionMatched, s);
    const cCum = cumulativeRatio(sample.truthSnr, sample.truthMatched, s);
    purityCum[key] = pCum;
    completenessCum[key] = cCum;
    pcCum[key] = pCum === null || cCum === null ? null : pCum * cCum;
  }

  const s90 = computeS90(bins, o.quality);
  let countsAbove: number | null = null;
  let tpAbove: number | null = null;
  if (s90 !== null) {
    countsAbove = 0;
    tpAbove = 0;
    for (let j = 0; j < sample.detectionSnr.length; j++) {
      if (sample.detectionSnr[j] >= s90) {
        countsAbove++;
        if (sample.detectionMatched[j]) tpAbove++;
      }
    }
  }

  const nTp = sum(sample.detectionMatched);
  const radii = sample.radiusArcsec;
  return {
    images: radii.length,
    radius_arcsec: radii.length === 0 ? 0 : radii.reduce((s, r) => s + r, 0) / radii.length,
    radius_beams: o.radiusBeams,
    match_space: o.space,
    bins,
    purity,
    completeness,
    pc,
    purity_cumulative: purityCum,
    completeness_cumulative: completenessCum,
    pc_cumulative: pcCum,
    s90,
    counts_above_s90: countsAbove,
    tp_above_s90: tpAbove,
    totals: {
      truth: sample.truthSnr.length,
      detections: sample.detectionSnr.length,
      tp: nTp,
      fp: sample.detectionSnr.length - nTp,
      fn: sample.truthSnr.length - sum(sample.truthMatched),
    },
  };
}

/**
 * S90 on binned P and C curves (see the file comment for the exact rule). Exported for tests.
 */
export function computeS90(bins: readonly SnrBin[], quality = 0.9): number | null {
  const nonEmpty = bins.map((b, k) => (b.purity !== null || b.completeness !== null ? k : -1)).filter((k) => k >= 0);
  if (nonEmpty.length === 0) return null;
  const fails = (b: SnrBin): boolean => (b.purity !== null && b.purity < quality) || (b.completeness !== null && b.completeness < quality);
  let lastFail = -1;
  for (const k of nonEmpty) if (fails(bins[k])) lastFail = k;
  if (lastFail < 0) return bins[nonEmpty[0]].snr_lo;
  const after = nonEmpty.find((k) => k > lastFail);
  if (after === undefined) return null;
  const f = bins[lastFail];
  const g = bins[after];
  const cf = (f.snr_lo + f.snr_hi) / 2;
  const cg = (g.snr_lo + g.snr_hi) / 2;
  let s90 = -Infinity;
  for (const key of ['purity', 'completeness'] as const) {
    const mf = f[key];
    if (mf === null || mf >= quality) continue;
    const mg = g[key];
    // The curve is empty at the next bin: it is first known to pass at that bin's lower edge.
    const crossing = mg === null ? g.snr_lo : cf + ((quality - mf) / (mg - mf)) * (cg - cf);
    s90 = Math.max(s90, crossing);
  }
  return round12(s90);
}

function cumulativeRatio(snr: Float64Array, matched: Uint8Array, above: number): number | null {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < snr.length; i++) {
    if (snr[i] >= above) {
      total++;
      hit += matched[i];
    }
  }
  return ratio(hit, total);
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function sum(values: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function round12(v: number): number {
  return Math.round(v * 1e12) / 1e12;
}

function toFloat64(values: ArrayLike<number>): Float64Array {
  return values instanceof Float64Array ? values.slice() : Float64Array.from(values);
}

/** A numeric column of a catalogue, or a clear error naming the catalogue and the column. */
export function numericColumn(table: ColumnTable, name: string, what: string): ArrayLike<number> {
  const column: Column | undefined = table.columns[name];
  if (column === undefined) {
    if (tableLength(table) === 0 && Object.keys(table.columns).length === 0) return new Float64Array(0);
    throw new UserInputError(`${what}: missing column ${JSON.stringify(name)} (have ${Object.keys(table.columns).join(', ') || 'none'})`);
  }
  if (Array.isArray(column)) {
    throw new UserInputError(`${what}: column ${JSON.stringify(name)} must be numeric, got strings`);
  }
  if (column instanceof BigInt64Array) return Float64Array.from(column, (v) => Number(v));
  return column;
}
