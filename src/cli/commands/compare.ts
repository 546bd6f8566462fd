/**
 * `deepsource compare`: DeepSource, SExtractor and PyBDSF on the same test images, evaluated by the
 * same code; writes OUT/LABEL/results.json and figures, and rebuilds OUT/report.md from every
 * OUT/<label>/results.json (paper Tables 3 and 4, the targets, the radius experiment).
 *
 * This is the composition root for the comparison: it picks the CNN runtime (onnxruntime) for
 * DeepSource and the external programs for the others.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { action, parseChoiceOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError } from '../../core/errors';
import { writeFileAtomic } from '../../fits/write';
import { openFits } from '../../fits/read';
import { createOnnxRuntime } from '../../adapters/onnx-runtime';
import { createSerialExecutor, type TileExecutor } from '../../tiling/pool';
import { resolveModelDir } from '../../model/registry';
import { detectImage } from '../../detect/detect-image';
import { parseTbdParams, readTunedTbdParams } from '../../detect/tbd-params';
import { resolveTbdOptions, type TbdOptions } from '../../detect/tbd';
import type { CnnRuntime } from '../../model/runtime';
import { TRUTH_SNR_MODES, type FinderImage, type TruthSnrMode } from '../../eval/finders/common';
import { runSExtractor, type SExtractorOptions } from '../../eval/finders/sextractor';
import { runPyBdsf, type PyBdsfOptions } from '../../eval/finders/pybdsf';
import {
  collectCatalogues,
  compareFinders,
  findCompareImages,
  selectBestRunner,
  RADIUS_EXPERIMENT,
  type CandidateScore,
  type CompareResult,
  type FinderRunner,
} from '../../eval/compare';
import { renderReport } from '../../eval/report';
import { TUNE_OBJECTIVES, type TuneObjective } from '../../eval/tune';
import { writeEvaluationPlot, PLOT_COLOURS, PLOT_DASHES, type PlotSeries } from '../../eval/plot';
import { formatEvaluationSummary } from '../../eval/summary';

const FINDERS = ['deepsource', 'sextractor', 'pybdsf'] as const;

/**
 * SExtractor's DETECT_THRESH is in units of the unfiltered background rms while detection runs on
 * the beam-filtered image, where a point source's peak drops to about half; so the useful
 * thresholds are low. The minimum areas span a few pixels to a fraction of the beam area.
 */
const SEXTRACTOR_GRID: Array<[number, number]> = [1, 1.5, 2, 2.5, 3].flatMap((t) => [5, 20, 50].map((a) => [t, a] as [number, number]));
type FinderName = (typeof FINDERS)[number];

interface CompareCliOptions {
  data?: string;
  val?: string;
  finders: FinderName[];
  out: string;
  label?: string;
  model?: string;
  limit?: number;
  valLimit: number;
  reuse: boolean;
  threads: number;
  sextractorThresh: number;
  sextractorMinArea: number;
  pybdsfThresh: [number, number];
  pybdsfGrid: Array<[number, number]>;
  sextractorGrid: Array<[number, number]>;
  note: string[];
  reportOnly?: boolean;
  tbd?: string;
  truthSnr: TruthSnrMode;
  objective: TuneObjective;
  cache?: string;
}

function parseFinders(value: string): FinderName[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const n of names) if (!(FINDERS as readonly string[]).includes(n)) throw new UserInputError(`--finders must list some of ${FINDERS.join(',')}, got ${JSON.stringify(n)}`);
  if (names.length === 0) throw new UserInputError('--finders must name at least one finder');
  return names as FinderName[];
}

function parsePair(option: string): (value: string) => [number, number] {
  return (value: string) => {
    const parts = value.split(',').map(Number);
    if (parts.length !== 2 || parts.some((v) => !(v > 0))) throw new UserInputError(`${option} must be two positive numbers A,B, got ${JSON.stringify(value)}`);
    return [parts[0], parts[1]];
  };
}

function parsePairList(option: string): (value: string) => Array<[number, number]> {
  return (value: string) => value.split(';').filter((s) => s.trim() !== '').map(parsePair(option));
}

