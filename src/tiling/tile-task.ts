/**
 * THE tile function (ARCHITECTURE.md: "one tile function serves detect, the pool and the pipeline
 * worker") and the typed messages that carry tiles between threads (STYLE.md habit 8).
 *
 * A tile travels as raw image pixels of its window plus the image-wide noise sigma; the tile
 * function normalises them (pixel-wise given sigma, see src/model/normalise.ts, so a tile
 * normalises exactly like the whole image), runs the CNN on the window and returns only the core:
 * the margins, whose outputs saw zero padding instead of their real neighbours, are dropped.
 */
import { types } from 'node:util';
import type { CnnRuntime } from '../model/runtime';
import { normaliseInput } from '../model/normalise';
import { DeepSourceError } from '../core/errors';
import type { PixelBox } from './plan';

/** Main thread → worker. `pixels` is transferred (its buffer is detached on the sender side). */
export interface TileRequest {
  /** Names the image in errors (file path or survey id). */
  readonly imageId: string;
  readonly tileIndex: number;
  /** Window in image pixels; `pixels` holds window rows, row-major, raw image units, NaN = blank. */
  readonly window: PixelBox;
  /** Core in image pixels; must lie inside the window. */
  readonly core: PixelBox;
  readonly pixels: Float32Array;
  /** Image-wide noise sigma used for normalisation (never a per-tile estimate). */
  readonly noiseSigma: number;
  /**
   * Set the output to NaN where the input pixel is blank (non-finite), so that blanks never become
   * sources (detect does this; done here, the caller never needs the input pixels again).
   */
  readonly maskBlanks?: boolean;
}

/** Worker → main thread. `output` (core rows of the CNN map, row-major) is transferred. */
export interface TileResponse {
  readonly imageId: string;
  readonly tileIndex: number;
  readonly core: PixelBox;
  readonly output: Float32Array;
  /** Seconds spent in `runtime.infer` (for profiling; normalisation and cropping excluded). */
  readonly inferSeconds: number;
  /** Seconds for the whole tile function: normalise + infer + crop. */
  readonly taskSeconds: number;
}

/** The buffers a request or response hands over instead of copying. */
export function transferablesOf(message: TileRequest | TileResponse): ArrayBuffer[] {
  const view = 'pixels' in message ? message.pixels : message.output;
  // util.types, not instanceof: buffers may come from another realm (vm contexts, test runners).
  return types.isArrayBuffer(view.buffer) && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
    ? [view.buffer as ArrayBuffer]
    : [];
}

/** Checks a request's geometry (public entry; the pool's worker and the serial path call it). */
export function checkTileRequest(request: TileRequest): void {
  const { window: w, core: c, pixels } = request;
  const width = w.x1 - w.x0;
  const height = w.y1 - w.y0;
  if (!(width > 0 && height > 0)) throw new DeepSourceError(`tile ${request.tileIndex} of ${request.imageId}: empty window`);
  if (!(c.x0 >= w.x0 && c.y0 >= w.y0 && c.x1 <= w.x1 && c.y1 <= w.y1 && c.x1 > c.x0 && c.y1 > c.y0)) {
    throw new DeepSourceError(`tile ${request.tileIndex} of ${request.imageId}: core ${JSON.stringify(c)} is not inside window ${JSON.stringify(w)}`);
  }
  if (!(pixels instanceof Float32Array) || pixels.length !== width * height) {
    throw new DeepSourceError(
      `tile ${request.tileIndex} of ${request.imageId}: expected ${width}×${height} = ${width * height} float32 pixels, got ${pixels?.length}`,
    );
  }
}

/** Runs one tile: normalise → CNN → keep the core. Same code on the serial path and in workers. */
export async function runTileTask(runtime: CnnRuntime, request: TileRequest): Promise<TileResponse> {
  const taskStarted = performance.now();
  checkTileRequest(request);
  const { window: w, core: c } = request;
  const width = w.x1 - w.x0;
  const height = w.y1 - w.y0;
  const input = normaliseInput({ data: request.pixels, width, height }, request.noiseSigma);
  const started = performance.now();
  const result = await runtime.infer(input);
  const inferSeconds = (performance.now() - started) / 1000;
  if (result.width !== width || result.height !== height || result.data.length !== width * height) {
    throw new DeepSourceError(
      `tile ${request.tileIndex} of ${request.imageId}: runtime ${runtime.name} returned ${result.width}×${result.height}, expected ${width}×${height}`,
    );
  }
  const output = cropCore(result.data, width, c.x0 - w.x0, c.y0 - w.y0, c.x1 - c.x0, c.y1 - c.y0);
  if (request.maskBlanks) maskCoreBlanks(output, request.pixels, width, c.x0 - w.x0, c.y0 - w.y0, c.x1 - c.x0, c.y1 - c.y0);
  return {
    imageId: request.imageId,
    tileIndex: request.tileIndex,
    core: c,
    output,
    inferSeconds,
    taskSeconds: (performance.now() - taskStarted) / 1000,
  };
}

/** output (the core, coreWidth wide) = NaN where the window's input pixel is not finite. */
function maskCoreBlanks(output: Float32Array, pixels: Float32Array, stride: number, x0: number, y0: number, coreWidth: number, coreHeight: number): void {
  for (let y = 0; y < coreHeight; y++) {
    const src = (y + y0) * stride + x0;
    const dst = y * coreWidth;
    for (let x = 0; x < coreWidth; x++) if (!Number.isFinite(pixels[src + x])) output[dst + x] = NaN;
  }
}

function cropCore(data: Float32Array, stride: number, x0: number, y0: number, width: number, height: number): Float32Array {
  if (x0 === 0 && y0 === 0 && width === stride && height * width === data.length) return data;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const src = (y + y0) * stride + x0;
    out.set(data.subarray(src, src + width), y * width);
  }
  return out;
}
