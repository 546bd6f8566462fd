/**
 * `deepsource tune`: choose Δmax, Amin, the centre definition and the stop rule of the thresholded
 * blob detection by maximising PC3 on validation images (paper section 4.3), and write them into
 * the model directory as tbd.json, which `detect` (and `compare`) use as defaults.
 *
 * The CNN runs once per image; its maps can be kept (--maps DIR) so that a second tuning run skips
 * the CNN.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { action, parseChoiceOption, parseFloatOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { readCatalogue } from '../../catalogue/read';
import { readFitsImage } from '../../fits/read';
import { writeFileAtomic, writeFitsImage } from '../../fits/write';
import { beamSizeDeg } from '../../fits/beam';
import { UserInputError } from '../../core/errors';
import type { Image } from '../../core/image';
import { detectImage } from '../../detect/detect-image';
import { beamAreaPx, writeTunedTbdParams } from '../../detect/tbd-params';
import { findCompareImages } from '../../eval/compare';
import { snrNoise } from '../../eval/noise';
import { TRUTH_SNR_MODES, truthWithSnr, type TruthSnrMode } from '../../eval/finders/common';
import { DEFAULT_TUNE_GRID, TUNE_OBJECTIVES, tuneTbd, type TuneImage, type TuneObjective } from '../../eval/tune';
import { formatEvaluationSummary, fmt } from '../../eval/summary';
import { createDeepSourceRunner } from './compare';
import { parseRadiusBeams } from './evaluate';

interface TuneCliOptions {
  data: string;
  model: string;
  json?: string;
  limit?: number;
  threads: number;
  maps?: string;
  write: boolean;
  radiusBeams: number;
  truthSnr: TruthSnrMode;
  objective: TuneObjective;
  deblend?: number[];
}

export function register(program: Command): void {
  program
    .command('tune')
    .description('Tune TBD (Δmax, Amin, centre, stop rule) on validation images by maximising PC3 (paper 4.3); writes MODEL_DIR/tbd.json')
    .requiredOption('--data <DIR>', 'validation images with truth (a simulate --out directory), not the test set')
    .requiredOption('--model <NAME|DIR>', 'natural, uniform or a model directory')
    .option('--json <FILE>', 'write every grid point and the best, with its full evaluation')
    .option('--limit <N>', 'use the first N images', parseIntOption('--limit', { min: 1 }))
    .option('--threads <N>', 'onnxruntime threads for the CNN', parseIntOption('--threads', { min: 1 }), 2)
    .option('--maps <DIR>', 'keep CNN maps here as IMAGE_ID.cnn.fits and reuse them on the next run')
    .option('--no-write', 'do not write tbd.json into the model directory')
    .option('--truth-snr <MODE>', "true-source SNR: pixel (image value at the true position over the noise, paper section 2) or catalogue (the truth file's snr column)", parseChoiceOption('--truth-snr', TRUTH_SNR_MODES), 'pixel' as TruthSnrMode)
    .option('--objective <NAME>', 'what to maximise: pc3 (PC in the SNR bin [3, 3.5), paper section 4.3) or pc3-cumulative (PC over SNR >= 3; steadier on few validation images)', parseChoiceOption('--objective', TUNE_OBJECTIVES), 'pc3' as TuneObjective)
    .option('--radius-beams <R>', 'crossmatch radius in beams', parseRadiusBeams, 2 / 3)
    .option('--deblend <LIST>', `deblending contrasts to search, comma-separated (0 = the paper's TBD without deblending; default ${DEFAULT_TUNE_GRID.deblend.join(',')})`, parseDeblendList)
    .action(
      action(async (opts: TuneCliOptions) => {
        const set = findCompareImages(opts.data, opts.limit);
        const ds = await createDeepSourceRunner(opts.model, opts.threads);
        const images: TuneImage[] = [];
        // Tuning reference (tbd.json referenceImageAreaPx/referenceBeamAreaPx): detect rescales Amin
        // by beam area and Δmax by image area from these (src/detect/tbd-params.ts, scaleTunedTbd).
        const imageAreas: number[] = [];
        const beamAreas: number[] = [];
        try {
          if (opts.maps) mkdirSync(opts.maps, { recursive: true });
          const progress = createProgress('tune: CNN', set.ids.length);
          for (const id of set.ids) {
            const path = set.images.get(id)!;
            const { image, header, wcs, beam } = await readFitsImage(path);
            if (!beam) throw new UserInputError(`${path}: no restoring beam (BMAJ/BMIN) in the header`);
            const noise = snrNoise(image, header);
            const mapPath = opts.maps ? join(opts.maps, `${id}.cnn.fits`) : undefined;
            let cnn: Image;
            if (mapPath && existsSync(mapPath)) {
              cnn = (await readFitsImage(mapPath)).image;
              if (cnn.width !== image.width || cnn.height !== image.height) throw new UserInputError(`${mapPath}: CNN map size does not match ${path}`);
            } else {
              cnn = (await detectImage(image, { imageId: id, executor: ds.executor, noise: { estimator: 'border-std', sigma: noise.sigma }, wcs })).cnn;
              if (mapPath) await writeFitsImage(mapPath, cnn, wcs.toCards());
            }
            const scale = wcs.pixelScaleDeg();
            imageAreas.push(image.width * image.height);
            beamAreas.push(beamAreaPx(beam, scale));
            images.push({
              imageId: id,
              image,
              cnn,
              truth: truthWithSnr(await readCatalogue(set.truths.get(id)!), image, noise.sigma, opts.truthSnr),
              beamArcsec: beamSizeDeg(beam) * 3600,
              pixelScaleArcsec: Math.sqrt(scale.x * scale.y) * 3600,
              noise: noise.sigma,
            });
            progress.update(images.length);
          }
          progress.stop();
        } finally {
          await ds.close();
        }
        const t0 = performance.now();
        let search: ReturnType<typeof createProgress> | undefined;
        const result = tuneTbd(images, {
          radiusBeams: opts.radiusBeams,
          objective: opts.objective,
          grid: opts.deblend ? { deblend: opts.deblend } : {},
          onProgress: (done, total) => {
            search ??= createProgress('tune: TBD grid (Δmax × stop rule)', total);
            search.update(done);
          },
        });
        search?.stop();
        const seconds = (performance.now() - t0) / 1000;
        const b = result.best;
        process.stdout.write(
          `best of ${result.trials.length} settings on ${result.images} image(s) (${seconds.toFixed(1)} s): ` +
            `deltaMax ${b.deltaMax}, aMin ${b.aMin}, centre ${b.centre}, stop rule ${b.stopRule}, deblend ${b.deblend}: PC3 ${fmt(b.pc3)}, PC>=3 ${fmt(b.pc3_cumulative)}, S90 ${fmt(b.s90)}\n`,
        );
        process.stdout.write(formatEvaluationSummary(result.bestEvaluation, 'tuned') + '\n');
        if (opts.write) {
          const written = await writeTunedTbdParams(
            ds.modelDir,
            { deltaMax: b.deltaMax, aMin: b.aMin, centre: b.centre, stopRule: b.stopRule, deblend: b.deblend, ...result.sweep },
            { pc3: b.pc3, pc3_cumulative: b.pc3_cumulative, s90: b.s90, tunedOn: resolve(opts.data), images: set.ids, radiusBeams: opts.radiusBeams, objective: result.objective, truthSnr: opts.truthSnr, tunedAt: new Date().toISOString(),
              referenceImageAreaPx: mean(imageAreas), referenceBeamAreaPx: mean(beamAreas) },
          );
          process.stdout.write(`wrote ${written}\n`);
        }
        if (opts.json) await writeFileAtomic(opts.json, Buffer.from(JSON.stringify({ ...result, seconds }, null, 2) + '\n'));
      }),
    );
}

function parseDeblendList(value: string): number[] {
  const parse = parseFloatOption('--deblend', { min: 0, max: 0.999 });
  return value.split(',').map((v) => parse(v.trim()));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
