/**
 * SExtractor (Debian `source-extractor`) as a comparison finder.
 *
 * Set up for point sources in radio images, as the issue asks:
 * - the detection filter is a Gaussian matched to the restoring beam (FWHM = beam, in pixels),
 *   which is the optimal linear filter for a point source in white noise;
 * - the background mesh is much larger than the beam (default 10 beams, at least 64 px), so sources
 *   do not bias the background and rms maps;
 * - thresholds (in sigma of the rms map) and the minimum area are tuned on validation images,
 *   like the paper tuned PyBDSF's (section 3).
 * Config, parameter and filter files go to a temporary directory, removed afterwards.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ColumnTable } from '../../catalogue/table';
import { FormatError, UserInputError } from '../../core/errors';
import { detectionsFromPositions, runProgram, type FinderImage } from './common';

export interface SExtractorOptions {
  /** DETECT_THRESH in sigma of the background rms. */
  detectThresh?: number;
  /** ANALYSIS_THRESH in sigma (default: same as detectThresh). */
  analysisThresh?: number;
  /** DETECT_MINAREA in pixels. */
  minArea?: number;
  /** Background mesh size in beams (BACK_SIZE = max(64, this x beam in pixels)). */
  backSizeBeams?: number;
  /** Filter the image with the beam before detection. */
  filter?: boolean;
  deblendMinCont?: number;
  /** Program name or path. */
  program?: string;
  timeoutMs?: number;
}

export const DEFAULT_SEXTRACTOR_OPTIONS: Readonly<Required<Omit<SExtractorOptions, 'analysisThresh'>>> = Object.freeze({
  detectThresh: 3,
  minArea: 5,
  backSizeBeams: 10,
  filter: true,
  deblendMinCont: 0.005,
  program: 'source-extractor',
  timeoutMs: 600_000,
});

const PARAMS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'XPEAK_IMAGE', 'YPEAK_IMAGE', 'FLUX_MAX', 'ISOAREA_IMAGE', 'FLAGS'];

/** A normalised Gaussian kernel with the beam's FWHM, as SExtractor's CONV NORM text. */
export function beamFilterText(beamPx: number): string {
  const sigma = beamPx / (2 * Math.sqrt(2 * Math.log(2)));
  // SExtractor accepts kernels up to 31x31; 3 sigma each side covers 99% of the Gaussian.
  const half = Math.max(1, Math.min(15, Math.ceil(3 * sigma)));
  const rows: string[] = [`CONV NORM`, `# Gaussian, FWHM ${beamPx.toFixed(3)} px (the restoring beam), ${2 * half + 1}x${2 * half + 1}`];
  for (let dy = -half; dy <= half; dy++) {
    const row: string[] = [];
    for (let dx = -half; dx <= half; dx++) row.push(Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)).toExponential(6));
    rows.push(row.join(' '));
  }
  return rows.join('\n') + '\n';
}

export async function runSExtractor(target: FinderImage, options: SExtractorOptions = {}): Promise<ColumnTable> {
  const o = { ...DEFAULT_SEXTRACTOR_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<SExtractorOptions>;
  if (!(o.detectThresh > 0)) throw new UserInputError(`SExtractor detect threshold must be > 0 sigma, got ${o.detectThresh}`);
  if (!(o.minArea >= 1)) throw new UserInputError(`SExtractor minimum area must be >= 1 px, got ${o.minArea}`);
  const beamPx = target.beamArcsec / target.pixelScaleArcsec;
  const backSize = Math.max(64, Math.round(o.backSizeBeams * beamPx));
  const dir = mkdtempSync(join(tmpdir(), 'deepsource-sex-'));
  try {
    const paramFile = join(dir, 'out.param');
    const filterFile = join(dir, 'beam.conv');
    const catFile = join(dir, 'out.cat');
    writeFileSync(paramFile, PARAMS.join('\n') + '\n');
    writeFileSync(filterFile, beamFilterText(beamPx));
    const config: Record<string, string> = {
      CATALOG_NAME: catFile,
      CATALOG_TYPE: 'ASCII_HEAD',
      PARAMETERS_NAME: paramFile,
      DETECT_TYPE: 'CCD',
      DETECT_MINAREA: String(Math.round(o.minArea)),
      DETECT_THRESH: String(o.detectThresh),
      ANALYSIS_THRESH: String(o.analysisThresh ?? o.detectThresh),
      FILTER: o.filter ? 'Y' : 'N',
      FILTER_NAME: filterFile,
      DEBLEND_NTHRESH: '32',
      DEBLEND_MINCONT: String(o.deblendMinCont),
      CLEAN: 'Y',
      BACK_TYPE: 'AUTO',
      BACK_SIZE: String(backSize),
      BACK_FILTERSIZE: '3',
      CHECKIMAGE_TYPE: 'NONE',
      VERBOSE_TYPE: 'QUIET',
      NTHREADS: '1',
      MEMORY_OBJSTACK: '30000',
      MEMORY_PIXSTACK: '3000000',
      MEMORY_BUFSIZE: '4096',
      PIXEL_SCALE: '0',
      MAG_ZEROPOINT: '0',
    };
    const configFile = join(dir, 'run.sex');
    writeFileSync(configFile, Object.entries(config).map(([k, v]) => `${k.padEnd(18)} ${v}`).join('\n') + '\n');
    await runProgram(o.program, [resolve(target.path), '-c', configFile], { cwd: dir, timeoutMs: o.timeoutMs });
    const rows = parseSExtractorAscii(readFileSync(catFile, 'utf8'), catFile);
    // SExtractor pixels are 1-based with (1, 1) the centre of the first pixel (CONTRACT.md: 0-based).
    return detectionsFromPositions(
      target,
      { x: rows.X_IMAGE.map((v) => v - 1), y: rows.Y_IMAGE.map((v) => v - 1), areaPx: rows.ISOAREA_IMAGE },
      'sextractor',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses an ASCII_HEAD catalogue (`#   1 NUMBER ...` header lines, then rows of numbers). */
export function parseSExtractorAscii(text: string, file: string): Record<string, number[]> {
  const names: string[] = [];
  const columns: Record<string, number[]> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      const m = /^#\s+(\d+)\s+(\S+)/.exec(line);
      if (m) {
        names[Number(m[1]) - 1] = m[2];
        columns[m[2]] = [];
      }
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields.length < names.length) throw new FormatError(`${file}: row has ${fields.length} fields, expected ${names.length}`);
    names.forEach((name, k) => columns[name].push(Number(fields[k])));
  }
  for (const need of ['X_IMAGE', 'Y_IMAGE', 'ISOAREA_IMAGE']) if (!columns[need]) columns[need] = [];
  return columns;
}
