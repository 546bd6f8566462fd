/**
 * Tuned TBD parameters stored in a model directory (MODEL_DIR/tbd.json), written by
 * `deepsource tune` (paper section 4.3: Δmax, Amin and the centre definition are hyper-parameters
 * chosen by maximising PC3 on a validation set) and read by `detect`, which uses them instead of the
 * paper's defaults unless the user overrides them on the command line.
 *
 * File format (JSON object; unknown fields are kept for humans and ignored here):
 *   { "deltaMax": 100, "aMin": 10, "centre": "mean", "stopRule": "closest",
 *     "levelsPerDecade": 20, "decades": 4, "connectivity": 8, "deblend": 0, ...anything else (pc3, tunedOn...) }
 * snake_case spellings (delta_max, a_min, stop_rule, levels_per_decade) are accepted too.
 *
 * Optional tuning reference (written by `tune` since tbd.json files carried only the values):
 *   "referenceImageAreaPx": mean image area (px) of the tuning images,
 *   "referenceBeamAreaPx":  mean Gaussian beam area (px) of the tuning images.
 * Why: the paper defines Amin as a blob area in pixels (section 4.2) and Δmax as a count of new blobs
 * per threshold step (section 4.2/4.3), and the authors tuned both on images of one fixed size and
 * beam. Neither transfers as a raw number: Amin is really a fraction of a beam, and the number of
 * new blobs per step grows with the image area. So when a file has the reference, `detect` rescales
 * Amin by (image beam area / reference beam area) and Δmax by (image area / reference area)
 * (scaleTunedTbd). Files without it (older ones) are applied unscaled, as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UserInputError } from '../core/errors';
import { writeFileAtomic } from '../fits/write';
import type { Beam } from '../fits/types';
import { resolveTbdOptions, type TbdOptions } from './tbd';

export const TBD_PARAMS_FILE = 'tbd.json';

const FIELDS: Record<string, keyof TbdOptions> = {
  deltaMax: 'deltaMax',
  delta_max: 'deltaMax',
  aMin: 'aMin',
  a_min: 'aMin',
  centre: 'centre',
  center: 'centre',
  stopRule: 'stopRule',
  stop_rule: 'stopRule',
  levelsPerDecade: 'levelsPerDecade',
  levels_per_decade: 'levelsPerDecade',
  decades: 'decades',
  floor: 'floor',
  connectivity: 'connectivity',
  deblend: 'deblend',
};

/** Image and beam area of the images the parameters were tuned on, in pixels. */
export interface TbdReference {
  imageAreaPx: number;
  beamAreaPx: number;
}

const REFERENCE_FIELDS: Record<string, keyof TbdReference> = {
  referenceImageAreaPx: 'imageAreaPx',
  reference_image_area_px: 'imageAreaPx',
  referenceBeamAreaPx: 'beamAreaPx',
  reference_beam_area_px: 'beamAreaPx',
};

/** A tbd.json: the tuned values and, when recorded, the tuning reference. */
export interface TunedTbd {
  options: TbdOptions;
  reference?: TbdReference;
}

function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError(`${where}: expected a JSON object of TBD parameters`);
  return raw as Record<string, unknown>;
}

/** Parses the JSON text of a tbd.json; `where` names the file in errors. */
export function parseTbdParams(text: string, where: string): TbdOptions {
  return parseTunedTbd(text, where).options;
}

/** Parses a tbd.json with its optional tuning reference (both reference fields, or neither). */
export function parseTunedTbd(text: string, where: string): TunedTbd {
  const raw = parseJsonObject(text, where);
  const ref: Partial<Record<keyof TbdReference, unknown>> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = REFERENCE_FIELDS[key];
    if (field !== undefined) ref[field] = value;
  }
  let reference: TbdReference | undefined;
  if (ref.imageAreaPx !== undefined || ref.beamAreaPx !== undefined) {
    for (const [name, value] of [['referenceImageAreaPx', ref.imageAreaPx], ['referenceBeamAreaPx', ref.beamAreaPx]] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new FormatError(`${where}: ${name} must be a positive number (pixels), got ${JSON.stringify(value)}`);
      }
    }
    reference = { imageAreaPx: ref.imageAreaPx as number, beamAreaPx: ref.beamAreaPx as number };
  }
  return reference ? { options: parseTbdOptions(raw, where), reference } : { options: parseTbdOptions(raw, where) };
}

function parseTbdOptions(raw: Record<string, unknown>, where: string): TbdOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = FIELDS[key];
    if (field !== undefined) out[field] = value;
  }
  try {
    resolveTbdOptions(out as TbdOptions);
  } catch (err) {
    if (err instanceof UserInputError) throw new FormatError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
  return out as TbdOptions;
}

/** The tuned parameters of a model directory, or undefined when it has no tbd.json. */
export function readTunedTbdParams(modelDir: string): TbdOptions | undefined {
  return readTunedTbd(modelDir)?.options;
}

