/**
 * `detectImage`: one image from pixels to catalogue (paper Fig. 7):
 *   noise estimate → normalise → CNN, tile by tile (src/tiling) → blank pixels masked → TBD
 *   (tbd.ts, paper section 4.2) → catalogue rows (catalogue-rows.ts).
 *
 * The CNN runs through a TileExecutor (the piscina pool or the serial path on a CnnRuntime); the
 * caller (CLI, pipeline wiring) picks it, so nothing here imports an SDK. `detectFitsImage` adds the
 * FITS read (header, WCS, beam) in front.
 *
 * Memory (issue 5): the image is read as rows on demand everywhere (noise sample, border std, CNN
 * tiles, the catalogue's peak_flux/local_rms bands; row-source.ts), so a FITS file is never held
 * whole: the stitched CNN map (4 bytes/pixel) is the only image-sized array, plus TBD's working set
 * (tbd.ts). An image already in memory (the pipeline) goes through the same code as a RowSource.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import { madSigma } from '../core/stats';
import { estimateNoiseSigma } from '../model/normalise';
import { openFits } from '../fits/read';
import { Wcs } from '../fits/wcs';
import { beamFromHeader, beamSizeDeg } from '../fits/beam';
import type { Beam, FitsHeader } from '../fits/types';
import { runTiledInference, type RowSource } from '../tiling/stitch';
import { resolveTilingOptions, type TilePlan } from '../tiling/plan';
import type { TileExecutor } from '../tiling/pool';
import type { ColumnTable } from '../catalogue/table';
import type { Provenance } from '../catalogue/provenance';
import { thresholdedBlobDetection, type TbdOptions, type TbdResult } from './tbd';
import { catalogueRowsFromSource, type NoiseModel, type PixelToSky } from './catalogue-rows';
import { borderNoiseStd } from './local-rms';
import { imageRowSource, sourceBorderNoiseStd, sourceNoiseSigma } from './row-source';
import { beamAreaPx, scaleTunedTbd, type TbdScalingRequest } from './tbd-params';

/**
 * Noise for the catalogue's local_rms/snr: 'mad-local-rms' (default, real images) or one value for
 * the whole image (the simulator's border std, CONTRACT.md SNR).
 */
export type DetectNoise = { estimator: 'mad-local-rms'; boxPx?: number } | { estimator: 'border-std' | 'global'; sigma: number };

export interface DetectImageOptions {
  /** Names the image in the catalogue (image_id), in errors and in tile requests. */
  imageId: string;
  /** Runs CNN tiles: createTilePool(...) or createSerialExecutor(runtime). */
  executor: TileExecutor;
  /** Tile window and overlap (px); defaults from src/tiling/plan.ts. */
  tile?: number;
  overlap?: number;
  tbd?: TbdOptions;
  noise?: DetectNoise;
  /** Sky positions; without one ra_deg/dec_deg are NaN. */
  wcs?: PixelToSky | null;
  provenance?: Provenance;
  /** Progress: called after each tile. */
  onTile?: (done: number, total: number) => void;
  /**
   * Called once the CNN map is complete, before TBD: `detect` closes the worker pool here after
   * the last image, so the workers' memory is given back before TBD's peak (issue 5 memory).
   */
  onCnnDone?: () => Promise<void>;
}

export interface DetectImageResult {
  readonly table: ColumnTable;
  /** The CNN output map, NaN where the input is blank. */
  readonly cnn: Image;
  readonly tbd: TbdResult;
  /** Image-wide robust noise sigma used to normalise the CNN input (NaN if the image has none). */
  readonly noiseSigma: number;
  readonly plan: TilePlan | null;
  readonly seconds: { cnn: number; tbd: number; rows: number };
  /** Where the CNN phase's time went (absent when the image had nothing to run the CNN on). */
  readonly cnnDetail?: {
    /** Seconds inside the runtime / in the tile function, summed over tiles (across workers). */
    readonly inferSeconds: number;
    readonly taskSeconds: number;
    /** Main-thread seconds reading strips and cutting tiles, and stitching. */
    readonly readSeconds: number;
    readonly stitchSeconds: number;
    /** Pixels the CNN processed, margins included. */
    readonly pixelsProcessed: number;
  };
  /** Seconds estimating the normalisation noise (a strided pass over the rows). */
  readonly noiseSeconds?: number;
}

