/**
 * The training loop (issue 3; paper section 4.1): random patches of simulated images with flips
 * and 90° rotations, squared-error loss against the demand map (eq. 2, as a mean over pixels),
 * Adam, validation on held-out images, checkpoints that resume exactly, Ctrl-C → checkpoint.
 *
 * Reproducibility: every random choice of step k (which image, where, which of the 8 flips and
 * rotations) comes from a generator seeded by (seed, k), and the initial weights from the seed, so
 * a run is deterministic on one backend and `--resume` replays exactly the steps an uninterrupted
 * run would take (weights and Adam moments are restored bit for bit from the checkpoint).
 *
 * TF.js is used directly here, because training *is* TF.js (ARCHITECTURE.md).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../core/random';
import { UserInputError, FormatError } from '../core/errors';
import { PARAMETERS, PARAMETER_COUNT, FLOPS_PER_PIXEL, RECEPTIVE_RADIUS, initialWeights, sizeOf, type NetworkWeights } from './network';
import { forward, toTfParams, fromTfParams, disposeTfParams, type TfParams } from './tf-network';
import { useTfBackend, type TfBackendPreference } from './tf-backend';
import { saveModelDir } from './save';
import { resolveDemandOptions, type ResolvedDemandOptions } from './demand';
import type { TrainingImage } from './training-data';
import type { ModelMetadata } from './registry';

export interface TrainOptions {
  /** Total optimiser steps (a resumed run continues up to this number). */
  steps?: number;
  /** Square patch side, px. */
  patch?: number;
  /** Patches per step. */
  batch?: number;
  learningRate?: number;
  /**
   * Learning-rate schedule over the whole run: 'constant', or 'cosine' (half a cosine from
   * learningRate at step 0 down to learningRateMin at the last step; the paper does not specify
   * one, section 4.1 only names the optimiser).
   */
  lrSchedule?: LrSchedule;
  /** Final learning rate of the cosine schedule. */
  learningRateMin?: number;
  seed?: number;
  /** Save a checkpoint every N steps. */
  checkpointEvery?: number;
  /** Compute the validation loss every N steps (and at the end). */
  validateEvery?: number;
  /** Number of fixed validation patches. */
  valPatches?: number;
  /**
   * Fraction of training patches placed so that they contain a true source (at a random position
   * at least RECEPTIVE_RADIUS from the patch edge); the rest are uniformly random. Validation
   * patches are always uniformly random, so the validation loss measures the real objective.
   */
  sourceFraction?: number;
  alpha?: number;
  bn?: number;
  backend?: TfBackendPreference;
  /** Continue from OUT/checkpoint. */
  resume?: boolean;
  /** Model name in model.json (default: the output directory's name). */
  name?: string;
  /** Extra fields for model.json's training summary (e.g. data directories). */
  notes?: Record<string, unknown>;
}

export type LrSchedule = 'constant' | 'cosine';
export const LR_SCHEDULES: readonly LrSchedule[] = Object.freeze(['constant', 'cosine']);

/** The learning rate of step t (1-based) of a run of `steps` steps. */
export function learningRateAt(o: Pick<ResolvedTrainOptions, 'learningRate' | 'learningRateMin' | 'lrSchedule' | 'steps'>, t: number): number {
  if (o.lrSchedule === 'constant') return o.learningRate;
  const progress = o.steps > 1 ? Math.min(1, Math.max(0, (t - 1) / (o.steps - 1))) : 1;
  return o.learningRateMin + 0.5 * (o.learningRate - o.learningRateMin) * (1 + Math.cos(Math.PI * progress));
}

export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'name' | 'notes'>> & { name?: string; notes?: Record<string, unknown> };

export const DEFAULT_TRAIN_OPTIONS: Readonly<ResolvedTrainOptions> = Object.freeze({
  steps: 2000,
  patch: 128,
  batch: 8,
  learningRate: 1e-3,
  lrSchedule: 'constant' as LrSchedule,
  learningRateMin: 1e-5,
  seed: 1,
  checkpointEvery: 100,
  validateEvery: 100,
  valPatches: 32,
  sourceFraction: 0.5,
  alpha: 0.75,
  bn: 0.05,
  backend: 'auto' as TfBackendPreference,
  resume: false,
});

