/**
 * CnnRuntime on onnxruntime-node (CPU): the fast inference path (issue 3). Reads MODEL_DIR/model.onnx.
 * Input is the normalised image (model/normalise.ts); output has the same size.
 *
 * Threads: intraOpNumThreads defaults to 1, because parallelism comes from the piscina pool (one
 * runtime per worker thread); the session never spins extra threads behind the pool's back.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Image } from '../core/image';
import { FormatError, UserInputError } from '../core/errors';
import type { CnnRuntime, CnnRuntimeFactory } from '../model/runtime';
import { MODEL_ONNX } from '../model/registry';
import { ONNX_INPUT, ONNX_OUTPUT } from '../model/onnx-export';

export const createOnnxRuntime: CnnRuntimeFactory = async (modelDir, options = {}) => {
  const threads = options.intraOpThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new UserInputError(`intraOpThreads must be an integer >= 1, got ${threads}`);
  const path = join(modelDir, MODEL_ONNX);
  if (!existsSync(path)) throw new UserInputError(`model directory ${modelDir} has no ${MODEL_ONNX}`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new FormatError(`${path}: onnxruntime cannot load the model (${(err as Error).message})`, { cause: err });
  }
  let disposed = false;
  const runtime: CnnRuntime = {
    name: 'onnxruntime',
    async infer(input: Image): Promise<Image> {
      if (disposed) throw new Error('onnxruntime runtime used after dispose()');
      const { width, height } = input;
      if (input.data.length !== width * height || width < 1 || height < 1) {
        throw new UserInputError(`CNN input must be a non-empty ${width}x${height} image with ${width * height} pixels, got ${input.data.length}`);
      }
      const tensor = new ort.Tensor('float32', input.data, [1, 1, height, width]);
      const result = await session.run({ [ONNX_INPUT]: tensor });
      const out = result[ONNX_OUTPUT];
      const data = out.data as Float32Array;
      // Copy out of onnxruntime's buffer so the caller owns (and may transfer) the result.
      const copy = new Float32Array(data);
      out.dispose?.();
      return { data: copy, width, height };
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
  return runtime;
};