/**
 * Robust image noise for normalisation: the MAD sigma of the whole image; when more than half the
 * finite pixels are exactly 0 (zero-padded borders), the MAD of the non-zero ones. NaN when the
 * image has no spread at all (nothing to detect).
 */
export function imageNoiseSigma(image: Image): number {
  try {
    return estimateNoiseSigma(image);
  } catch (err) {
    if (!(err instanceof UserInputError)) throw err;
  }
  const nonZero = image.data.filter((v) => v !== 0 && Number.isFinite(v));
  const sigma = nonZero.length > 0 ? madSigma(nonZero) : NaN;
  return sigma > 0 ? sigma : NaN;
}

/** Runs the whole detection on an image in memory. An image with nothing in it gives an empty table. */
export async function detectImage(image: Image, options: DetectImageOptions): Promise<DetectImageResult> {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || data.length !== width * height) {
    throw new UserInputError(`image ${options.imageId}: expected a non-empty width × height image, got ${width}×${height} with ${data.length} pixels`);
  }
  return detectRows(imageRowSource(image), options);
}

/**
 * detectImage on an image read as rows on demand (a FITS file): the same steps, the same results,
 * and never the whole image in memory.
 */
export async function detectRows(source: RowSource, options: DetectImageOptions): Promise<DetectImageResult> {
  const { width, height } = source;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new UserInputError(`image ${options.imageId}: expected a non-empty width × height image, got ${width}×${height}`);
  }
  const tiling = resolveTilingOptions({ tile: options.tile, overlap: options.overlap, workers: 0 }, { allowSerial: true });
  const noise = options.noise ?? { estimator: 'mad-local-rms' };
  if (noise.estimator !== 'mad-local-rms' && !(noise.sigma > 0 && Number.isFinite(noise.sigma))) {
    throw new UserInputError(`${noise.estimator} noise for image ${options.imageId} must be a positive number, got ${noise.sigma}`);
  }
  const tn = performance.now();
  const sigma = await sourceNoiseSigma(source);

  const t0 = performance.now();
  let cnn: Image;
  let plan: TilePlan | null = null;
  let cnnDetail: DetectImageResult['cnnDetail'];
  if (Number.isFinite(sigma)) {
    const result = await runTiledInference(source, {
      imageId: options.imageId,
      noiseSigma: sigma,
      executor: options.executor,
      tiling,
      onTile: options.onTile,
      // Blank input pixels never become sources: the CNN saw 0 there, TBD sees nothing (NaN).
      maskBlanks: true,
    });
    cnn = result.output;
    plan = result.plan;
    const { inferSeconds, taskSeconds, readSeconds, stitchSeconds, pixelsProcessed } = result;
    cnnDetail = { inferSeconds, taskSeconds, readSeconds, stitchSeconds, pixelsProcessed };
  } else {
    // No spread (blank or constant image): nothing can be detected; the map is blank.
    cnn = { data: new Float32Array(width * height).fill(NaN), width, height };
  }
  await options.onCnnDone?.();
  const t1 = performance.now();
  const tbd = thresholdedBlobDetection(cnn, options.tbd);
  const t2 = performance.now();

  const rowNoise: NoiseModel =
    noise.estimator === 'mad-local-rms'
      ? { estimator: 'mad-local-rms', globalSigma: Number.isFinite(sigma) ? sigma : 1, boxPx: noise.boxPx }
      : noise;
  const tbdMeta: Record<string, number | string> = {
    delta_max: tbd.options.deltaMax,
    a_min: tbd.options.aMin,
    centre: tbd.options.centre,
    stop_rule: tbd.options.stopRule,
    levels_per_decade: tbd.options.levelsPerDecade,
    decades: tbd.options.decades,
    connectivity: tbd.options.connectivity,
    deblend: tbd.options.deblend,
    threshold: tbd.sweep.threshold,
    level: tbd.sweep.chosenIndex,
  };
  const table = await catalogueRowsFromSource({
    source,
    cnn,
    blobs: tbd.blobs,
    imageId: options.imageId,
    noise: rowNoise,
    wcs: options.wcs,
    tileOf: plan ? tileLookup(plan) : undefined,
    provenance: {
      ...options.provenance,
      tbd: { ...tbdMeta, ...options.provenance?.tbd },
      extra: { 'deepsource.normalisation_sigma': String(sigma), ...options.provenance?.extra },
    },
  });
  const t3 = performance.now();
  return {
    table,
    cnn,
    tbd,
    noiseSigma: sigma,
    plan,
    seconds: { cnn: (t1 - t0) / 1000, tbd: (t2 - t1) / 1000, rows: (t3 - t2) / 1000 },
    ...(cnnDetail ? { cnnDetail } : {}),
    noiseSeconds: (t0 - tn) / 1000,
  };
}

