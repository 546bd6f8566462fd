/**
 * `deepsource demo`: the whole method on embedded defaults, in about a minute.
 *   1. simulate one MeerKAT image with known sources (paper section 2; `simulate`'s code);
 *   2. detect with the shipped model (CNN + TBD, paper section 4; `detect`'s code);
 *   3. crossmatch with the truth and measure P, C, PC and S90 (paper section 5.1; `evaluate`'s code);
 *   4. print the summary, and write the catalogue, the metrics and the Fig. 9/10-style plot.
 * Everything lands in ./demo-out/ (or --out DIR).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { action, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError } from '../../core/errors';
import { readModelMetadata, resolveModelDir } from '../../model/registry';
import { availableCores } from '../../tiling/plan';
import { readCatalogue } from '../../catalogue/read';
import { writeCatalogue } from '../../catalogue/write';
import { writeFileAtomic } from '../../fits/write';
import { tableLength } from '../../catalogue/table';
import { detectFitsImage } from '../../detect/detect-image';
import { loadEvaluationInputs } from '../../eval/inputs';
import { evaluateCatalogues, type Evaluation } from '../../eval/metrics';
import { formatEvaluationSummary } from '../../eval/summary';
import { writeEvaluationPlot } from '../../eval/plot';
import { parseWeighting } from '../../sim/simulate';
import type { Weighting } from '../../sim/weighting';
import { imageBaseName, runSimulation } from './simulate';
import { createExecutor, tbdOptionsFor } from './detect';

/** The embedded defaults: one 2048² natural-weighting image (≈140 sources) at the paper's 1.5"/px. */
export const DEMO_DEFAULTS = Object.freeze({ out: 'demo-out', size: 2048, seed: 2018, weighting: 'natural' });

export interface DemoOptions {
  out: string;
  size: number;
  seed: number;
  weighting: Weighting;
  model?: string;
  workers?: number;
  quiet?: boolean;
}

export interface DemoResult {
  evaluation: Evaluation;
  files: { image: string; truth: string; catalogue: string; csv: string; regions: string; json: string; plot: string };
  detections: number;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(line + '\n');
  };
  // The model for the image's weighting (shipped models: natural, uniform).
  const modelName = opts.model ?? (opts.weighting.kind === 'uniform' ? 'uniform' : 'natural');
  const modelDir = resolveModelDir(modelName);
  const meta = readModelMetadata(modelDir);
  const tbd = tbdOptionsFor(modelDir, {});
  const simDir = path.join(opts.out, 'sim');

  say(`demo 1/3: simulating one ${opts.size}x${opts.size} ${opts.weighting.kind} image (seed ${opts.seed}) into ${simDir}`);
  const sim = await runSimulation(simDir, { size: opts.size, weighting: opts.weighting, field: 'different' }, 1, opts.seed);
  const base = imageBaseName(0);
  const image = path.join(simDir, `${base}.fits`);
  const truth = path.join(simDir, `${base}.truth.parquet`);

  say(`demo 2/3: detecting with model ${meta.name} ${meta.version}; TBD from ${tbd.source}`);
  const workers = opts.workers ?? Math.max(1, Math.min(availableCores(), 8));
  const executor = await createExecutor(modelDir, workers);
  let progress: ReturnType<typeof createProgress> | undefined;
  let result;
  try {
    result = await detectFitsImage(image, {
      executor,
      tbd: tbd.options,
      noise: 'auto', // a simulation: the std of its source-free border (CONTRACT.md, SNR)
      provenance: { modelName: meta.name, modelVersion: meta.version, extra: { 'deepsource.tbd_source': tbd.source } },
      onTile: (done, total) => {
        progress ??= createProgress('CNN', total, { quiet: opts.quiet });
        progress.update(done);
      },
    });
  } finally {
    progress?.stop();
    await executor.close();
  }
  const files = {
    image,
    truth,
    catalogue: path.join(opts.out, 'catalogue.parquet'),
    csv: path.join(opts.out, 'catalogue.csv'),
    regions: path.join(opts.out, 'catalogue.reg'),
    json: path.join(opts.out, 'evaluation.json'),
    plot: path.join(opts.out, 'evaluation.png'),
  };
  await writeCatalogue(files.catalogue, result.table, 'parquet');
  await writeCatalogue(files.csv, result.table, 'csv');
  await writeCatalogue(files.regions, result.table, 'reg');
  const detections = tableLength(result.table);
  say(`  ${detections} detection(s) at tau*=${result.tbd.sweep.threshold.toPrecision(4)}; CNN ${result.seconds.cnn.toFixed(1)} s, TBD ${result.seconds.tbd.toFixed(2)} s`);

  say('demo 3/3: crossmatching with the truth (radius 2/3 beam, paper section 5.1)');
  const inputs = await loadEvaluationInputs({ truth, catalogue: files.catalogue, images: simDir }, readCatalogue);
  const evaluation = evaluateCatalogues(inputs, { radiusBeams: 2 / 3 });
  await writeFileAtomic(files.json, Buffer.from(JSON.stringify(evaluation, null, 2) + '\n'));
  const label = `DeepSource (${meta.name})`;
  await writeEvaluationPlot(files.plot, [{ label, evaluation }], { title: `deepsource demo: one ${opts.size}² ${opts.weighting.kind} image, seed ${opts.seed}` });

  process.stdout.write(formatEvaluationSummary(evaluation, label) + '\n');
  process.stdout.write(
    [
      `image      ${files.image} (truth ${files.truth}; manifest ${sim.manifest})`,
      `catalogue  ${files.catalogue} (${detections} rows; also ${path.basename(files.csv)}, ${path.basename(files.regions)})`,
      `metrics    ${files.json}`,
      `plot       ${files.plot}`,
      `time       ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n') + '\n',
  );
  return { evaluation, files, detections };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Simulate one image, detect with the shipped model, evaluate against the truth; print P, C, PC, S90 (about a minute)')
    .option('--out <DIR>', 'output directory', DEMO_DEFAULTS.out)
    .option('--size <PX>', 'image side in pixels', parseIntOption('--size', { min: 256, max: 8192 }), DEMO_DEFAULTS.size)
    .option('--seed <S>', 'simulation seed', parseIntOption('--seed', { min: 0, max: 0xffffffff }), DEMO_DEFAULTS.seed)
    .option('--weighting <W>', `natural|uniform|briggs:R, picks the shipped model of the same name (default: ${DEMO_DEFAULTS.weighting})`, (v: string) => parseWeighting(v))
    .option('--model <natural|uniform|MODEL_DIR>', 'model to detect with (default: the one matching --weighting)')
    .option('--workers <N>', 'CNN worker threads (default: cores, at most 8)', parseIntOption('--workers', { min: 1 }))
    .option('--quiet', 'only the summary')
    .action(
      action(async (cli: Omit<DemoOptions, 'weighting'> & { weighting?: Weighting }) => {
        const opts: DemoOptions = { ...cli, weighting: cli.weighting ?? parseWeighting(DEMO_DEFAULTS.weighting) };
        await fs.mkdir(opts.out, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
          throw new UserInputError(`--out ${opts.out} cannot be created: ${err.code ?? err.message}`, { cause: err });
        });
        await runDemo(opts);
      }),
    );
}