/** DeepSource as a FinderRunner: CNN through the serial tile executor, then TBD with the model's tuned parameters. */
export async function createDeepSourceRunner(modelName: string, threads: number, tbdOverride?: TbdOptions): Promise<FinderRunner & { close(): Promise<void>; executor: TileExecutor; modelDir: string }> {
  const modelDir = resolveModelDir(modelName);
  const runtime: CnnRuntime = await createOnnxRuntime(modelDir, { intraOpThreads: threads });
  const executor = createSerialExecutor(runtime);
  const tbd = resolveTbdOptions({ ...readTunedTbdParams(modelDir), ...tbdOverride });
  // The weights' hash is part of the cache key: a retrained model in the same directory must not
  // reuse the previous model's catalogues.
  const weights = createHash('sha256').update(readFileSync(join(modelDir, 'model.onnx'))).digest('hex').slice(0, 16);
  return {
    name: 'deepsource',
    params: { model: modelDir, weights, tbd, code: detectionCodeHash() },
    executor,
    modelDir,
    async run(target: FinderImage) {
      const result = await detectImage(target.image, {
        imageId: target.imageId,
        executor,
        tbd,
        noise: { estimator: 'border-std', sigma: target.noise },
        wcs: target.wcs,
      });
      return result.table;
    },
    async close() {
      await executor.close();
      await runtime.dispose();
    },
  };
}

/**
 * Hash of the detection code this process runs (every file of src/detect, or dist/detect when
 * compiled): part of DeepSource's cache key, so a change to TBD (a new τ* rule, deblending) never
 * reuses catalogues made by the previous code.
 */
function detectionCodeHash(): string {
  const dir = join(__dirname, '..', '..', 'detect');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f)).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

export function sextractorRunner(options: SExtractorOptions, name = 'sextractor'): FinderRunner {
  return { name, params: { ...options }, run: (target) => runSExtractor(target, options) };
}

