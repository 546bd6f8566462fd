/**
 * Tuning of the thresholded blob detection on a validation set (paper section 4.3): search Δmax,
 * Amin, the centre definition (eqs. 4-6) and the stop rule, maximising PC3 (purity x completeness
 * in the SNR bin [3, 3.5)). The CNN has already run: this works on its output maps, so the search
 * is cheap.
 *
 * Why it is fast: the blob counts N(τ) of one sweep (all blob sizes) fix τ* for every Δmax and stop
 * rule (chooseLevel). Blobs at a given τ* do not depend on Amin (a filter applied afterwards,
 * paper Fig. 6), and the peak centre comes with every blob, so each distinct τ* costs two TBD runs
 * (mean and centroid centres), made cheap by a sweep floor at τ* itself. Every grid point is then
 * a filter plus a crossmatch.
 *
 * Deblending (beyond the paper, src/detect/deblend.ts) is searched too: its contrast and Amin decide
 * the split, so each (level, Amin, contrast) replays the level's component trees, built once.
 *
 * Ties of PC3 go to the higher cumulative PC(SNR >= 3), then the lower S90, then the earlier grid
 * point (grid order is the paper's best first: Δmax 100, Amin 10, mean centre, no deblending).
 */
import type { ColumnTable } from '../catalogue/table';
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import {
  chooseLevel,
  resolveTbdOptions,
  thresholdedBlobDetection,
  type BlobColumns,
  type CentreMethod,
  type StopRule,
  type TbdOptions,
} from '../detect/tbd';
import { buildMergeForest, deblendForest, type MergeForest } from '../detect/deblend';
import { concatSamples, matchImages, resolveEvaluateOptions, summarise, type Evaluation, type MatchSample } from './metrics';
import { pixelValues } from './finders/common';

export interface TuneImage {
  imageId: string;
  /** The original image (SNR of detections = value at the position / noise). */
  image: Image;
  /** The CNN output map of that image. */
  cnn: Image;
  truth: ColumnTable;
  beamArcsec: number;
  pixelScaleArcsec: number;
  /** Noise defining SNR (CONTRACT.md). */
  noise: number;
}

export interface TuneGrid {
  deltaMax: readonly number[];
  aMin: readonly number[];
  centre: readonly CentreMethod[];
  stopRule: readonly StopRule[];
  /** Deblending contrasts (0: none, the paper's TBD; src/detect/deblend.ts). */
  deblend: readonly number[];
}

export const DEFAULT_TUNE_GRID: Readonly<TuneGrid> = Object.freeze({
  deltaMax: Object.freeze([100, 5, 10, 20, 50, 200, 500, 1000, 2000]),
  aMin: Object.freeze([10, 0, 2, 4, 6, 8, 12, 15, 20, 30, 40, 60, 100, 150, 200, 300]),
  centre: Object.freeze(['mean', 'centroid', 'peak'] as CentreMethod[]),
  stopRule: Object.freeze(['closest', 'first-exceed'] as StopRule[]),
  deblend: Object.freeze([0, 0.001, 0.005, 0.02, 0.1]),
});

export interface TuneTrial {
  deltaMax: number;
  aMin: number;
  centre: CentreMethod;
  stopRule: StopRule;
  deblend: number;
  pc3: number | null;
  pc3_cumulative: number | null;
  purity3: number | null;
  completeness3: number | null;
  s90: number | null;
  detections: number;
}

export interface TuneResult {
  images: number;
  objective: TuneObjective;
  best: TuneTrial;
  bestEvaluation: Evaluation;
  trials: TuneTrial[];
  /** The sweep settings every trial used (levels per decade, decades, connectivity, floor). */
  sweep: { levelsPerDecade: number; decades: number; connectivity: 4 | 8; floor: number };
}

