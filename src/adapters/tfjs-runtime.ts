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
import { forward, toTfParams, disposeTfParams } from '../model/tf-network';

export interface TfjsRuntimeOptions {
  intraOpThreads?: number;
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
  let disposed = false;
  return {
    name,
    async infer(input: Image): Promise<Image> {
      if (disposed) throw new Error(`${name} runtime used after dispose()`);
      const { width, height } = input;
      if (input.data.length !== width * height || width < 1 || height < 1) {
        throw new UserInputError(`CNN input must be a non-empty ${width}x${height} image with ${width * height} pixels, got ${input.data.length}`);
      }
      const out = tf.tidy(() => forward(params, tf.tensor4d(input.data, [1, height, width, 1]), { forwardConvGradients: false }));
      try {
        const data = (await out.data()) as Float32Array;
        return { data: data.length === width * height ? data : new Float32Array(data), width, height };
      } finally {
        out.dispose();
      }
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      disposeTfParams(params);
    },
  };
}

export const createTfjsRuntime: CnnRuntimeFactory = (modelDir, options = {}) => createTfjsRuntimeWith(modelDir, { intraOpThreads: options.intraOpThreads });