/** Index of the tile whose core holds pixel (x, y). Tiles form a grid; cores partition the image. */
function tileLookup(plan: TilePlan): (x: number, y: number) => number {
  const tiles = plan.tiles;
  return (x, y) => {
    for (const tile of tiles) {
      const c = tile.core;
      if (x >= c.x0 && x < c.x1 && y >= c.y0 && y < c.y1) return tile.index;
    }
    return -1;
  };
}

export interface DetectFitsOptions extends Omit<DetectImageOptions, 'imageId' | 'wcs' | 'noise'> {
  /** Defaults to the file name without .fits. */
  imageId?: string;
  /**
   * 'auto' (default): a DeepSource simulation (header BORDERPX > 0) uses the std of its source-free
   * border, any other image the MAD local rms (CONTRACT.md, SNR). 'border:PX' forces a border width.
   */
  noise?: DetectNoise | 'auto' | { estimator: 'border-std'; borderPx: number };
  /** Overrides the header's beam (or supplies a missing one). */
  beam?: Beam;
  /**
   * Rescale the tuned Amin/Δmax in `tbd` from the tuning reference to this image (beam area from the
   * beam and the WCS pixel scale, image area = width × height); see scaleTunedTbd in tbd-params.ts.
   */
  tbdScaling?: TbdScalingRequest;
}

export interface DetectFitsResult extends DetectImageResult {
  readonly header: FitsHeader;
  readonly wcs: Wcs | null;
  readonly beam: Beam | null;
  /** Why there is no WCS, when there is none. */
  readonly wcsProblem?: string;
}

/** Image id from a path: the file name without .fits/.fit/.fts (and .gz). */
export function imageIdFromPath(path: string): string {
  return basename(path).replace(/\.gz$/i, '').replace(/\.(fits|fit|fts)$/i, '');
}

/**
 * Runs detectImage on a FITS image (NaN blanks, degenerate 3rd/4th axes dropped), reading rows on
 * demand: the file is never held whole (issue 5; the result equals detectHeaderedImage on the image
 * read whole).
 */
export async function detectFitsImage(path: string, options: DetectFitsOptions): Promise<DetectFitsResult> {
  const file = await openFits(path);
  try {
    return await detectHeaderedRows(file, file.header, {
      ...options,
      imageId: options.imageId ?? imageIdFromPath(path),
      where: path,
      imageName: basename(path),
      imageSha256: await sha256File(path),
    });
  } finally {
    await file.close();
  }
}

export interface DetectHeaderedOptions extends DetectFitsOptions {
  imageId: string;
  /** Names the image in error messages (a path or bucket/key). */
  where: string;
  imageName: string;
  imageSha256: string;
}

/**
 * detectImage for an image already read with its header (a local file, or an object fetched by the
 * pipeline's assemble stage): WCS, beam, SNR noise, the tuned-TBD rescaling and provenance are
 * decided here once, so `detect` and the pipeline make identical catalogues.
 */