export interface TuneOptions {
  grid?: Partial<TuneGrid>;
  /** Sweep settings other than the tuned ones (levelsPerDecade, decades, connectivity, floor). */
  tbd?: TbdOptions;
  radiusBeams?: number;
  /** What is maximised (default 'pc3', the paper's section 4.3). */
  objective?: TuneObjective;
  /** Called after each (Δmax, stop rule) group of grid points: done and total groups. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The tuning objective. 'pc3' (paper section 4.3): PC in the SNR bin [3, 3.5). 'pc3-cumulative':
 * PC over everything with SNR >= 3 — the same idea, far less noisy on a small validation set (a bin
 * [3, 3.5) holds ~6 true sources per 2048² image, so with 10 images the bin value swings by
 * several hundredths from one setting to the next and can pick degenerate settings).
 */
export type TuneObjective = 'pc3' | 'pc3-cumulative';
export const TUNE_OBJECTIVES: readonly TuneObjective[] = Object.freeze(['pc3', 'pc3-cumulative']);


/**
 * One image's blobs at one sweep level: mean and centroid positions, peak pixel, area; and their
 * component trees for deblending (built on first use; the same blobs in the same order either way).
 */
interface LevelBlobs {
  mean: BlobColumns;
  centroid: BlobColumns;
  threshold: number;
  forest?: MergeForest;
}

export function tuneTbd(images: readonly TuneImage[], options: TuneOptions = {}): TuneResult {
  if (images.length === 0) throw new UserInputError('tune needs at least one validation image, got 0');
  const grid: TuneGrid = { ...DEFAULT_TUNE_GRID, ...options.grid };
  for (const [name, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) throw new UserInputError(`tune grid ${name} must list at least one value`);
  }
  const base = resolveTbdOptions({ ...options.tbd, stopRule: 'closest', aMin: 0 });
  for (const aMin of grid.aMin) resolveTbdOptions({ aMin });
  for (const centre of grid.centre) resolveTbdOptions({ centre });
  for (const stopRule of grid.stopRule) resolveTbdOptions({ stopRule });
  for (const deblend of grid.deblend) resolveTbdOptions({ deblend });
  const evalOptions = resolveEvaluateOptions({ radiusBeams: options.radiusBeams, space: 'pixel' });

  // Per image: the level chosen by each (Δmax, rule), and blobs per distinct level.
  const perImage = images.map((img) => {
    checkTuneImage(img);
    const sweep = thresholdedBlobDetection(img.cnn, { ...base, deblend: 0 }).sweep;
    const levelOf = new Map<string, number>();
    for (const deltaMax of grid.deltaMax) for (const rule of grid.stopRule) levelOf.set(`${deltaMax}|${rule}`, chooseLevel(sweep.counts, deltaMax, rule));
    const blobsAt = new Map<number, LevelBlobs>();
    for (const k of new Set(levelOf.values())) {
      if (k < 0) continue;
      const tau = sweep.thresholds[k];
      const atLevel = (centre: CentreMethod) =>
        thresholdedBlobDetection(img.cnn, { ...base, floor: tau, stopRule: 'first-exceed', deltaMax: Number.MAX_VALUE, aMin: 0, centre, deblend: 0 }).blobs;
      blobsAt.set(k, { mean: atLevel('mean'), centroid: atLevel('centroid'), threshold: tau });
    }
    return { img, levelOf, blobsAt };
  });

  const trials: TuneTrial[] = [];
  let best: { trial: TuneTrial; evaluation: Evaluation } | undefined;
  let groupsDone = 0;
  for (const deltaMax of grid.deltaMax) {
    for (const stopRule of grid.stopRule) {
      for (const aMin of grid.aMin) {
        for (const [centre, deblend] of grid.centre.flatMap((c) => grid.deblend.map((d) => [c, d] as const))) {
          const samples: MatchSample[] = perImage.map(({ img, levelOf, blobsAt }) => {
            const k = levelOf.get(`${deltaMax}|${stopRule}`) ?? -1;
            const blobs = k >= 0 ? blobsAt.get(k) : undefined;
            const source = blobs && deblend > 0 ? deblended(img, blobs, base.connectivity, aMin, deblend, centre) : blobs && (centre === 'centroid' ? blobs.centroid : blobs.mean);
            return matchImages([{ imageId: img.imageId, truth: img.truth, detections: blobTable(img, source, aMin, centre), beamArcsec: img.beamArcsec, pixelScaleArcsec: img.pixelScaleArcsec }], evalOptions);
          });
          const evaluation = summarise(concatSamples(samples), evalOptions);
          const trial: TuneTrial = {
            deltaMax,
            aMin,
            centre,
            stopRule,
            deblend,
            pc3: evaluation.pc['3'],
            pc3_cumulative: evaluation.pc_cumulative['3'],
            purity3: evaluation.purity['3'],
            completeness3: evaluation.completeness['3'],
            s90: evaluation.s90,
            detections: evaluation.totals.detections,
          };
          trials.push(trial);
          if (!best || better(trial, best.trial, options.objective)) best = { trial, evaluation };
        }
      }
      options.onProgress?.(++groupsDone, grid.deltaMax.length * grid.stopRule.length);
    }
  }
  return {
    images: images.length,
    objective: options.objective ?? 'pc3',
    best: best!.trial,
    bestEvaluation: best!.evaluation,
    trials,
    sweep: { levelsPerDecade: base.levelsPerDecade, decades: base.decades, connectivity: base.connectivity, floor: base.floor },
  };
}

/** The scores a tuning candidate is ranked by (TBD trials here, external-finder settings in compare.ts). */
export type RankedScore = Pick<TuneTrial, 'pc3' | 'pc3_cumulative' | 'completeness3' | 's90'>;

/**
 * Is `a` strictly better than `b`? 'pc3': PC3, then cumulative PC3, then lower S90 (null is worst);
 * 'pc3-cumulative': cumulative PC3 first, then PC3, then S90.
 */
export function better(a: RankedScore, b: RankedScore, objective: TuneObjective = 'pc3'): boolean {
  const key = (t: RankedScore) => {
    const bin = pc3Score(t.pc3, t.completeness3);
    const cumulative = t.pc3_cumulative ?? -1;
    const s90 = t.s90 === null ? -Infinity : -t.s90;
    return objective === 'pc3' ? [bin, cumulative, s90] : [cumulative, bin, s90];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] > kb[i] + 1e-12) return true;
    if (ka[i] < kb[i] - 1e-12) return false;
  }
  return false;
}

