/**
 * Training data for `deepsource train`: directories written by `deepsource simulate`
 * (CONTRACT.md: DIR/img_NNN.fits and DIR/img_NNN.truth.csv with columns id, x, y, ra_deg, dec_deg,
 * flux_jy, snr; x, y are 0-based pixels). Each image is normalised once with its own image-wide
 * noise sigma (normalise.ts) and turned into a demand map (demand.ts); training patches are then
 * cut from both, which is exact because both maps are pixel-wise.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Image } from '../core/image';
import { UserInputError, FormatError } from '../core/errors';
import { openFits } from '../fits/read';
import { estimateNoiseSigma, normaliseInput } from './normalise';
import { demandMap, type DemandOptions, type SourcePosition } from './demand';

export interface TrainingImage {
  /** File name without directory, e.g. 'img_003.fits'. */
  readonly name: string;
  /** Normalised CNN input. */
  readonly input: Image;
  /** Demand map D (paper eq. 3), same size. */
  readonly target: Image;
  readonly noiseSigma: number;
  readonly sourceCount: number;
  /** True source positions (0-based pixels), for source-centred patch sampling. */
  readonly sources: readonly SourcePosition[];
}

export interface SimulatedImageFiles {
  fits: string;
  truth: string;
}

/** img_NNN.fits files in `dir` that have an img_NNN.truth.csv next to them, sorted by name. */
export function listSimulatedImages(dir: string): SimulatedImageFiles[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserInputError(`training data directory ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((f) => /\.fits$/i.test(f))
    .sort();
  const out: SimulatedImageFiles[] = [];
  for (const f of files) {
    const truth = join(dir, f.replace(/\.fits$/i, '.truth.csv'));
    if (existsSync(truth)) out.push({ fits: join(dir, f), truth });
  }
  if (out.length === 0) throw new UserInputError(`training data directory ${dir} has no img_NNN.fits with a matching img_NNN.truth.csv (write one with 'deepsource simulate --out ${dir}')`);
  return out;
}

/** Parses the x and y columns of a truth CSV (header line with column names; '#' lines ignored). */
export function parseTruthCsv(text: string, where: string): SourcePosition[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new FormatError(`${where}: empty truth catalogue (no header line)`);
  const header = splitCsvLine(lines[0]).map((h) => h.trim().toLowerCase());
  const xi = header.indexOf('x');
  const yi = header.indexOf('y');
  if (xi < 0 || yi < 0) throw new FormatError(`${where}: truth catalogue needs columns x and y, got ${header.join(', ')}`);
  const out: SourcePosition[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsvLine(lines[i]);
    const x = Number(cells[xi]);
    const y = Number(cells[yi]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new FormatError(`${where}: line ${i + 1}: x and y must be numbers, got ${JSON.stringify(cells[xi])}, ${JSON.stringify(cells[yi])}`);
    out.push({ x, y });
  }
  return out;
}

/** Splits one CSV line, honouring double quotes ("a,b" and "" escapes). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cur);
      cur = '';
    } else cur += ch;
  }
  cells.push(cur);
  return cells;
}

/** Builds a training image from a raw image and its true source positions. */
export function makeTrainingImage(name: string, raw: Image, sources: readonly SourcePosition[], demand: DemandOptions): TrainingImage {
  const noiseSigma = estimateNoiseSigma(raw);
  const input = normaliseInput(raw, noiseSigma);
  return { name, input, target: demandMap(input, sources, demand), noiseSigma, sourceCount: sources.length, sources };
}

/** Loads every simulated image of a directory. */
export async function loadSimulatedDir(dir: string, demand: DemandOptions, onImage?: (done: number, total: number) => void): Promise<TrainingImage[]> {
  const files = listSimulatedImages(dir);
  const out: TrainingImage[] = [];
  for (const f of files) {
    const fits = await openFits(f.fits);
    let raw: Image;
    try {
      raw = await fits.readImage();
    } finally {
      await fits.close();
    }
    const sources = parseTruthCsv(readFileSync(f.truth, 'utf8'), f.truth);
    out.push(makeTrainingImage(f.fits.slice(dir.length).replace(/^[\\/]+/, ''), raw, sources, demand));
    onImage?.(out.length, files.length);
  }
  return out;
}