export async function detectHeaderedImage(image: Image, header: FitsHeader, options: DetectHeaderedOptions): Promise<DetectFitsResult> {
  return detectHeaderedRows(imageRowSource(image), header, options);
}

/** detectHeaderedImage on an image read as rows on demand (detectFitsImage); identical results. */
export async function detectHeaderedRows(source: RowSource, header: FitsHeader, options: DetectHeaderedOptions): Promise<DetectFitsResult> {
  const { where, imageName, imageSha256, beam: beamOption, tbdScaling, ...rest } = options;
  let wcs: Wcs | null = null;
  let wcsProblem: string | undefined;
  try {
    wcs = Wcs.fromHeader(header, where);
  } catch (err) {
    wcsProblem = (err as Error).message;
  }
  const beam = beamOption ?? beamFromHeader(header);
  const noise = await chooseNoiseFromSource(source, header, options.noise ?? 'auto', where);
  let tbd = options.tbd;
  let scalingRecord: Record<string, number | string> = {};
  if (tbdScaling) {
    const target = { imageAreaPx: source.width * source.height, beamAreaPx: beam && wcs ? beamAreaPx(beam, wcs.pixelScaleDeg()) : undefined };
    const scaled = scaleTunedTbd(options.tbd ?? {}, tbdScaling, target);
    tbd = scaled.options;
    scalingRecord = scaled.record;
  }
  const result = await detectRows(source, {
    ...rest,
    tbd,
    wcs,
    noise,
    provenance: {
      ...options.provenance,
      ...(tbdScaling ? { tbd: { ...scalingRecord, ...options.provenance?.tbd } } : {}),
      imageName,
      imageSha256,
      ...(beam ? { beamArcsec: beamSizeDeg(beam) * 3600 } : {}),
      extra: {
        ...options.provenance?.extra,
        ...(beam ? { 'deepsource.beam_source': beam.source } : {}),
        ...(wcsProblem ? { 'deepsource.wcs_problem': wcsProblem } : {}),
      },
    },
  });
  return { ...result, header, wcs, beam, wcsProblem };
}

/** The noise behind SNR (CONTRACT.md): border std for DeepSource simulations (BORDERPX header or an explicit
 * border), MAD local rms otherwise. Shared by `detect` and the pipeline's assemble stage. */
export function chooseNoise(image: Image, header: FitsHeader, choice: NonNullable<DetectFitsOptions['noise']>, path: string): DetectNoise {
  const borderPx = noiseBorderPx(header, choice);
  if (typeof borderPx !== 'number') return borderPx;
  return borderNoise(borderNoiseStd(image, borderPx), borderPx, path);
}

/** chooseNoise reading the border by strips; identical result. */
export async function chooseNoiseFromSource(source: RowSource, header: FitsHeader, choice: NonNullable<DetectFitsOptions['noise']>, path: string): Promise<DetectNoise> {
  const borderPx = noiseBorderPx(header, choice);
  if (typeof borderPx !== 'number') return borderPx;
  return borderNoise(await sourceBorderNoiseStd(source, borderPx), borderPx, path);
}

/** The border width to measure, or the noise model itself when no border is involved. */
function noiseBorderPx(header: FitsHeader, choice: NonNullable<DetectFitsOptions['noise']>): number | DetectNoise {
  if (choice === 'auto') {
    const fromHeader = header.getNumber('BORDERPX');
    if (fromHeader === undefined || !(fromHeader > 0)) return { estimator: 'mad-local-rms' };
    return fromHeader;
  }
  if ('borderPx' in choice) return choice.borderPx;
  return choice;
}

function borderNoise(sigma: number, borderPx: number, path: string): DetectNoise {
  if (!(sigma > 0)) throw new UserInputError(`${path}: the ${borderPx}-px border has no noise to measure (std ${sigma}); use the MAD local rms instead`);
  return { estimator: 'border-std', sigma };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
