/**
 * `deepsource detect IMAGE.fits...`: CNN + thresholded blob detection end to end (paper Fig. 7),
 * one catalogue per image (CONTRACT.md columns and metadata).
 *
 * Composition root: picks onnxruntime (src/adapters/onnx-runtime.ts) for the CNN, in a piscina pool
 * of tile workers when --workers > 1, else on this thread. TBD parameters come from, in order: the
 * command line, the model directory's tbd.json (written by `deepsource tune`), the paper's defaults
 * (section 4.3: Δmax = 100, Amin = 10, mean centre).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { action, parseFloatOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError } from '../../core/errors';
import { readModelMetadata, resolveModelDir } from '../../model/registry';
import { availableCores, DEFAULT_TILING_OPTIONS, resolveTilingOptions } from '../../tiling/plan';
import { createSerialExecutor, createTilePool, type TileExecutor } from '../../tiling/pool';
import { writeFitsImage } from '../../fits/write';
import { parseBeamOption } from '../../fits/beam';
import type { Beam } from '../../fits/types';
import { CATALOGUE_EXTENSIONS, formatFromPath, parseCatalogueFormat, writeCatalogue, type CatalogueFormat } from '../../catalogue/write';
import { tableLength } from '../../catalogue/table';
import { detectFitsImage, imageIdFromPath, type DetectFitsOptions, type DetectFitsResult } from '../../detect/detect-image';
import { modelTbdOptions, type ModelTbd } from '../../detect/tbd-params';
import { CENTRE_METHODS, resolveTbdOptions, STOP_RULES, type CentreMethod, type StopRule, type TbdOptions } from '../../detect/tbd';

export interface DetectCliOptions {
  model: string;
  out?: string;
  format?: CatalogueFormat;
  tile?: number;
  overlap?: number;
  workers?: number;
  deltaMax?: number;
  aMin?: number;
  centre?: CentreMethod;
  stopRule?: StopRule;
  deblend?: number;
  saveCnn?: string;
  beam?: Beam;
  noise: NonNullable<DetectFitsOptions['noise']>;
  quiet?: boolean;
}

function parseCentre(value: string): CentreMethod {
  if (!(CENTRE_METHODS as readonly string[]).includes(value)) throw new UserInputError(`--centre must be one of ${CENTRE_METHODS.join('|')}, got ${JSON.stringify(value)}`);
  return value as CentreMethod;
}

function parseStopRule(value: string): StopRule {
  if (!(STOP_RULES as readonly string[]).includes(value)) throw new UserInputError(`--stop-rule must be one of ${STOP_RULES.join('|')}, got ${JSON.stringify(value)}`);
  return value as StopRule;
}

/** --noise auto | mad | border | border:PX */
export function parseNoiseOption(value: string): DetectCliOptions['noise'] {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  if (v === 'mad' || v === 'mad-local-rms') return { estimator: 'mad-local-rms' };
  const m = /^border(?:-std)?:(\d+)$/.exec(v);
  if (m && Number(m[1]) > 0) return { estimator: 'border-std', borderPx: Number(m[1]) };
  throw new UserInputError(`--noise must be auto, mad or border:PX (PX > 0), got ${JSON.stringify(value)}`);
}

/** Where each image's catalogue goes: --out FILE (one image), --out DIR, or IMAGE_ID.<ext> in the current directory. */
export function planOutputs(images: readonly string[], out: string | undefined, format: CatalogueFormat | undefined): { files: string[]; format: CatalogueFormat } {
  const isDir = out !== undefined && (out.endsWith('/') || out.endsWith(path.sep) || (existsSync(out) && statSync(out).isDirectory()) || (images.length > 1 && formatFromPath(out) === undefined));
  if (out !== undefined && !isDir) {
    if (images.length > 1) throw new UserInputError(`--out ${out} names one file but ${images.length} images were given; give a directory`);
    const chosen = format ?? formatFromPath(out) ?? 'parquet';
    return { files: [out], format: chosen };
  }
  const chosen = format ?? 'parquet';
  const dir = out ?? '.';
  const files = images.map((image) => path.join(dir, imageIdFromPath(image) + CATALOGUE_EXTENSIONS[chosen]));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f)) throw new UserInputError(`two images would write the same catalogue ${f}; give them different file names`);
    seen.add(f);
  }
  return { files, format: chosen };
}

