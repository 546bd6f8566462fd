/**
 * The comparison of source finders on the same test images (issue 4; paper section 5.2-5.5).
 *
 * Every finder is a `FinderRunner` (DeepSource, SExtractor, PyBDSF; the CLI composes them). For
 * each image the FITS file and its truth are read once, each finder runs, and its catalogue is
 * cached under CACHE/<finder>/<image>.parquet with a sidecar <image>.json (parameters, seconds);
 * a later run with the same parameters reuses it, so a slow finder (PyBDSF) does not rerun when
 * another finder changes. The SNR of every detection is then recomputed the same way
 * (finders/common.ts: image value at the position / the image noise of noise.ts), and every
 * finder is evaluated with the same crossmatch and metrics, at 1/3, 2/3 and 1 beam (paper 5.5).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnTable } from '../catalogue/table';
import { readCatalogue } from '../catalogue/read';
import { writeCatalogue } from '../catalogue/write';
import { UserInputError } from '../core/errors';
import { readFitsImage } from '../fits/read';
import { beamSizeDeg } from '../fits/beam';
import { writeFileAtomic } from '../fits/write';
import { detectionsFromPositions, truthWithSnr, type FinderImage, type TruthSnrMode } from './finders/common';
import { evaluateCatalogues, type Evaluation, type ImageCatalogues } from './metrics';
import { findImage, findTruthFiles } from './inputs';
import { snrNoise } from './noise';
import { better, type TuneObjective } from './tune';

export interface FinderRunner {
  /** Short name: 'deepsource', 'sextractor', 'pybdsf'. Also the cache folder name. */
  name: string;
  /** What the finder was run with (goes into the report; a change invalidates the cache). */
  params: Record<string, unknown>;
  run(target: FinderImage): Promise<ColumnTable>;
}

export interface CompareImageSet {
  /** Image ids in order, with their FITS and truth paths. */
  ids: string[];
  images: Map<string, string>;
  truths: Map<string, string>;
}

/** The images of a simulate-style directory that have a truth catalogue, in name order. */
export function findCompareImages(dataDir: string, limit?: number): CompareImageSet {
  const truths = findTruthFiles(dataDir);
  const images = new Map<string, string>();
  const ids: string[] = [];
  for (const id of truths.keys()) {
    const image = findImage(dataDir, id);
    if (!image) continue;
    images.set(id, image);
    ids.push(id);
    if (limit !== undefined && ids.length >= limit) break;
  }
  if (ids.length === 0) throw new UserInputError(`--data: no FITS image with a truth catalogue in ${dataDir}`);
  return { ids, images, truths };
}

export interface FinderRunStats {
  name: string;
  params: Record<string, unknown>;
  /** Wall seconds per image (cached runs keep the seconds of the run that made them). */
  seconds: number[];
  cached: number;
}

export interface CollectedCatalogues {
  /** Per finder: one ImageCatalogues per image, SNR recomputed uniformly. */
  perFinder: Map<string, ImageCatalogues[]>;
  stats: Map<string, FinderRunStats>;
  meta: { imageSize: string; weighting: string; beamArcsec: number[]; noiseSource: string[]; truthSnr: TruthSnrMode };
}

export interface CollectOptions {
  cacheDir?: string;
  /** Reuse cached catalogues made with the same parameters (default true). */
  reuse?: boolean;
  onProgress?: (done: number, total: number, note: string) => void;
  /** How true sources get their SNR (default 'pixel', paper section 2). */
  truthSnr?: TruthSnrMode;
  /** What selectBestRunner maximises (default 'pc3'). */
  objective?: TuneObjective;
}

/** Runs every finder on every image (or reuses the cache) and returns the uniform catalogues. */
export async function collectCatalogues(set: CompareImageSet, runners: readonly FinderRunner[], options: CollectOptions = {}): Promise<CollectedCatalogues> {
  const perFinder = new Map<string, ImageCatalogues[]>(runners.map((r) => [r.name, []]));
  const stats = new Map<string, FinderRunStats>(runners.map((r) => [r.name, { name: r.name, params: r.params, seconds: [], cached: 0 }]));
  const meta = { imageSize: '', weighting: '', beamArcsec: [] as number[], noiseSource: [] as string[], truthSnr: (options.truthSnr ?? 'pixel') as TruthSnrMode };
  const total = set.ids.length * runners.length;
  let done = 0;
  for (const id of set.ids) {
    const path = set.images.get(id)!;
    const { image, header, wcs, beam } = await readFitsImage(path);
    if (!beam) throw new UserInputError(`${path}: no restoring beam (BMAJ/BMIN) in the header`);
    const beamArcsec = beamSizeDeg(beam) * 3600;
    const scale = wcs.pixelScaleDeg();
    const noise = snrNoise(image, header);
    const target: FinderImage = { imageId: id, path, image, wcs, beamArcsec, pixelScaleArcsec: Math.sqrt(scale.x * scale.y) * 3600, noise: noise.sigma };
    const truth = truthWithSnr(await readCatalogue(set.truths.get(id)!), image, noise.sigma, options.truthSnr ?? 'pixel');
    meta.imageSize = `${image.width}x${image.height}`;
    meta.weighting = header.getString('WEIGHTNG') ?? meta.weighting;
    meta.beamArcsec.push(beamArcsec);
    meta.noiseSource.push(noise.source);
    for (const runner of runners) {
      const stat = stats.get(runner.name)!;
      const { table, seconds, cached } = await runCached(runner, target, options);
      stat.seconds.push(seconds);
      if (cached) stat.cached++;
      const x = table.columns.x as ArrayLike<number>;
      const y = table.columns.y as ArrayLike<number>;
      const uniform = detectionsFromPositions(target, { x, y }, runner.name);
      perFinder.get(runner.name)!.push({ imageId: id, truth, detections: uniform, beamArcsec, pixelScaleArcsec: target.pixelScaleArcsec });
      done++;
      options.onProgress?.(done, total, `${runner.name} ${id}${cached ? ' (cached)' : ''} ${seconds.toFixed(1)}s`);
    }
  }
  return { perFinder, stats, meta };
}

