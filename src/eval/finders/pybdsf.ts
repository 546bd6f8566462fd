/**
 * PyBDSF as a comparison finder (paper section 3): islands above `threshIsl` sigma, kept when their
 * peak is above `threshPix` sigma, Gaussians fitted and grouped into sources. The paper found
 * 2 sigma / 2 sigma best on its validation set; `compare` tunes them on ours.
 *
 * Runs infra/finders/pybdsf_driver.py (python3 with `bdsf`, installed by infra/finders/setup.sh).
 * PyBDSF writes a log file next to its input, so the image is linked into a temporary directory
 * and PyBDSF runs there; the directory is removed afterwards.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ColumnTable } from '../../catalogue/table';
import { FormatError, UserInputError } from '../../core/errors';
import { detectionsFromPositions, runProgram, type FinderImage } from './common';

export interface PyBdsfOptions {
  threshIsl?: number;
  threshPix?: number;
  /** rms_box as "box,step" pixels (default: PyBDSF chooses). */
  rmsBox?: string;
  python?: string;
  timeoutMs?: number;
}

export const DEFAULT_PYBDSF_OPTIONS: Readonly<Required<Omit<PyBdsfOptions, 'rmsBox'>>> = Object.freeze({
  threshIsl: 2,
  threshPix: 2,
  python: 'python3',
  timeoutMs: 1_800_000,
});

/** infra/finders/pybdsf_driver.py, found from src/ or dist/ (the package root holds package.json). */
export function pybdsfDriverPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'infra', 'finders', 'pybdsf_driver.py');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new UserInputError('cannot find infra/finders/pybdsf_driver.py from the installed package');
}

export async function runPyBdsf(target: FinderImage, options: PyBdsfOptions = {}): Promise<ColumnTable> {
  const o = { ...DEFAULT_PYBDSF_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<PyBdsfOptions>;
  if (!(o.threshIsl > 0) || !(o.threshPix >= o.threshIsl)) {
    throw new UserInputError(`PyBDSF thresholds need thresh_pix >= thresh_isl > 0, got isl ${o.threshIsl}, pix ${o.threshPix}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'deepsource-bdsf-'));
  try {
    const linked = join(dir, 'image.fits');
    symlinkSync(resolve(target.path), linked);
    const out = join(dir, 'sources.csv');
    const args = [pybdsfDriverPath(), linked, out, '--thresh-isl', String(o.threshIsl), '--thresh-pix', String(o.threshPix)];
    if (o.rmsBox) args.push('--rms-box', o.rmsBox);
    await runProgram(o.python, args, { cwd: dir, timeoutMs: o.timeoutMs });
    const rows = parseDriverCsv(readFileSync(out, 'utf8'), out);
    // Match on PyBDSF's fitted sky position; pixels come from our WCS, so every finder's pixel
    // convention is ours (CONTRACT.md).
    return detectionsFromPositions(target, { raDeg: rows.ra_deg, decDeg: rows.dec_deg }, 'pybdsf');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses the driver's CSV (a header line, then numbers). */
export function parseDriverCsv(text: string, file: string): Record<string, number[]> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new FormatError(`${file}: empty PyBDSF output (no header)`);
  const names = lines[0].split(',').map((s) => s.trim());
  const columns: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    if (fields.length !== names.length) throw new FormatError(`${file}: row has ${fields.length} fields, expected ${names.length}`);
    names.forEach((n, k) => columns[n].push(Number(fields[k])));
  }
  for (const need of ['ra_deg', 'dec_deg']) if (!columns[need]) throw new FormatError(`${file}: missing column ${need}`);
  return columns;
}