/** TBD options: command line over the model's tbd.json over the paper's defaults (modelTbdOptions). */
export function tbdOptionsFor(modelDir: string, cli: Pick<DetectCliOptions, 'deltaMax' | 'aMin' | 'centre' | 'stopRule' | 'deblend'>): ModelTbd {
  return modelTbdOptions(modelDir, { deltaMax: cli.deltaMax, aMin: cli.aMin, centre: cli.centre, stopRule: cli.stopRule, deblend: cli.deblend });
}

/** Starts the CNN executor: a worker pool for --workers > 1, else onnxruntime on this thread. */
export async function createExecutor(modelDir: string, workers: number, maxQueue = DEFAULT_TILING_OPTIONS.maxQueue): Promise<TileExecutor> {
  if (workers <= 1) {
    // Loaded on use, so `deepsource --help` does not pay for the native onnxruntime binding.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createOnnxRuntime } = require('../../adapters/onnx-runtime') as typeof import('../../adapters/onnx-runtime');
    const runtime = await createOnnxRuntime(modelDir, { intraOpThreads: 1 });
    const serial = createSerialExecutor(runtime);
    return { capacity: serial.capacity, runTile: serial.runTile, close: async () => runtime.dispose() };
  }
  return createTilePool({
    runtimeModule: require.resolve('../../adapters/onnx-runtime'),
    runtimeExport: 'createOnnxRuntime',
    modelDir,
    workers,
    maxQueue,
  });
}

export async function runDetect(images: string[], opts: DetectCliOptions): Promise<DetectFitsResult[]> {
  if (images.length === 0) throw new UserInputError('detect needs at least one IMAGE.fits');
  for (const image of images) {
    if (!existsSync(image)) throw new UserInputError(`image ${image} does not exist`);
  }
  // Check everything the user typed before the model loads and workers start.
  const workers = opts.workers ?? Math.max(1, Math.min(availableCores(), 8));
  resolveTilingOptions({ tile: opts.tile, overlap: opts.overlap, workers });
  const modelDir = resolveModelDir(opts.model);
  const meta = readModelMetadata(modelDir);
  const tbd = tbdOptionsFor(modelDir, opts);
  const { files, format } = planOutputs(images, opts.out, opts.format);
  const saveCnn = cnnOutputs(images, opts.saveCnn);
  for (const f of [...files, ...saveCnn]) mkdirSync(path.dirname(path.resolve(f)), { recursive: true });
  const log = (line: string) => {
    if (!opts.quiet) process.stderr.write(line + '\n');
  };
  const scalingNote = tbd.scaling && (tbd.scaling.aMin || tbd.scaling.deltaMax) ? ' (tuned Amin/deltaMax rescaled per image to its beam and area)' : '';
  log(`model ${meta.name} ${meta.version} (${modelDir}); TBD ${JSON.stringify(resolveTbdOptions(tbd.options))} from ${tbd.source}${scalingNote}; ${workers} worker(s)`);
  const executor = await createExecutor(modelDir, workers);
  const results: DetectFitsResult[] = [];
  try {
    for (let i = 0; i < images.length; i++) {
      const image = images[i];
      let progress: ReturnType<typeof createProgress> | undefined;
      const result = await detectFitsImage(image, {
        executor,
        tile: opts.tile,
        overlap: opts.overlap,
        tbd: tbd.options,
        tbdScaling: tbd.scaling,
        noise: opts.noise,
        beam: opts.beam,
        provenance: { modelName: meta.name, modelVersion: meta.version, extra: { 'deepsource.tbd_source': tbd.source } },
        onTile: (done, total) => {
          progress ??= createProgress(`CNN ${path.basename(image)}`, total, { quiet: opts.quiet });
          progress.update(done);
        },
        // After the last image's CNN the workers are idle: free their memory before TBD.
        onCnnDone: i === images.length - 1 ? () => executor.close() : undefined,
      });
      progress?.stop();
      if (result.wcsProblem) log(`warning: ${image}: no usable WCS (${result.wcsProblem}); ra_deg/dec_deg are NaN`);
      if (!result.beam) log(`warning: ${image}: no restoring beam in the header; give --beam ARCSEC to record it`);
      await writeCatalogue(files[i], result.table, format);
      if (saveCnn.length > 0) {
        const cards = [...(result.wcs ? result.wcs.toCards() : []), { key: 'BUNIT', value: '' }, { key: 'HISTORY', comment: `DeepSource CNN output for ${path.basename(image)}, model ${meta.name} ${meta.version}` }];
        await writeFitsImage(saveCnn[i], result.cnn, cards);
      }
      const n = tableLength(result.table);
      const s = result.seconds;
      const eff = result.tbd.options;
      log(
        `${image}: ${n} source(s), deltaMax ${eff.deltaMax}, aMin ${eff.aMin}, tau*=${formatNumber(result.tbd.sweep.threshold)} (level ${result.tbd.sweep.chosenIndex}/${result.tbd.sweep.thresholds.length - 1}), noise sigma ${formatNumber(result.noiseSigma)}; CNN ${s.cnn.toFixed(2)} s, TBD ${s.tbd.toFixed(2)} s -> ${files[i]}`,
      );
      results.push(result);
    }
  } finally {
    await executor.close();
  }
  return results;
}

