/**
 * CnnRuntime on TF.js: GPU via @tensorflow/tfjs-node-gpu where installed, else tfjs-node, else
 * wasm (XNNPACK), else the plain-JS cpu backend (model/tf-backend.ts picks). Reads
 * MODEL_DIR/weights.bin. Input is the normalised image (model/normalise.ts).
 *
 * TF.js has one global backend per process (per worker thread), so every runtime in a thread
 * shares it; `intraOpThreads` sets the wasm thread count where the wasm build supports threads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import type { CnnRuntime, CnnRuntimeFactory } from '../model/runtime';
import { readModelWeights } from '../model/registry';
import { useTfBackend, type TfBackendPreference } from '../model/tf-backend';
import { forward, toTfParams, disposeTfParams, type TfParams } from '../model/tf-network';
import { RECEPTIVE_RADIUS } from '../model/network';

export interface TfjsRuntimeOptions {
  intraOpThreads?: number;
  /**
   * Largest image run in one piece; larger ones run in horizontal strips with a halo of
   * RECEPTIVE_RADIUS rows, which gives the same result (each output pixel only sees inputs within
   * 10 px). Default 2²⁰ pixels: ~50 MB per 12-channel activation, well inside wasm's 32-bit heap,
   * which a 2048² image in one piece overflows.
   */
  maxPixelsPerPass?: number;
  /** Backend preference; default 'auto' (or DEEPSOURCE_TFJS_BACKEND). */
  backend?: TfBackendPreference;
}

export async function createTfjsRuntimeWith(modelDir: string, options: TfjsRuntimeOptions = {}): Promise<CnnRuntime> {
  const weights = readModelWeights(modelDir);
  const preference = options.backend ?? ((process.env.DEEPSOURCE_TFJS_BACKEND as TfBackendPreference | undefined) || 'auto');
  if (options.intraOpThreads !== undefined && options.intraOpThreads > 1) {
    try {
      setThreadsCount(options.intraOpThreads); // effective only before the wasm backend initialises
    } catch {
      /* not supported by this build */
    }
  }
  const name = await useTfBackend(preference);
  const params = toTfParams(weights);
  const maxPixels = options.maxPixelsPerPass ?? 1 << 20;
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new UserInputError(`maxPixelsPerPass must be a positive integer, got ${maxPixels}`);
  let disposed = false;
  return {
    name,
    async infer(input: Image): Promise<Image> {
      if (disposed) throw new Error(`${name} runtime used after dispose()`);
      const { width, height } = input;
      if (input.data.length !== width * height || width < 1 || height < 1) {
        throw new UserInputError(`CNN input must be a non-empty ${width}x${height} image with ${width * height} pixels, got ${input.data.length}`);
      }
      const rowsPerPass = Math.max(1, Math.floor(maxPixels / width) - 2 * RECEPTIVE_RADIUS);
      if (rowsPerPass >= height) return { data: await runOnce(params, input.data, width, height), width, height };
      const out = new Float32Array(width * height);
      for (let y0 = 0; y0 < height; y0 += rowsPerPass) {
        const y1 = Math.min(height, y0 + rowsPerPass);
        const h0 = Math.max(0, y0 - RECEPTIVE_RADIUS);
        const h1 = Math.min(height, y1 + RECEPTIVE_RADIUS);
        const strip = await runOnce(params, input.data.subarray(h0 * width, h1 * width), width, h1 - h0);
        out.set(strip.subarray((y0 - h0) * width, (y1 - h0) * width), y0 * width);
      }
      return { data: out, width, height };
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      disposeTfParams(params);
    },
  };
}

async function runOnce(params: TfParams, data: Float32Array, width: number, height: number): Promise<Float32Array> {
  const out = tf.tidy(() => forward(params, tf.tensor4d(data, [1, height, width, 1]), { forwardConvGradients: false }));
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

export const createTfjsRuntime: CnnRuntimeFactory = (modelDir, options = {}) => createTfjsRuntimeWith(modelDir, { intraOpThreads: options.intraOpThreads });
