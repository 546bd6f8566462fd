/**
 * `deepsource simulate`: MeerKAT images with known point sources (paper section 2), written as
 * DIR/img_NNN.fits, DIR/img_NNN.truth.parquet, DIR/img_NNN.truth.csv and DIR/manifest.json
 * (CONTRACT.md). Same --seed, same options -> the same bytes.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { action, parseFloatOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError, describeValue } from '../../core/errors';
import { writeFitsImage, writeFileAtomic } from '../../fits/write';
import { buildTruthTable } from '../../catalogue/schema';
import { writeCatalogue } from '../../catalogue/write';
import { softwareVersion } from '../../catalogue/provenance';
import { defaultAntennaFile, loadArrayLayout } from '../../sim/array';
import {
  parseWeighting,
  planSimulation,
  resolveSimulationOptions,
  simulateImage,
  sourcesPerImage,
  type FieldMode,
  type ResolvedSimulationOptions,
  type SimulationOptions,
  type SimulatedImage,
} from '../../sim/simulate';
import { describeWeighting, type Weighting } from '../../sim/weighting';
import { DEFAULT_CLEAN_OPTIONS } from '../../sim/clean';

interface SimulateCliOptions {
  out: string;
  count: number;
  size: number;
  pixelScale: number;
  weighting: Weighting;
  field: FieldMode;
  seed: number;
  clean: boolean;
  sourcesPerDeg2: number;
  border?: number;
  minSeparation: number;
  cleanIterations: number;
  cleanWindow: number;
  cleanMgain: number;
  snrReference: 'final' | 'noise';
  integration: number;
  visNoise: number;
  antennas?: string;
  quiet?: boolean;
}

function parseSnrReference(value: string): 'final' | 'noise' {
  if (value !== 'final' && value !== 'noise') throw new UserInputError(`--snr-reference must be final or noise, got ${describeValue(value)}`);
  return value;
}

function parseField(value: string): FieldMode {
  if (value !== 'different' && value !== 'same') throw new UserInputError(`--field must be different or same, got ${describeValue(value)}`);
  return value;
}

export interface SimulationRunSummary {
  dir: string;
  images: string[];
  manifest: string;
}

/** What the truth SNR columns mean (catalogue metadata and manifest). */
export const SNR_DEFINITION =
  'snr = image value at the nearest pixel of the source / std of the source-free border of the final image ' +
  '(paper section 2: "the pixel-flux of a particular source ... divided by the noise of the image"; CONTRACT.md); noise and neighbours included; ' +
  'snr_flux = flux_jy / the same border std (the noise-free peak of an isolated point source); ' +
  'snr_injected = the SNR drawn from the paper Fig. 1 distribution, flux_jy = snr_injected * flux_scale, where flux_scale is the final border std ' +
  'measured in a first pass (snr_reference final, default; then snr_flux = snr_injected to ~1%) or the noise-only border std (snr_reference noise); ' +
  'snr_measured = alias of snr (deprecated, kept for one release)';

/** Name of image i: img_000, img_001, ... */
export function imageBaseName(index: number): string {
  return `img_${String(index).padStart(3, '0')}`;
}

/**
 * Runs a whole simulation into `dir`. Everything that can be checked is checked before the first
 * file is written (options, antenna file, source placement for every image, output directory).
 * Each file is written to a temporary name and renamed; the manifest comes last.
 */