export function pybdsfRunner(options: PyBdsfOptions, name = 'pybdsf'): FinderRunner {
  return { name, params: { ...options }, run: (target) => runPyBdsf(target, options) };
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('Run DeepSource, SExtractor and PyBDSF on the same images and write compare/report.md (paper Tables 3 and 4)')
    .option('--data <DIR>', 'test images with truth (a simulate --out directory); never used for training or tuning (required unless --report-only)')
    .option('--val <DIR>', 'validation images to tune SExtractor and PyBDSF thresholds on (best PC3)')
    .option('--finders <LIST>', 'comma-separated: deepsource,sextractor,pybdsf', parseFinders, [...FINDERS] as FinderName[])
    .option('--out <DIR>', 'report directory', 'compare')
    .option('--label <NAME>', 'name of this comparison in the report (default: the weighting in the image headers)')
    .option('--model <NAME|DIR>', 'DeepSource model (default: the weighting: natural or uniform)')
    .option('--limit <N>', 'use the first N test images', parseIntOption('--limit', { min: 1 }))
    .option('--val-limit <N>', 'use the first N validation images', parseIntOption('--val-limit', { min: 1 }), 3)
    .option('--no-reuse', 'rerun finders even when a cached catalogue with the same settings exists')
    .option('--threads <N>', 'onnxruntime threads for the CNN', parseIntOption('--threads', { min: 1 }), 2)
    .option('--sextractor-thresh <SIGMA>', 'SExtractor DETECT_THRESH when not tuned', Number, 3)
    .option('--sextractor-min-area <PX>', 'SExtractor DETECT_MINAREA when not tuned', Number, 5)
    .option('--pybdsf-thresh <ISL,PIX>', 'PyBDSF island and peak thresholds when not tuned (paper: 2,2)', parsePair('--pybdsf-thresh'), [2, 2] as [number, number])
    .option('--pybdsf-grid <LIST>', 'PyBDSF candidates for --val, e.g. "2,2;3,3;3,5"', parsePairList('--pybdsf-grid'), [[2, 2], [3, 3], [3, 5]] as Array<[number, number]>)
    .option('--sextractor-grid <LIST>', 'SExtractor (thresh,minarea) candidates for --val, e.g. "1.5,5;2,20"', parsePairList('--sextractor-grid'), SEXTRACTOR_GRID)
    .option('--note <TEXT>', 'a line for the report notes (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--tbd <FILE>', "DeepSource TBD parameters (a tbd.json, e.g. from tune --json) instead of the model's tbd.json")
    .option('--truth-snr <MODE>', "true-source SNR: pixel (image value at the true position over the noise, paper section 2) or catalogue (the truth file's snr column)", parseChoiceOption('--truth-snr', TRUTH_SNR_MODES), 'pixel' as TruthSnrMode)
    .option('--objective <NAME>', 'what --val tuning of SExtractor/PyBDSF maximises: pc3 (paper) or pc3-cumulative (use the same as for `tune`)', parseChoiceOption('--objective', TUNE_OBJECTIVES), 'pc3' as TuneObjective)
    .option('--cache <NAME>', 'finder catalogue cache folder under OUT/.cache (default: the label); comparisons of the same images can share it')
    .option('--report-only', 'only rebuild OUT/report.md from the results already there')
    .action(
      action(async (opts: CompareCliOptions) => {
        const out = resolve(opts.out);
        mkdirSync(out, { recursive: true });
        if (opts.reportOnly) {
          await writeReport(out, []);
          return;
        }
        if (opts.data === undefined) throw new UserInputError("required option '--data <DIR>' not specified");
        const set = findCompareImages(opts.data, opts.limit);
        const firstHeaderWeighting = await weightingOf(set.images.get(set.ids[0])!);
        const label = opts.label ?? (firstHeaderWeighting || basename(resolve(opts.data)));
        if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new UserInputError(`--label must be letters, digits, '.', '_' or '-', got ${JSON.stringify(label)}`);
        const labelDir = join(out, label);
        mkdirSync(labelDir, { recursive: true });
        const cacheName = opts.cache ?? label;
        if (!/^[A-Za-z0-9._-]+$/.test(cacheName)) throw new UserInputError(`--cache must be letters, digits, '.', '_' or '-', got ${JSON.stringify(cacheName)}`);
        const cacheRoot = join(out, '.cache', cacheName);
        const tuning: Record<string, CandidateScore[]> = {};

        let sextractorOptions: SExtractorOptions = { detectThresh: opts.sextractorThresh, minArea: opts.sextractorMinArea };
        let pybdsfOptions: PyBdsfOptions = { threshIsl: opts.pybdsfThresh[0], threshPix: opts.pybdsfThresh[1] };
        if (opts.val) {
          const valSet = findCompareImages(opts.val, opts.valLimit);
          if (valSet.ids.some((id) => set.images.get(id) !== undefined && resolve(set.images.get(id)!) === resolve(valSet.images.get(id)!))) {
            throw new UserInputError('--val and --data share images; the test set must not be used for tuning');
          }
          const valCache = join(out, '.cache', `${cacheName}-val`);
          if (opts.finders.includes('sextractor')) {
            const candidates = opts.sextractorGrid.map(([t, a]) => sextractorRunner({ detectThresh: t, minArea: a }, `sextractor@${t}-${a}`));
            const progress = createProgress('tune sextractor', valSet.ids.length * candidates.length);
            const { best, scores } = await selectBestRunner(valSet, candidates, { cacheDir: valCache, reuse: opts.reuse, truthSnr: opts.truthSnr, objective: opts.objective, onProgress: (d) => progress.update(d) });
            progress.stop();
            sextractorOptions = best.params as SExtractorOptions;
            tuning.sextractor = scores;
          }
          if (opts.finders.includes('pybdsf')) {
            const candidates = opts.pybdsfGrid.map(([i, p]) => pybdsfRunner({ threshIsl: i, threshPix: p }, `pybdsf@${i}-${p}`));
            const progress = createProgress('tune pybdsf', valSet.ids.length * candidates.length);
            const { best, scores } = await selectBestRunner(valSet, candidates, { cacheDir: valCache, reuse: opts.reuse, truthSnr: opts.truthSnr, objective: opts.objective, onProgress: (d) => progress.update(d) });
            progress.stop();
            pybdsfOptions = best.params as PyBdsfOptions;
            tuning.pybdsf = scores;
          }
        }

        const runners: FinderRunner[] = [];
        let closeDs: (() => Promise<void>) | undefined;
        try {
          for (const name of opts.finders) {
            if (name === 'deepsource') {
              const tbd = opts.tbd === undefined ? undefined : readTbdFile(opts.tbd);
              const ds = await createDeepSourceRunner(opts.model ?? (firstHeaderWeighting.startsWith('uniform') ? 'uniform' : 'natural'), opts.threads, tbd);
              closeDs = () => ds.close();
              runners.push(ds);
            } else if (name === 'sextractor') runners.push(sextractorRunner(sextractorOptions));
            else runners.push(pybdsfRunner(pybdsfOptions));
          }
          const progress = createProgress(`compare ${label}`, set.ids.length * runners.length);
          const collected = await collectCatalogues(set, runners, { cacheDir: cacheRoot, reuse: opts.reuse, truthSnr: opts.truthSnr, onProgress: (d, _t, note) => progress.update(d, { last: note }) });
          progress.stop();
          const result = compareFinders(label, relative(process.cwd(), resolve(opts.data)) || opts.data, set, collected);
          for (const f of result.finders) process.stdout.write(formatEvaluationSummary(f.evaluation, f.name) + '\n');

          const mainPlot = join(labelDir, 'performance.png');
          await writeEvaluationPlot(mainPlot, result.finders.map((f, i) => ({ label: finderTitle(f.name), evaluation: f.evaluation, colour: finderColour(f.name), dash: [PLOT_DASHES.solid, PLOT_DASHES.dashed, PLOT_DASHES.dotted][i % 3] })), {
            title: `${label}: ${result.images} test images ${result.image_size}, crossmatch 2/3 beam`,
          });
          const radiusSeries: PlotSeries[] = [];
          for (const f of result.finders) {
            if (f.name === 'sextractor' && result.finders.length > 2) continue;
            RADIUS_EXPERIMENT.forEach((r, k) =>
              radiusSeries.push({ label: `${finderTitle(f.name)} ${r.label} beam`, evaluation: f.radius[r.label], colour: finderColour(f.name), dash: [PLOT_DASHES.solid, PLOT_DASHES.dashed, PLOT_DASHES.dotted][k] }),
            );
          }
          await writeEvaluationPlot(join(labelDir, 'radius.png'), radiusSeries, { title: `${label}: crossmatch radius 1/3, 2/3, 1 beam (paper 5.5)` });
          const stored = { ...result, tuning, notes: opts.note, plots: { main: `${label}/performance.png`, radius: `${label}/radius.png` } };
          await writeFileAtomic(join(labelDir, 'results.json'), Buffer.from(JSON.stringify(stored, null, 2) + '\n'));
          await writeReport(out, opts.note);
          process.stdout.write(`wrote ${join(labelDir, 'results.json')} and ${join(out, 'report.md')}\n`);
        } finally {
          await closeDs?.();
        }
      }),
    );
}

