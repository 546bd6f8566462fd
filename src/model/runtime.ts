/**
 * The model runtime port: what detection, tiling and the pipeline need from a trained CNN.
 * Implementations live in src/adapters/ (onnxruntime on CPU, TF.js for GPU and as fallback).
 * Only the composition root (cli/, pipeline/ wiring) chooses one.
 *
 * Input to `infer` is the *normalised* image (see normalise.ts): the caller normalises with the
 * image-wide noise estimate, so a tile normalises exactly like the whole image.
 */
import type { Image } from '../core/image';

export interface CnnRuntime {
  /** e.g. 'onnxruntime', 'tfjs-wasm', 'tfjs-node-gpu'. */
  readonly name: string;
  /** Runs the CNN on one normalised image; output has the same width and height. */
  infer(input: Image): Promise<Image>;
  dispose(): Promise<void>;
}

/** Creates a runtime for a model directory (models/NAME or a user's MODEL_DIR). */
export type CnnRuntimeFactory = (modelDir: string, options?: { intraOpThreads?: number }) => Promise<CnnRuntime>;