/** The tuned parameters and tuning reference of a model directory, or undefined when it has no tbd.json. */
export function readTunedTbd(modelDir: string): TunedTbd | undefined {
  const path = join(modelDir, TBD_PARAMS_FILE);
  if (!existsSync(path)) return undefined;
  return parseTunedTbd(readFileSync(path, 'utf8'), path);
}

/** Area of a Gaussian beam in pixels: π·BMAJ·BMIN / (4 ln 2) over the pixel area (all in degrees). */
export function beamAreaPx(beam: Beam, pixelScaleDeg: { x: number; y: number }): number {
  return (Math.PI * beam.bmajDeg * beam.bminDeg) / (4 * Math.LN2) / (Math.abs(pixelScaleDeg.x) * Math.abs(pixelScaleDeg.y));
}

/** The image a tuned tbd.json is applied to; beamAreaPx is undefined when the beam or pixel scale is unknown. */
export interface TbdTarget {
  imageAreaPx: number;
  beamAreaPx?: number;
}

/** Which tuned values to rescale: false for values given explicitly (command line), used as given. */
export interface TbdScalingRequest {
  reference: TbdReference;
  aMin: boolean;
  deltaMax: boolean;
}

/**
 * Rescales tuned Amin and Δmax to the target image (see the file comment for why):
 *   Amin' = max(1, round(Amin · beamAreaPx / reference.beamAreaPx))
 *   Δmax' = max(1, round(Δmax · imageAreaPx / reference.imageAreaPx))
 * A value is left alone when the request says so (explicit option), when `options` lacks it (the
 * paper's default then applies unscaled), or, for Amin, when the target beam is unknown. `record`
 * says what was done, for the catalogue provenance.
 */
export function scaleTunedTbd(options: TbdOptions, request: TbdScalingRequest, target: TbdTarget): { options: TbdOptions; record: Record<string, number | string> } {
  const out: TbdOptions = { ...options };
  const ref = request.reference;
  const record: Record<string, number | string> = {
    reference_image_area_px: ref.imageAreaPx,
    reference_beam_area_px: ref.beamAreaPx,
    image_area_px: target.imageAreaPx,
  };
  if (target.beamAreaPx !== undefined) record.beam_area_px = target.beamAreaPx;
  if (request.aMin && options.aMin !== undefined) {
    record.tuned_a_min = options.aMin;
    if (target.beamAreaPx !== undefined && target.beamAreaPx > 0 && Number.isFinite(target.beamAreaPx)) {
      const factor = target.beamAreaPx / ref.beamAreaPx;
      out.aMin = Math.max(1, Math.round(options.aMin * factor));
      record.a_min_scale = factor;
    } else {
      record.a_min_scale = 'none (image beam area unknown)';
    }
  }
  if (request.deltaMax && options.deltaMax !== undefined) {
    const factor = target.imageAreaPx / ref.imageAreaPx;
    record.tuned_delta_max = options.deltaMax;
    out.deltaMax = Math.max(1, Math.round(options.deltaMax * factor));
    record.delta_max_scale = factor;
  }
  return { options: out, record };
}

/** Writes MODEL_DIR/tbd.json atomically; `extra` (e.g. {pc3, tunedOn}) is stored alongside. */
export async function writeTunedTbdParams(modelDir: string, params: TbdOptions, extra: Record<string, unknown> = {}): Promise<string> {
  const resolved = resolveTbdOptions(params);
  const path = join(modelDir, TBD_PARAMS_FILE);
  const body = { ...extra, ...resolved };
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'));
  return path;
}

/** TBD options for a model, with where they came from and the per-image rescaling request. */
export interface ModelTbd {
  options: TbdOptions;
  source: string;
  scaling?: TbdScalingRequest;
}

/**
 * TBD options: explicit values (command line, pipeline config) over the model's tbd.json over the
 * paper's defaults. `scaling` is set when tbd.json records its tuning reference: the tuned Amin/Δmax
 * are then rescaled per image (detectHeaderedImage, scaleTunedTbd); explicit values are used as given.
 */
export function modelTbdOptions(modelDir: string, explicit: TbdOptions): ModelTbd {
  const tuned = readTunedTbd(modelDir);
  const given = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)) as TbdOptions;
  const options = { ...(tuned?.options ?? {}), ...given };
  resolveTbdOptions(options);
  const source = tuned ? join(modelDir, TBD_PARAMS_FILE) : 'paper defaults (section 4.3)';
  if (!tuned?.reference) return { options, source };
  const scaling: TbdScalingRequest = {
    reference: tuned.reference,
    aMin: given.aMin === undefined && tuned.options.aMin !== undefined,
    deltaMax: given.deltaMax === undefined && tuned.options.deltaMax !== undefined,
  };
  return { options, source, scaling };
}