/** A tbd.json, or a `tune --json` output (its `best` holds the parameters). */
function readTbdFile(path: string): TbdOptions {
  if (!existsSync(path)) throw new UserInputError(`--tbd: ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserInputError(`--tbd: ${path} is not JSON`);
  }
  const best = (raw as { best?: unknown; sweep?: Record<string, unknown> }).best;
  if (best && typeof best === 'object') {
    return parseTbdParams(JSON.stringify({ ...(raw as { sweep?: object }).sweep, ...best }), path);
  }
  return parseTbdParams(text, path);
}

function finderColour(name: string): string | undefined {
  return (PLOT_COLOURS as Record<string, string>)[name];
}

function finderTitle(name: string): string {
  return ({ deepsource: 'DeepSource', sextractor: 'SExtractor', pybdsf: 'PyBDSF' } as Record<string, string>)[name] ?? name;
}

async function weightingOf(imagePath: string): Promise<string> {
  const file = await openFits(imagePath);
  try {
    return (file.header.getString('WEIGHTNG') ?? '').trim().toLowerCase();
  } finally {
    await file.close();
  }
}

/** Rebuilds OUT/report.md from every OUT/<label>/results.json (natural first, then uniform, then the rest). */
async function writeReport(out: string, notes: string[]): Promise<void> {
  const stored: Array<CompareResult & { tuning?: Record<string, CandidateScore[]>; notes?: string[]; plots?: { main?: string; radius?: string } }> = [];
  for (const name of readdirSync(out)) {
    const path = join(out, name, 'results.json');
    if (!name.startsWith('.') && existsSync(path)) stored.push(JSON.parse(readFileSync(path, 'utf8')));
  }
  if (stored.length === 0) throw new UserInputError(`no results in ${out} (run compare first)`);
  const order = (l: string) => (l.startsWith('natural') ? 0 : l.startsWith('uniform') ? 1 : 2);
  stored.sort((a, b) => order(a.label) - order(b.label) || a.label.localeCompare(b.label));
  const notesPath = join(out, 'notes.md');
  const allNotes = [...new Set([...stored.flatMap((s) => s.notes ?? []), ...notes])];
  const extra = existsSync(notesPath) ? [{ title: 'Notes', body: readFileSync(notesPath, 'utf8').trim() }] : [];
  const md = renderReport({
    results: stored,
    plots: Object.fromEntries(stored.map((s) => [s.label, s.plots ?? {}])),
    tuning: Object.fromEntries(stored.map((s) => [s.label, s.tuning ?? {}])),
    notes: allNotes,
    sections: extra,
    generatedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  });
  await writeFileAtomic(join(out, 'report.md'), Buffer.from(md));
}
