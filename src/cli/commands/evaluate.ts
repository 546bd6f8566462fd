/**
 * `deepsource evaluate`: crossmatch detection catalogues against the truth and report purity,
 * completeness, PC and S90 (paper section 5.1; JSON fields in CONTRACT.md).
 */
import type { Command } from 'commander';
import { action, parseFloatOption } from '../common';
import { UserInputError } from '../../core/errors';
import { readCatalogue } from '../../catalogue/read';
import { writeFileAtomic } from '../../fits/write';
import { loadEvaluationInputs } from '../../eval/inputs';
import { evaluateCatalogues, type MatchSpace } from '../../eval/metrics';
import { writeEvaluationPlot } from '../../eval/plot';
import { formatEvaluationSummary } from '../../eval/summary';

interface EvaluateCliOptions {
  truth: string;
  catalogue: string;
  images?: string;
  radiusBeams: number;
  match: MatchSpace;
  beam?: number;
  json?: string;
  plot?: string;
  label: string;
}

/** Accepts a number or a fraction such as 2/3 (the paper's radii are 1/3, 2/3, 1 beam). */
export function parseRadiusBeams(value: string): number {
  const m = /^\s*([0-9.]+)\s*\/\s*([0-9.]+)\s*$/.exec(value);
  const n = m ? Number(m[1]) / Number(m[2]) : Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UserInputError(`--radius-beams must be a number > 0 or a fraction like 2/3, got ${JSON.stringify(value)}`);
  return n;
}

export function parseMatchSpace(value: string): MatchSpace {
  if (value !== 'sky' && value !== 'pixel') throw new UserInputError(`--match must be sky or pixel, got ${JSON.stringify(value)}`);
  return value;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('Crossmatch detections with the truth; print P, C, PC at SNR 3/4/5 and S90 (paper 5.1)')
    .requiredOption('--truth <FILE|DIR>', 'truth catalogue, or a directory of *.truth.parquet / *.truth.csv')
    .requiredOption('--catalogue <FILE|DIR>', 'detection catalogue, or a directory with one per image (IMAGE_ID.parquet|csv|arrow)')
    .option('--images <DIR>', 'directory of the FITS images, for the beam and pixel scale (default: the truth directory)')
    .option('--radius-beams <R>', 'crossmatch radius in beams (paper 5.1: 2/3)', parseRadiusBeams, 2 / 3)
    .option('--match <SPACE>', "match on 'sky' (ra_deg/dec_deg) or 'pixel' (x/y)", parseMatchSpace, 'sky' as MatchSpace)
    .option('--beam <ARCSEC>', 'beam size sqrt(BMAJ*BMIN) in arcsec, overriding the image headers', parseFloatOption('--beam', { min: 1e-6 }))
    .option('--json <FILE>', 'write the metrics as JSON (CONTRACT.md)')
    .option('--plot <FILE.png>', "write the paper's Fig. 9/10 layout as PNG")
    .option('--label <NAME>', 'name of the finder in the summary and plot', 'DeepSource')
    .action(
      action(async (opts: EvaluateCliOptions) => {
        if (opts.plot !== undefined && !opts.plot.toLowerCase().endsWith('.png')) throw new UserInputError(`--plot must name a .png file, got ${JSON.stringify(opts.plot)}`);
        const images = await loadEvaluationInputs(
          { truth: opts.truth, catalogue: opts.catalogue, images: opts.images, beamArcsec: opts.beam },
          readCatalogue,
        );
        const evaluation = evaluateCatalogues(images, { radiusBeams: opts.radiusBeams, space: opts.match });
        process.stdout.write(formatEvaluationSummary(evaluation, opts.label) + '\n');
        if (opts.json !== undefined) await writeFileAtomic(opts.json, Buffer.from(JSON.stringify(evaluation, null, 2) + '\n'));
        if (opts.plot !== undefined) await writeEvaluationPlot(opts.plot, [{ label: opts.label, evaluation }], { title: `${opts.label}: ${evaluation.images} image(s)` });
      }),
    );
}