function cnnOutputs(images: readonly string[], saveCnn: string | undefined): string[] {
  if (saveCnn === undefined) return [];
  if (images.length === 1 && !(existsSync(saveCnn) && statSync(saveCnn).isDirectory()) && !saveCnn.endsWith('/')) return [saveCnn];
  return images.map((image) => path.join(saveCnn, `${imageIdFromPath(image)}.cnn.fits`));
}

function formatNumber(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('Find point sources: CNN + thresholded blob detection (paper sections 4.1-4.2); one catalogue per image')
    .argument('<IMAGE.fits...>', 'FITS images (2-D, or 4-D with degenerate axes; NaN blanks allowed)')
    .option('--model <natural|uniform|MODEL_DIR>', 'shipped model name or a model directory', 'natural')
    .option('--out <FILE|DIR>', 'catalogue file (one image) or directory (default: IMAGE_ID.<ext> here)')
    .option('--format <FORMAT>', 'parquet|csv|fits|votable|reg|arrow (default: from --out, else parquet)', (v: string) => parseCatalogueFormat(v))
    .option('--tile <PX>', `CNN tile window in px (default ${DEFAULT_TILING_OPTIONS.tile})`, parseIntOption('--tile', { min: 1 }))
    .option('--overlap <PX>', `tile overlap in px, >= the receptive field (default ${DEFAULT_TILING_OPTIONS.overlap})`, parseIntOption('--overlap', { min: 0 }))
    .option('--workers <N>', 'CNN worker threads (default: cores, at most 8; 1 = this thread)', parseIntOption('--workers', { min: 1 }))
    .option('--delta-max <N>', 'TBD Δmax (default: the model tbd.json, else 100)', parseFloatOption('--delta-max'))
    .option('--a-min <N>', 'TBD Amin, smallest blob area in px (default: the model tbd.json, else 10)', parseFloatOption('--a-min', { min: 0 }))
    .option('--centre <METHOD>', 'blob centre: mean (eq. 4) | centroid (eq. 5) | peak (eq. 6)', parseCentre)
    .option('--stop-rule <RULE>', "closest (paper text) | first-exceed (the authors' code)", parseStopRule)
    .option('--deblend <CONTRAST>', 'split blobs into component-tree branches holding >= CONTRAST of the blob flux and >= Amin px (beyond the paper; 0 = off; default: the model tbd.json, else 0)', parseFloatOption('--deblend', { min: 0, max: 0.999 }))
    .option('--save-cnn <FILE.fits|DIR>', 'also write the CNN output map (FITS, same WCS)')
    .option('--beam <ARCSEC>', 'restoring beam BMAJ[,BMIN[,BPA]] in arcsec when the header has none', (v: string) => parseBeamOption(v))
    .option('--noise <auto|mad|border:PX>', 'noise for local_rms/snr: auto = border std for DeepSource simulations (BORDERPX), MAD local rms otherwise', parseNoiseOption, 'auto' as DetectCliOptions['noise'])
    .option('--quiet', 'no progress or summary lines')
    .action(
      action(async (images: string[], opts: DetectCliOptions) => {
        await runDetect(images, opts);
      }),
    );
}