/**
 * PC3 for ranking: a bin with true sources but no detection has C = 0 and an undefined P, so
 * PC = 0 there (not "unknown"); only a bin without true sources stays unranked (-1).
 */
export function pc3Score(pc3: number | null, completeness3: number | null): number {
  if (pc3 !== null) return pc3;
  return completeness3 === 0 ? 0 : -1;
}

/** The level's blobs split by the deblender (the component trees are built once per level). */
function deblended(img: TuneImage, blobs: LevelBlobs, connectivity: 4 | 8, aMin: number, contrast: number, centre: CentreMethod): BlobColumns {
  blobs.forest ??= buildMergeForest(img.cnn, blobs.mean, blobs.threshold, connectivity);
  const forest = centre === 'centroid' ? { ...blobs.forest, blobs: blobs.centroid } : blobs.forest;
  return deblendForest(forest, img.cnn.width, aMin, contrast, centre);
}

function blobTable(img: TuneImage, source: BlobColumns | undefined, aMin: number, centre: CentreMethod): ColumnTable {
  if (!source) return { columns: { x: new Float64Array(0), y: new Float64Array(0), snr: new Float64Array(0) }, info: {}, metadata: {} };
  const keep: number[] = [];
  for (let i = 0; i < source.count; i++) if (source.area[i] >= aMin) keep.push(i);
  const x = new Float64Array(keep.length);
  const y = new Float64Array(keep.length);
  keep.forEach((i, k) => {
    x[k] = centre === 'peak' ? source.peakX[i] : source.x[i];
    y[k] = centre === 'peak' ? source.peakY[i] : source.y[i];
  });
  const snr = pixelValues(img.image, x, y).map((v) => v / img.noise);
  return { columns: { x, y, snr }, info: {}, metadata: {} };
}

function checkTuneImage(img: TuneImage): void {
  if (img.cnn.width !== img.image.width || img.cnn.height !== img.image.height) {
    throw new UserInputError(`${img.imageId}: CNN map is ${img.cnn.width}x${img.cnn.height} but the image is ${img.image.width}x${img.image.height}`);
  }
  if (!(img.noise > 0)) throw new UserInputError(`${img.imageId}: noise must be > 0, got ${img.noise}`);
}
