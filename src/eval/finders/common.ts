/**
 * What the comparison needs from any source finder (DeepSource, SExtractor, PyBDSF): positions of
 * the sources it found in one image. Everything else (peak flux, SNR, sky/pixel conversion) is
 * computed here the same way for every finder, so that they are evaluated on equal terms
 * (paper section 2: "the pixel-flux refers to the flux value of the pixel located at a given set
 * of coordinates for a ground-truth source or a detection coming from DeepSource or PyBDSF").
 *
 * The external finders run as child processes; they are adapters of the comparison and live here
 * because only `compare` and `tune` use them. The composition root (cli/commands/compare.ts)
 * picks which ones run.
 */
import { spawn } from 'node:child_process';
import type { ColumnTable } from '../../catalogue/table';
import { buildDetectionTable } from '../../catalogue/schema';
import type { Image } from '../../core/image';
import { DeepSourceError } from '../../core/errors';
import type { Wcs } from '../../fits/wcs';

/** The image a finder runs on, with what conversion and SNR need. */
export interface FinderImage {
  imageId: string;
  path: string;
  image: Image;
  wcs: Wcs;
  beamArcsec: number;
  pixelScaleArcsec: number;
  /** The image noise that defines SNR (border std for simulations, CONTRACT.md). */
  noise: number;
}

/** Raw positions from a finder: pixels (0-based, CONTRACT.md) or sky, whichever it reports best. */
export interface FinderPositions {
  x?: ArrayLike<number>;
  y?: ArrayLike<number>;
  raDeg?: ArrayLike<number>;
  decDeg?: ArrayLike<number>;
  /** Optional blob/island areas in pixels. */
  areaPx?: ArrayLike<number>;
}

/**
 * Builds a detection catalogue (CONTRACT.md columns) from finder positions. The missing pair of
 * coordinates comes from the image WCS; peak_flux is the image value at the nearest pixel,
 * snr = peak_flux / noise. Positions outside the image get NaN flux and SNR (they fall in no bin).
 */
export function detectionsFromPositions(target: FinderImage, positions: FinderPositions, finder: string): ColumnTable {
  const n = positions.x?.length ?? positions.raDeg?.length ?? 0;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (positions.x && positions.y) {
      x[i] = positions.x[i];
      y[i] = positions.y[i];
      const sky = target.wcs.pixToSky(x[i], y[i]);
      ra[i] = positions.raDeg ? positions.raDeg[i] : sky.ra;
      dec[i] = positions.decDeg ? positions.decDeg[i] : sky.dec;
    } else if (positions.raDeg && positions.decDeg) {
      ra[i] = positions.raDeg[i];
      dec[i] = positions.decDeg[i];
      const pix = target.wcs.skyToPix(ra[i], dec[i]);
      x[i] = pix.x;
      y[i] = pix.y;
    }
  }
  const peak = pixelValues(target.image, x, y);
  const area = new Int32Array(n).fill(-1);
  if (positions.areaPx) for (let i = 0; i < n; i++) area[i] = Math.round(positions.areaPx[i]);
  return buildDetectionTable(
    {
      image_id: target.imageId,
      x,
      y,
      ra_deg: ra,
      dec_deg: dec,
      peak_flux: peak,
      local_rms: new Float64Array(n).fill(target.noise),
      snr: peak.map((p) => p / target.noise),
      cnn_peak: new Float64Array(n).fill(NaN),
      area_px: area,
    },
    { noiseEstimator: 'truth-noise', noiseValue: target.noise, beamArcsec: target.beamArcsec, extra: { 'deepsource.finder': finder } },
  );
}

/**
 * How the SNR of a true source is defined when scoring:
 * - 'pixel' (default; paper section 2 and CONTRACT.md): "the ratio of the pixel-flux of a particular
 *   source/detection divided by the noise of the image", the pixel-flux being "the flux value of the
 *   pixel located at a given set of coordinates for a ground-truth source". Noise and neighbouring
 *   sources are included, exactly as for detections, so truth and detections share one scale.
 * - 'catalogue': the truth catalogue's own `snr` column as written (for older simulations that is
 *   flux_jy over the border std, i.e. the noise-free peak).
 */
export type TruthSnrMode = 'pixel' | 'catalogue';
export const TRUTH_SNR_MODES: readonly TruthSnrMode[] = Object.freeze(['pixel', 'catalogue']);

/**
 * The truth table with `snr` set per `mode` ('pixel': image value at the nearest pixel of the true
 * position over `noise`). The catalogue's own value is kept as `snr_catalogue`.
 */
export function truthWithSnr(truth: ColumnTable, image: Image, noise: number, mode: TruthSnrMode): ColumnTable {
  if (mode === 'catalogue') return truth;
  const x = truth.columns.x as ArrayLike<number> | undefined;
  const y = truth.columns.y as ArrayLike<number> | undefined;
  if (!x || !y || Array.isArray(x) || Array.isArray(y)) throw new DeepSourceError('truth catalogue: numeric x and y columns are needed for pixel SNR');
  const snr = pixelValues(image, x, y).map((v) => v / noise);
  const columns = { ...truth.columns, snr, ...(truth.columns.snr !== undefined ? { snr_catalogue: truth.columns.snr } : {}) };
  return { ...truth, columns };
}

/** Image values at the nearest pixel of each position (NaN outside the image). */
export function pixelValues(image: Image, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const px = Math.round(x[i]);
    const py = Math.round(y[i]);
    out[i] = px >= 0 && py >= 0 && px < image.width && py < image.height ? image.data[py * image.width + px] : NaN;
  }
  return out;
}

/** Runs a program to completion; rejects with its stderr tail on a non-zero exit or timeout. */
export function runProgram(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-1_000_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new DeepSourceError(missing ? `${command} is not installed (run bash infra/finders/setup.sh)` : `${command}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolvePromise({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new DeepSourceError(`${command} failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${tail}`));
      }
    });
  });
}
