/**
 * Model directories: where trained models live and how they are laid out on disk.
 *
 * Layout of a model directory (models/natural, models/uniform, or any `train --out DIR`):
 *
 *     model.json   metadata: format 'deepsource-cnn', formatVersion, name, version, architecture,
 *                  parameter manifest (name, shape, offset in floats), demand-map settings (alpha,
 *                  bn, horn radius, Gaussian sigma), input normalisation, training summary
 *     weights.bin  all parameters as little-endian float32, concatenated in manifest order
 *                  (network.ts PARAMETERS; kernels HWIO as in TF.js) — read by the TF.js runtime
 *     model.onnx   the same weights as an ONNX graph (onnx-export.ts) — read by onnxruntime
 *     README.md    model card (shipped models)
 *
 * `resolveModelDir('natural' | 'uniform')` finds the shipped models under <repo>/models/; anything
 * else is taken as a directory path.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserInputError, FormatError } from '../core/errors';
import { PARAMETERS, sizeOf, checkWeights, PARAMETER_COUNT, type NetworkWeights } from './network';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const MODEL_ONNX = 'model.onnx';
export const MODEL_FORMAT = 'deepsource-cnn';
export const MODEL_FORMAT_VERSION = 1;

export const SHIPPED_MODELS: readonly string[] = Object.freeze(['natural', 'uniform']);

/** <repo>/models, from both src/model (tests) and dist/model (built CLI). */
export const SHIPPED_MODELS_ROOT = resolve(__dirname, '..', '..', 'models');

export interface ParameterEntry {
  name: string;
  shape: number[];
  /** Offset into weights.bin, in float32 elements. */
  offset: number;
}

export interface ModelMetadata {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  /** Model name, e.g. 'natural'. */
  name: string;
  /** Free-form model version, e.g. '2026-11-25.1'. */
  version: string;
  architecture: { name: 'deepsource-fig8'; kernel: number; filters: number; parameterCount: number; receptiveRadius: number };
  parameters: ParameterEntry[];
  /** Demand map D = (C + bn)·I^alpha (paper eq. 3). */
  demand: { alpha: number; bn: number; hornRadius: number; gaussianSigma: number };
  /** Input normalisation (normalise.ts). */
  normalisation: { method: 'asinh-mad'; softening: number; demandSaturationSnr?: number };
  /** Training summary; free-form beyond these fields. */
  training?: Record<string, unknown>;
}

/**
 * Resolves `--model`: a shipped model name or a directory. Throws a UserInputError naming the
 * model when it is missing or its model.json is not a DeepSource model.
 */
export function resolveModelDir(nameOrDir: string): string {
  if (typeof nameOrDir !== 'string' || nameOrDir.trim() === '') throw new UserInputError('--model must be a shipped model name (natural, uniform) or a model directory, got an empty value');
  const dir = SHIPPED_MODELS.includes(nameOrDir) ? join(SHIPPED_MODELS_ROOT, nameOrDir) : resolve(nameOrDir);
  if (!existsSync(dir)) {
    const hint = SHIPPED_MODELS.includes(nameOrDir) ? ' (the shipped model is missing from this installation)' : ` (shipped models: ${SHIPPED_MODELS.join(', ')})`;
    throw new UserInputError(`model ${JSON.stringify(nameOrDir)} not found: no directory ${dir}${hint}`);
  }
  if (!statSync(dir).isDirectory()) throw new UserInputError(`model ${JSON.stringify(nameOrDir)}: ${dir} is not a directory`);
  readModelMetadata(dir);
  return dir;
}

/** Reads and validates model.json. */
export function readModelMetadata(dir: string): ModelMetadata {
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) throw new UserInputError(`model directory ${dir} has no ${MODEL_JSON}`);
  let meta: ModelMetadata;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as ModelMetadata;
  } catch (err) {
    throw new FormatError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (meta === null || typeof meta !== 'object' || meta.format !== MODEL_FORMAT) throw new FormatError(`${path}: not a DeepSource model (format must be "${MODEL_FORMAT}")`);
  if (meta.formatVersion !== MODEL_FORMAT_VERSION) throw new FormatError(`${path}: unsupported formatVersion ${String(meta.formatVersion)}, expected ${MODEL_FORMAT_VERSION}`);
  if (!Array.isArray(meta.parameters)) throw new FormatError(`${path}: missing the parameter manifest`);
  for (const p of PARAMETERS) {
    const entry = meta.parameters.find((e) => e.name === p.name);
    if (!entry) throw new FormatError(`${path}: parameter ${p.name} is missing from the manifest`);
    if (!Array.isArray(entry.shape) || entry.shape.join(',') !== p.shape.join(',')) {
      throw new FormatError(`${path}: parameter ${p.name} has shape [${String(entry.shape)}], expected [${p.shape.join(', ')}]`);
    }
    if (!Number.isInteger(entry.offset) || entry.offset < 0) throw new FormatError(`${path}: parameter ${p.name} has an invalid offset ${String(entry.offset)}`);
  }
  if (!meta.demand || typeof meta.demand.alpha !== 'number' || typeof meta.demand.bn !== 'number') throw new FormatError(`${path}: missing demand.alpha / demand.bn`);
  return meta;
}

/** Reads weights.bin as named parameters, validated against the manifest (size, finite values). */
export function readModelWeights(dir: string, meta: ModelMetadata = readModelMetadata(dir)): NetworkWeights {
  const path = join(dir, WEIGHTS_BIN);
  if (!existsSync(path)) throw new UserInputError(`model directory ${dir} has no ${WEIGHTS_BIN}`);
  const bytes = readFileSync(path);
  if (bytes.length % 4 !== 0) throw new FormatError(`${path}: size ${bytes.length} bytes is not a whole number of float32 values`);
  const all = new Float32Array(bytes.length / 4);
  new Uint8Array(all.buffer).set(bytes); // weights.bin is little-endian, like every platform Node runs on
  const weights: NetworkWeights = new Map();
  for (const p of PARAMETERS) {
    const entry = meta.parameters.find((e) => e.name === p.name)!;
    const n = sizeOf(p.shape);
    if (entry.offset + n > all.length) throw new FormatError(`${path}: truncated (${all.length} floats, parameter ${p.name} needs [${entry.offset}, ${entry.offset + n}))`);
    weights.set(p.name, all.slice(entry.offset, entry.offset + n));
  }
  const problem = checkWeights(weights);
  if (problem) throw new FormatError(`${path}: ${problem}`);
  return weights;
}

/** Concatenates weights in PARAMETERS order; returns the bytes and the manifest. */
export function packWeights(weights: NetworkWeights): { bytes: Buffer; parameters: ParameterEntry[] } {
  const problem = checkWeights(weights);
  if (problem) throw new Error(`cannot save model: ${problem}`);
  const all = new Float32Array(PARAMETER_COUNT);
  const parameters: ParameterEntry[] = [];
  let offset = 0;
  for (const p of PARAMETERS) {
    const w = weights.get(p.name)!;
    all.set(w, offset);
    parameters.push({ name: p.name, shape: [...p.shape], offset });
    offset += w.length;
  }
  return { bytes: Buffer.from(all.buffer, all.byteOffset, all.byteLength), parameters };
}