export function resolveTrainOptions(options: TrainOptions = {}): ResolvedTrainOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...defined } as ResolvedTrainOptions;
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new UserInputError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  int('--steps', o.steps, 1);
  int('--patch', o.patch, 16);
  int('--batch', o.batch, 1);
  int('--seed', o.seed, 0);
  int('checkpoint interval', o.checkpointEvery, 1);
  int('validation interval', o.validateEvery, 1);
  int('validation patches', o.valPatches, 1);
  if (!(o.sourceFraction >= 0 && o.sourceFraction <= 1)) throw new UserInputError(`source fraction must be in [0, 1], got ${o.sourceFraction}`);
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) throw new UserInputError(`learning rate must be > 0, got ${o.learningRate}`);
  if (!(LR_SCHEDULES as readonly string[]).includes(o.lrSchedule)) throw new UserInputError(`--lr-schedule must be ${LR_SCHEDULES.join(' or ')}, got ${JSON.stringify(o.lrSchedule)}`);
  if (!(o.learningRateMin >= 0 && o.learningRateMin <= o.learningRate)) throw new UserInputError(`--lr-min must be in [0, --lr], got ${o.learningRateMin}`);
  resolveDemandOptions({ alpha: o.alpha, bn: o.bn });
  return o;
}

export interface TrainProgress {
  step: number;
  steps: number;
  /** Mean training loss over the most recent steps (up to 20). */
  loss: number;
  /** Last validation loss (NaN before the first validation). */
  valLoss: number;
  elapsedSeconds: number;
  /** Estimated seconds to the last step, from this run's own rate (correct after --resume too). */
  etaSeconds: number;
}

export interface TrainCallbacks {
  onStep?(progress: TrainProgress): void;
  /** Polled after every step; true saves a checkpoint and stops (Ctrl-C). */
  shouldStop?(): boolean;
  onLog?(message: string): void;
}

export interface TrainResult {
  /** 'completed': model written; 'interrupted': checkpoint written, model not. */
  status: 'completed' | 'interrupted';
  step: number;
  trainLoss: number;
  valLoss: number;
  wallSeconds: number;
  patchesPerSecond: number;
  backend: string;
  metadata?: ModelMetadata;
}

// ---------------------------------------------------------------------------------------------
// Patches

/** The 8 symmetries of the square: k quarter-turns, optionally mirrored first. */
function transformedIndex(u: number, v: number, p: number, t: number): [number, number] {
  // (u, v) are patch coordinates of the output; returns source coordinates inside the patch.
  let x = u;
  let y = v;
  if (t & 4) x = p - 1 - x; // mirror
  switch (t & 3) {
    case 0:
      return [x, y];
    case 1:
      return [y, p - 1 - x];
    case 2:
      return [p - 1 - x, p - 1 - y];
    default:
      return [p - 1 - y, x];
  }
}

/** Copies a p×p patch at (x0, y0) of `image`, transformed by symmetry t, into `out` at `offset`. */
export function extractPatch(image: { data: Float32Array; width: number }, x0: number, y0: number, p: number, t: number, out: Float32Array, offset: number): void {
  const { data, width } = image;
  if (t === 0) {
    for (let v = 0; v < p; v++) out.set(data.subarray((y0 + v) * width + x0, (y0 + v) * width + x0 + p), offset + v * p);
    return;
  }
  for (let v = 0; v < p; v++)
    for (let u = 0; u < p; u++) {
      const [sx, sy] = transformedIndex(u, v, p, t);
      out[offset + v * p + u] = data[(y0 + sy) * width + x0 + sx];
    }
}

interface PatchBatch {
  inputs: Float32Array;
  targets: Float32Array;
}