async function runCached(runner: FinderRunner, target: FinderImage, options: CollectOptions): Promise<{ table: ColumnTable; seconds: number; cached: boolean }> {
  const dir = options.cacheDir ? join(options.cacheDir, runner.name) : undefined;
  const catPath = dir ? join(dir, `${target.imageId}.parquet`) : undefined;
  const sidePath = dir ? join(dir, `${target.imageId}.json`) : undefined;
  const paramsJson = JSON.stringify(runner.params);
  if (catPath && sidePath && options.reuse !== false && existsSync(catPath) && existsSync(sidePath)) {
    try {
      const side = JSON.parse(readFileSync(sidePath, 'utf8')) as { params: unknown; seconds: number };
      if (JSON.stringify(side.params) === paramsJson) return { table: await readCatalogue(catPath), seconds: side.seconds, cached: true };
    } catch {
      // unreadable sidecar: run again
    }
  }
  const t0 = performance.now();
  const table = await runner.run(target);
  const seconds = (performance.now() - t0) / 1000;
  if (dir && catPath && sidePath) {
    mkdirSync(dir, { recursive: true });
    await writeCatalogue(catPath, table, 'parquet');
    await writeFileAtomic(sidePath, Buffer.from(JSON.stringify({ params: runner.params, seconds }, null, 2) + '\n'));
  }
  return { table, seconds, cached: false };
}

/** The crossmatch radii of the paper's section 5.5, in beams. */
export const RADIUS_EXPERIMENT: readonly { label: string; beams: number }[] = Object.freeze([
  { label: '1/3', beams: 1 / 3 },
  { label: '2/3', beams: 2 / 3 },
  { label: '1', beams: 1 },
]);

export interface FinderComparison {
  name: string;
  params: Record<string, unknown>;
  seconds_per_image: number | null;
  seconds_total: number;
  cached_images: number;
  /** At the default radius, 2/3 beam. */
  evaluation: Evaluation;
  /** Keyed by the radius label ('1/3', '2/3', '1'). */
  radius: Record<string, Evaluation>;
}

export interface CompareResult {
  label: string;
  data: string;
  images: number;
  image_ids: string[];
  image_size: string;
  weighting: string;
  beam_arcsec: number;
  snr_noise: string;
  /** How true sources got their SNR ('pixel': image value at the true position over the noise); absent in results written before it existed. */
  truth_snr?: TruthSnrMode;
  finders: FinderComparison[];
}

/** Evaluates collected catalogues (same code, same radius for every finder). */
export function compareFinders(label: string, dataDir: string, set: CompareImageSet, collected: CollectedCatalogues): CompareResult {
  const finders: FinderComparison[] = [];
  for (const [name, images] of collected.perFinder) {
    const stat = collected.stats.get(name)!;
    const radius: Record<string, Evaluation> = {};
    for (const r of RADIUS_EXPERIMENT) radius[r.label] = evaluateCatalogues(images, { radiusBeams: r.beams });
    const secs = stat.seconds;
    finders.push({
      name,
      params: stat.params,
      seconds_per_image: secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null,
      seconds_total: secs.reduce((a, b) => a + b, 0),
      cached_images: stat.cached,
      evaluation: radius['2/3'],
      radius,
    });
  }
  const beams = collected.meta.beamArcsec;
  return {
    label,
    data: dataDir,
    images: set.ids.length,
    image_ids: set.ids,
    image_size: collected.meta.imageSize,
    weighting: collected.meta.weighting,
    beam_arcsec: beams.length ? beams.reduce((a, b) => a + b, 0) / beams.length : NaN,
    snr_noise: [...new Set(collected.meta.noiseSource)].join(','),
    truth_snr: collected.meta.truthSnr,
    finders,
  };
}

export interface CandidateScore {
  name: string;
  params: Record<string, unknown>;
  pc3: number | null;
  pc3_cumulative: number | null;
  completeness3: number | null;
  s90: number | null;
  seconds_per_image: number | null;
}

/**
 * Tunes an external finder on validation images (as the paper tuned PyBDSF's thresholds, section 3):
 * runs each candidate setting, keeps the best by `options.objective` (default PC3; see better() in tune.ts).
 * Candidates need distinct names (they are cache folders), e.g. 'pybdsf@2-2'.
 */
export async function selectBestRunner(
  set: CompareImageSet,
  candidates: readonly FinderRunner[],
  options: CollectOptions = {},
): Promise<{ best: FinderRunner; scores: CandidateScore[] }> {
  if (candidates.length === 0) throw new UserInputError('no candidate settings to tune');
  const collected = await collectCatalogues(set, candidates, options);
  const scores: CandidateScore[] = [];
  let bestIndex = 0;
  candidates.forEach((c, i) => {
    const e = evaluateCatalogues(collected.perFinder.get(c.name)!);
    const secs = collected.stats.get(c.name)!.seconds;
    scores.push({ name: c.name, params: c.params, pc3: e.pc['3'], pc3_cumulative: e.pc_cumulative['3'], completeness3: e.completeness['3'], s90: e.s90, seconds_per_image: secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null });
    if (i > 0 && better(scores[i], scores[bestIndex], options.objective)) bestIndex = i;
  });
  return { best: candidates[bestIndex], scores };
}