export async function runSimulation(
  dir: string,
  options: SimulationOptions,
  count: number,
  seed: number,
  io: { antennaFile?: string; onImage?: (done: number, image: SimulatedImage) => void; onStage?: (index: number, stage: string) => void } = {},
): Promise<SimulationRunSummary> {
  const resolved = resolveSimulationOptions(options);
  if (!Number.isInteger(count) || count < 1) throw new UserInputError(`--count must be an integer >= 1, got ${describeValue(count)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserInputError(`--seed must be an integer from 0 to 4294967295, got ${describeValue(seed)}`);
  const antennaFile = io.antennaFile ?? defaultAntennaFile();
  const layout = loadArrayLayout(antennaFile);
  const plans = planSimulation(resolved, count, seed);
  await prepareOutputDir(dir);

  const images: SimulatedImage[] = [];
  const names: string[] = [];
  for (const plan of plans) {
    const result = simulateImage(plan, resolved, layout, (stage) => io.onStage?.(plan.index, stage));
    const base = imageBaseName(plan.index);
    const beamArcsec = Math.sqrt(result.bmajDeg * result.bminDeg) * 3600;
    const table = buildTruthTable(
      { x: result.truth.x, y: result.truth.y, ra_deg: result.truth.ra_deg, dec_deg: result.truth.dec_deg, flux_jy: result.truth.flux_jy, snr: result.truth.snr_measured },
      {
        noiseEstimator: 'border-std',
        noiseValue: result.finalBorderStd,
        imageName: `${base}.fits`,
        beamArcsec,
        extra: {
          'deepsource.snr_definition': SNR_DEFINITION,
          'deepsource.seed': String(plan.seed),
        },
      },
    );
    table.columns.snr_flux = result.truth.snr;
    table.info.snr_flux = { unit: '', description: 'flux_jy over the border std of the final image (noise-free peak of an isolated point source)', ucd: 'stat.snr' };
    table.columns.snr_injected = result.truth.snr_injected;
    table.info.snr_injected = { unit: '', description: 'SNR drawn from the paper Fig. 1 distribution; flux_jy = snr_injected * flux scale (manifest)', ucd: 'stat.snr' };
    table.columns.snr_measured = result.truth.snr_measured;
    table.info.snr_measured = { unit: '', description: 'Deprecated alias of snr (image value at the nearest pixel over the border std)', ucd: 'stat.snr' };
    await writeFitsImage(path.join(dir, `${base}.fits`), result.image, result.cards);
    await writeCatalogue(path.join(dir, `${base}.truth.parquet`), table, 'parquet');
    await writeCatalogue(path.join(dir, `${base}.truth.csv`), table, 'csv');
    names.push(base);
    images.push(result);
    io.onImage?.(images.length, result);
  }

  const manifest = {
    software: softwareVersion(),
    command: 'simulate',
    seed,
    count,
    parameters: manifestParameters(resolved),
    sources_per_image: sourcesPerImage(resolved),
    antenna_file: { name: path.basename(antennaFile), sha256: sha256File(antennaFile), antennas: layout.antennas.length },
    snr_definition: SNR_DEFINITION,
    images: images.map((r, i) => ({
      fits: `${names[i]}.fits`,
      truth_parquet: `${names[i]}.truth.parquet`,
      truth_csv: `${names[i]}.truth.csv`,
      seed: plans[i].seed,
      ra_deg: plans[i].raDeg,
      dec_deg: plans[i].decDeg,
      sources: r.truth.snr.length,
      bmaj_arcsec: r.bmajDeg * 3600,
      bmin_arcsec: r.bminDeg * 3600,
      bpa_deg: r.bpaDeg,
      beam_arcsec: Math.sqrt(r.bmajDeg * r.bminDeg) * 3600,
      noise_std_jy: r.noiseStd,
      flux_scale_jy: r.fluxScale,
      final_border_std_jy: r.finalBorderStd,
      theoretical_noise_jy: r.theoreticalNoise,
      clean:
        r.clean === null
          ? null
          : { iterations: r.clean.iterations, major_cycles: r.clean.majorCycles, components: r.clean.components, threshold_jy: r.clean.threshold, stopped: r.clean.stopped },
      uv: {
        visibilities: r.uv.visibilities,
        dropped: r.uv.dropped,
        sampled_cells: r.uv.sampledCells,
        max_uv_wavelengths: r.uv.maxUvWavelengths,
        grid_size: r.uv.gridSize,
        band_fraction: r.uv.bandFraction,
      },
    })),
  };
  const manifestPath = path.join(dir, 'manifest.json');
  await writeFileAtomic(manifestPath, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  return { dir, images: names, manifest: manifestPath };
}

function manifestParameters(o: ResolvedSimulationOptions): Record<string, unknown> {
  return {
    size: o.size,
    pixel_scale_arcsec: o.pixelScaleArcsec,
    weighting: describeWeighting(o.weighting),
    field: o.field,
    same_field_centre_deg: o.field === 'same' ? [o.sameFieldRaDeg, o.sameFieldDecDeg] : null,
    different_field_box_deg: o.field === 'different' ? { ra: [10, 110], dec: [-70, 30] } : null,
    sources_per_deg2: o.sourcesPerDeg2,
    min_separation_arcsec: o.minSeparationArcsec,
    border_px: o.borderPx,
    snr_min: o.snrMin,
    fraction_below_snr1: o.fractionBelowSnr1,
    clean: o.clean,
    clean_iterations: o.cleanIterations,
    clean_gain: o.cleanGain,
    clean_threshold_sigma: o.cleanThresholdSigma,
    clean_window_half_px: o.cleanWindowPx,
    clean_major_gain: o.cleanMajorGain,
    snr_reference: o.snrReference,
    synthesis_hours: o.synthesisHours,
    integration_seconds: o.integrationSeconds,
    centre_frequency_hz: o.centreFrequencyHz,
    channel_width_hz: o.channelWidthHz,
    channels: o.channels,
    vis_noise_jy: o.visNoiseJy,
  };
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Creates `dir` if needed and checks that we can write there (a probe file, removed again). */
async function prepareOutputDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new UserInputError(`--out ${dir} is not a directory`);
    const probe = path.join(dir, `.deepsource-write-probe-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserInputError(`--out ${dir} is not writable: ${code}`, { cause: err });
  }
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('Simulate MeerKAT images with known point sources (paper section 2): FITS + truth catalogues + manifest')
    .requiredOption('--out <DIR>', 'output directory (created if missing)')
    .option('--count <N>', 'number of images', parseIntOption('--count', { min: 1, max: 100000 }), 1)
    .option('--size <PX>', 'image side in pixels (paper: 4096)', parseIntOption('--size', { min: 32, max: 32768 }), 4096)
    .option('--pixel-scale <ARCSEC>', 'pixel size in arcsec (paper: 1.5)', parseFloatOption('--pixel-scale', { min: 1e-3, max: 3600 }), 1.5)
    .option('--weighting <W>', 'natural | uniform | briggs:R', (v: string) => parseWeighting(v), { kind: 'natural' } as Weighting)
    .option('--field <MODE>', 'different (random centres, 10<RA<110, -70<Dec<30) | same (RA 50, Dec -20)', parseField, 'different' as FieldMode)
    .option('--seed <S>', 'random seed; the same seed gives the same files', parseIntOption('--seed', { min: 0, max: 0xffffffff }), 1)
    .option('--no-clean', 'write the dirty image (default: Hogbom CLEAN + restoring beam)')
    .option('--sources-per-deg2 <N>', 'source density in the core (paper: 300)', parseFloatOption('--sources-per-deg2', { min: 0 }), 300)
    .option('--border <PX>', 'source-free border width in pixels (default: 10% of --size)', parseIntOption('--border', { min: 1 }))
    .option('--min-separation <ARCSEC>', 'minimum source separation (paper: 40)', parseFloatOption('--min-separation', { min: 0 }), 40)
    .option('--clean-iterations <N>', 'CLEAN iterations (paper: 10000)', parseIntOption('--clean-iterations', { min: 0 }), 10000)
    .option('--clean-window <PX>', 'half-width of the PSF window subtracted in CLEAN minor cycles (major cycles are exact)', parseIntOption('--clean-window', { min: 1 }), DEFAULT_CLEAN_OPTIONS.windowHalf)
    .option('--clean-mgain <F>', 'fraction of the peak cleaned per major cycle (WSClean -mgain)', parseFloatOption('--clean-mgain', { min: 1e-3, max: 1 }), DEFAULT_CLEAN_OPTIONS.majorGain)
    .option('--snr-reference <REF>', "border std that turns SNR into flux: 'final' (the written image, two passes with CLEAN) or 'noise' (noise-only image)", parseSnrReference, 'final' as 'final' | 'noise')
    .option('--integration <SEC>', 'integration time per uv sample (paper: 300)', parseFloatOption('--integration', { min: 1e-3 }), 300)
    .option('--vis-noise <JY>', 'visibility noise per real/imaginary part of a 300 s x 2.0898 MHz sample (paper: 1e-4)', parseFloatOption('--vis-noise', { min: 1e-30 }), 1e-4)
    .option('--antennas <FILE>', 'antenna ITRF table (default: $DEEPSOURCE_ANTENNAS or ../shared/data/meerkat_antennas.itrf.txt)')
    .option('--quiet', 'no progress output')
    .action(
      action(async (opts: SimulateCliOptions) => {
        const progress = createProgress('simulate', opts.count, { quiet: opts.quiet });
        progress.update(0);
        const summary = await runSimulation(
          opts.out,
          {
            size: opts.size,
            pixelScaleArcsec: opts.pixelScale,
            weighting: opts.weighting,
            field: opts.field,
            sourcesPerDeg2: opts.sourcesPerDeg2,
            borderPx: opts.border,
            minSeparationArcsec: opts.minSeparation,
            clean: opts.clean,
            cleanIterations: opts.cleanIterations,
            cleanWindowPx: opts.cleanWindow,
            cleanMajorGain: opts.cleanMgain,
            snrReference: opts.snrReference,
            integrationSeconds: opts.integration,
            visNoiseJy: opts.visNoise,
          },
          opts.count,
          opts.seed,
          {
            antennaFile: opts.antennas,
            onStage: (index, stage) => progress.update(index, { stage }),
            onImage: (done, image) =>
              progress.update(done, { beam: `${(Math.sqrt(image.bmajDeg * image.bminDeg) * 3600).toFixed(1)}"`, noise: image.finalBorderStd }),
          },
        );
        progress.stop();
        if (!opts.quiet) process.stderr.write(`simulate: wrote ${summary.images.length} image(s) and manifest.json to ${summary.dir}\n`);
      }),
    );
}