/** Step k's random generator: independent of every other step, so resume needs no RNG state. */
function stepRandom(seed: number, step: number): Random {
  return new Random((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0);
}

function sampleBatch(images: readonly TrainingImage[], rng: Random, patch: number, batch: number, augment: boolean, sourceFraction = 0): PatchBatch {
  const inputs = new Float32Array(batch * patch * patch);
  const targets = new Float32Array(batch * patch * patch);
  const margin = Math.min(RECEPTIVE_RADIUS, Math.floor((patch - 1) / 2));
  for (let b = 0; b < batch; b++) {
    const img = images[rng.int(images.length)];
    const { width, height } = img.input;
    let x0 = rng.int(width - patch + 1);
    let y0 = rng.int(height - patch + 1);
    if (sourceFraction > 0 && img.sources.length > 0 && rng.uniform() < sourceFraction) {
      // A patch that contains a source: the source lands at a random spot ≥ margin from the edges.
      const s = img.sources[rng.int(img.sources.length)];
      const sx = Math.round(s.x);
      const sy = Math.round(s.y);
      const px = margin + rng.int(patch - 2 * margin);
      const py = margin + rng.int(patch - 2 * margin);
      x0 = Math.min(Math.max(0, sx - px), width - patch);
      y0 = Math.min(Math.max(0, sy - py), height - patch);
    }
    const t = augment ? rng.int(8) : 0;
    extractPatch(img.input, x0, y0, patch, t, inputs, b * patch * patch);
    extractPatch(img.target, x0, y0, patch, t, targets, b * patch * patch);
  }
  return { inputs, targets };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: OUT/checkpoint/checkpoint.json + state-<step>.bin (weights, Adam m, Adam v)

const CHECKPOINT_DIR = 'checkpoint';
const CHECKPOINT_JSON = 'checkpoint.json';

interface CheckpointJson {
  format: 'deepsource-checkpoint';
  step: number;
  stateFile: string;
  options: ResolvedTrainOptions;
  trainImages: string[];
  valImages: string[];
  recentLosses: number[];
  valLoss: number;
  initialValLoss: number;
  history: { step: number; loss: number; valLoss: number }[];
  elapsedSeconds: number;
}

interface TrainerState {
  params: TfParams;
  m: Map<string, tf.Variable>;
  v: Map<string, tf.Variable>;
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

async function saveCheckpoint(outDir: string, state: TrainerState, json: Omit<CheckpointJson, 'format' | 'stateFile'>): Promise<void> {
  const dir = join(outDir, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  const all = new Float32Array(3 * PARAMETER_COUNT);
  let offset = 0;
  for (const group of [state.params, state.m, state.v] as Map<string, tf.Tensor>[]) {
    for (const p of PARAMETERS) {
      const values = (await group.get(p.name)!.data()) as Float32Array;
      all.set(values, offset);
      offset += values.length;
    }
  }
  const stateFile = `state-${json.step}.bin`;
  writeAtomic(join(dir, stateFile), new Uint8Array(all.buffer));
  // The JSON names its state file, so a crash between the two renames leaves a consistent pair.
  writeAtomic(join(dir, CHECKPOINT_JSON), JSON.stringify({ format: 'deepsource-checkpoint', stateFile, ...json }, null, 1) + '\n');
  for (const f of readdirSync(dir)) if (/^state-\d+\.bin$/.test(f) && f !== stateFile) rmSync(join(dir, f), { force: true });
}

function readCheckpoint(outDir: string): { json: CheckpointJson; values: Float32Array } {
  const path = join(outDir, CHECKPOINT_DIR, CHECKPOINT_JSON);
  if (!existsSync(path)) throw new UserInputError(`--resume: no checkpoint in ${join(outDir, CHECKPOINT_DIR)} (nothing to resume)`);
  let json: CheckpointJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as CheckpointJson;
  } catch (err) {
    throw new FormatError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (json.format !== 'deepsource-checkpoint' || !Number.isInteger(json.step)) throw new FormatError(`${path}: not a DeepSource training checkpoint`);
  const binPath = join(outDir, CHECKPOINT_DIR, json.stateFile);
  if (!existsSync(binPath)) throw new FormatError(`${path}: its state file ${json.stateFile} is missing`);
  const bytes = readFileSync(binPath);
  if (bytes.length !== 3 * PARAMETER_COUNT * 4) throw new FormatError(`${binPath}: ${bytes.length} bytes, expected ${3 * PARAMETER_COUNT * 4}`);
  const values = new Float32Array(3 * PARAMETER_COUNT);
  new Uint8Array(values.buffer).set(bytes);
  return { json, values };
}

function splitState(values: Float32Array): [NetworkWeights, NetworkWeights, NetworkWeights] {
  const groups: NetworkWeights[] = [new Map(), new Map(), new Map()];
  let offset = 0;
  for (const g of groups)
    for (const p of PARAMETERS) {
      const n = sizeOf(p.shape);
      g.set(p.name, values.slice(offset, offset + n));
      offset += n;
    }
  return groups as [NetworkWeights, NetworkWeights, NetworkWeights];
}

// ---------------------------------------------------------------------------------------------
// Loop

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-7;

function meanSquaredError(params: TfParams, inputs: tf.Tensor4D, targets: tf.Tensor4D, forwardConvGradients: boolean): tf.Scalar {
  return tf.mean(tf.squaredDifference(forward(params, inputs, { forwardConvGradients }), targets)) as tf.Scalar;
}

/** Mean squared error of the current network on fixed patches (no gradients). */
function evaluate(params: TfParams, patches: PatchBatch, patch: number, batch: number): number {
  const count = patches.inputs.length / (patch * patch);
  let total = 0;
  for (let b0 = 0; b0 < count; b0 += batch) {
    const n = Math.min(batch, count - b0);
    const size = patch * patch;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(patches.inputs.subarray(b0 * size, (b0 + n) * size), [n, patch, patch, 1]);
      const y = tf.tensor4d(patches.targets.subarray(b0 * size, (b0 + n) * size), [n, patch, patch, 1]);
      return meanSquaredError(params, x, y, false);
    });
    total += loss.dataSync()[0] * n;
    loss.dispose();
  }
  return total / count;
}

/** Trains on `train`, validates on `val`, writes the model (or a checkpoint) into `outDir`. */
export async function trainModel(train: readonly TrainingImage[], val: readonly TrainingImage[], outDir: string, options: TrainOptions = {}, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  let o = resolveTrainOptions(options);
  if (train.length === 0) throw new UserInputError('no training images');
  if (val.length === 0) throw new UserInputError('no validation images (give --val DIR, or at least 2 training images so one can be held out)');
  for (const img of [...train, ...val]) {
    if (img.input.width < o.patch || img.input.height < o.patch) throw new UserInputError(`--patch ${o.patch} is larger than image ${img.name} (${img.input.width}x${img.input.height})`);
  }

  let startStep = 0;
  let weights = initialWeights(o.seed);
  let adamM: NetworkWeights | null = null;
  let adamV: NetworkWeights | null = null;
  let recentLosses: number[] = [];
  let valLoss = NaN;
  let history: CheckpointJson['history'] = [];
  let elapsedBefore = 0;
  let initialValLoss = NaN;
  if (o.resume) {
    const { json, values } = readCheckpoint(outDir);
    // The run's identity comes from the checkpoint; only --steps may change (to train longer).
    const saved = json.options;
    for (const key of ['patch', 'batch', 'seed', 'alpha', 'bn', 'learningRate', 'sourceFraction', 'lrSchedule', 'learningRateMin'] as const) {
      if (options[key] !== undefined && options[key] !== saved[key]) throw new UserInputError(`--resume: --${key} ${options[key]} differs from the checkpoint's ${saved[key]}; omit it to continue the same run`);
    }
    if (json.trainImages.join('\n') !== train.map((t) => t.name).join('\n')) throw new UserInputError('--resume: the training images differ from the checkpoint\'s (same --data needed)');
    // Checkpoints from before the schedule option ran at a constant rate.
    o = { ...saved, lrSchedule: saved.lrSchedule ?? 'constant', learningRateMin: saved.learningRateMin ?? DEFAULT_TRAIN_OPTIONS.learningRateMin, steps: o.steps, resume: true, backend: o.backend, checkpointEvery: o.checkpointEvery };
    [weights, adamM, adamV] = splitState(values);
    startStep = json.step;
    recentLosses = json.recentLosses;
    valLoss = json.valLoss;
    history = json.history;
    elapsedBefore = json.elapsedSeconds;
    initialValLoss = json.initialValLoss;
    callbacks.onLog?.(`resuming from step ${startStep}`);
  }
  const demand: ResolvedDemandOptions = resolveDemandOptions({ alpha: o.alpha, bn: o.bn });

  const backend = await useTfBackend(o.backend);
  // Forward-convolution gradients where the backend lacks fast conv gradients (wasm); see tf-network.ts.
  const forwardConvGradients = backend === 'tfjs-wasm';
  const params = toTfParams(weights, true);
  const zeros = (src: NetworkWeights | null, name: string, shape: readonly number[]): tf.Variable =>
    tf.variable(src ? tf.tensor(src.get(name)!, [...shape]) : tf.zeros([...shape]), false);
  const state: TrainerState = { params, m: new Map(), v: new Map() };
  for (const p of PARAMETERS) {
    state.m.set(p.name, zeros(adamM, p.name, p.shape));
    state.v.set(p.name, zeros(adamV, p.name, p.shape));
  }
  const varList = PARAMETERS.map((p) => params.get(p.name) as tf.Variable);
  const validation = sampleBatch(val, new Random((o.seed ^ 0x5eed5eed) >>> 0), o.patch, o.valPatches, false);
  const start = Date.now();
  const elapsed = (): number => elapsedBefore + (Date.now() - start) / 1000;
  const smoothed = (): number => (recentLosses.length ? recentLosses.reduce((a, b) => a + b, 0) / recentLosses.length : NaN);
  const checkpoint = (step: number): Promise<void> =>
    saveCheckpoint(outDir, state, { step, options: o, trainImages: train.map((t) => t.name), valImages: val.map((t) => t.name), recentLosses, valLoss, initialValLoss, history, elapsedSeconds: elapsed() });

  let step = startStep;
  let stepsThisRun = 0;
  try {
    if (Number.isNaN(initialValLoss)) valLoss = initialValLoss = evaluate(params, validation, o.patch, o.batch);
    while (step < o.steps) {
      const { inputs, targets } = sampleBatch(train, stepRandom(o.seed, step), o.patch, o.batch, true, o.sourceFraction);
      const t = step + 1; // Adam's bias-correction step
      const lossValue = tf.tidy(() => {
        const x = tf.tensor4d(inputs, [o.batch, o.patch, o.patch, 1]);
        const y = tf.tensor4d(targets, [o.batch, o.patch, o.patch, 1]);
        const { value, grads } = tf.variableGrads(() => meanSquaredError(params, x, y, forwardConvGradients), varList);
        const lrT = (learningRateAt(o, t) * Math.sqrt(1 - Math.pow(ADAM_BETA2, t))) / (1 - Math.pow(ADAM_BETA1, t));
        for (const p of PARAMETERS) {
          const g = grads[(params.get(p.name) as tf.Variable).name];
          const m = state.m.get(p.name)!;
          const v = state.v.get(p.name)!;
          m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
          v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)));
          const w = params.get(p.name) as tf.Variable;
          w.assign(tf.sub(w, tf.div(tf.mul(m, lrT), tf.add(tf.sqrt(v), ADAM_EPSILON))));
        }
        return value.dataSync()[0];
      });
      if (!Number.isFinite(lossValue)) throw new Error(`training diverged at step ${t}: loss ${lossValue}`);
      step = t;
      stepsThisRun++;
      recentLosses.push(lossValue);
      if (recentLosses.length > 20) recentLosses.shift();
      if (step % o.validateEvery === 0 || step === o.steps) {
        valLoss = evaluate(params, validation, o.patch, o.batch);
        history.push({ step, loss: smoothed(), valLoss });
      }
      const perStep = (Date.now() - start) / 1000 / stepsThisRun;
      callbacks.onStep?.({ step, steps: o.steps, loss: smoothed(), valLoss, elapsedSeconds: elapsed(), etaSeconds: perStep * (o.steps - step) });
      const stop = callbacks.shouldStop?.() ?? false;
      if (step % o.checkpointEvery === 0 || stop || step === o.steps) await checkpoint(step);
      if (stop) {
        return { status: 'interrupted', step, trainLoss: smoothed(), valLoss, wallSeconds: elapsed(), patchesPerSecond: (stepsThisRun * o.batch) / ((Date.now() - start) / 1000), backend };
      }
      // Let signal handlers (Ctrl-C) run between steps: wasm kernels are synchronous.
      await new Promise((resolve) => setImmediate(resolve));
      if (callbacks.shouldStop?.()) {
        await checkpoint(step);
        return { status: 'interrupted', step, trainLoss: smoothed(), valLoss, wallSeconds: elapsed(), patchesPerSecond: (stepsThisRun * o.batch) / ((Date.now() - start) / 1000), backend };
      }
    }
    const seconds = (Date.now() - start) / 1000;
    const finalWeights = await fromTfParams(params);
    const patchesPerSecond = stepsThisRun > 0 ? (stepsThisRun * o.batch) / seconds : NaN;
    const metadata = saveModelDir(outDir, finalWeights, {
      name: o.name ?? basename(outDir),
      version: new Date().toISOString().slice(0, 10) + `.s${o.seed}`,
      demand,
      training: {
        ...(o.notes ?? {}),
        steps: step,
        patch: o.patch,
        batch: o.batch,
        learningRate: o.learningRate,
        lrSchedule: o.lrSchedule,
        ...(o.lrSchedule === 'constant' ? {} : { learningRateMin: o.learningRateMin }),
        optimizer: 'adam',
        seed: o.seed,
        trainImages: train.map((t) => t.name),
        valImages: val.map((t) => t.name),
        valPatches: o.valPatches,
        sourceFraction: o.sourceFraction,
        initialValLoss,
        // The loss of an all-zero output on the same validation patches: a trained model must beat it.
        zeroOutputValLoss: validation.targets.reduce((acc, v) => acc + v * v, 0) / validation.targets.length,
        finalTrainLoss: smoothed(),
        finalValLoss: valLoss,
        wallSeconds: elapsed(),
        backend,
        patchesPerSecond,
        trainGflopPerStep: (3 * o.batch * o.patch * o.patch * FLOPS_PER_PIXEL) / 1e9,
        history,
      },
    });
    return { status: 'completed', step, trainLoss: smoothed(), valLoss, wallSeconds: elapsed(), patchesPerSecond, backend, metadata };
  } finally {
    disposeTfParams(params);
    for (const t of [...state.m.values(), ...state.v.values()]) t.dispose();
  }
}
