/**
 * Tiled inference: read strips of rows, cut tiles, run them on an executor (pool or serial path),
 * and stitch each tile's core into the full CNN output map.
 *
 * Memory: the input is never held whole. Tiles of one tile-row share one strip of image rows
 * (width × (tile + 2·overlap) pixels), read when the first tile of that row is due and dropped
 * after its last; at most `executor.capacity` tiles are in flight. The output map is the only
 * image-sized allocation (4 bytes/pixel).
 *
 * TBD over large images (issue 5 decision): detection runs on this stitched whole output, not on a
 * streaming band union-find. The paper's dynamic threshold (section 4.2) picks τ* from N_blobs(τ)
 * over the *whole* image, so a band-streaming detector would need to label every candidate τ in one
 * pass and keep per-τ blob statistics; the stitched map costs 4 bytes/pixel (1 GiB at 16384²) and
 * makes the tile seams vanish before TBD sees the map, so a source on a seam is one blob and is
 * found exactly once (test/tiling/catalogue.test.ts).
 *
 * Measured (bench/detect.ts memory, 2 workers, 512-px tiles, shipped 'natural' model): peak RSS up
 * to the end of the CNN phase is ~0.52 GB at 4096² and ~1.56 GB at 16384² (the difference is the
 * output map; workers and strips do not grow with the image; 1024-px tiles: more per worker). TBD
 * then adds a bounded working set, 4 bytes per map pixel plus an order buffer of at most
 * max(64 MB, active/16 × 4 B) (src/detect/tbd.ts), and detect reads the FITS file by rows
 * (src/detect/row-source.ts), so the 16384² run peaks at ~2.6 GiB whatever the map's density.
 * docs/LARGE_IMAGES.md has the figures.
 */
import type { Image } from '../core/image';
import { DeepSourceError } from '../core/errors';
import { planTiles, type ResolvedTilingOptions, type Tile, type TilePlan } from './plan';
import type { TileExecutor } from './pool';
import type { TileRequest, TileResponse } from './tile-task';

/** Rows of an image read on demand; a FitsFile (src/fits) is one. */
export interface RowSource {
  readonly width: number;
  readonly height: number;
  /** Rows [y0, y1) as float32, row-major, NaN = blank. */
  readRows(y0: number, y1: number): Promise<Float32Array>;
}

export interface TiledInferenceOptions {
  /** Names the image in errors and in tile requests. */
  imageId: string;
  /** Image-wide noise sigma (see src/model/normalise.ts); every tile normalises with it. */
  noiseSigma: number;
  executor: TileExecutor;
  tiling: Pick<ResolvedTilingOptions, 'tile' | 'overlap'>;
  /** Extra attempts for a tile whose worker died (retriable errors only). Default 1. */
  retries?: number;
  /** Called after each tile is stitched (progress bars). */
  onTile?: (done: number, total: number) => void;
  /** Called with each clamping note of the plan (tile or overlap larger than the image); show it. */
  onWarning?: (message: string) => void;
  /** Output NaN where the input pixel is blank (see TileRequest.maskBlanks). Default false. */
  maskBlanks?: boolean;
  /** Reuse this array (length width × height) as the output map. */
  output?: Float32Array;
}

export interface TiledInferenceResult {
  /** The CNN output for the whole image. */
  readonly output: Image;
  readonly plan: TilePlan;
  /** Sum over tiles of time inside the CNN runtime (seconds, across workers). */
  readonly inferSeconds: number;
  /** Sum over tiles of time in the tile function (normalise + infer + crop), across workers. */
  readonly taskSeconds: number;
  /** Main-thread seconds spent reading strips and cutting tiles, and stitching cores. */
  readonly readSeconds: number;
  readonly stitchSeconds: number;
  /** Pixels the CNN processed, margins included (≥ width × height). */
  readonly pixelsProcessed: number;
}

/**
 * Runs the CNN over an image tile by tile and returns the stitched output, equal to whole-image
 * inference to float32 tolerance (the plan's overlap covers the receptive field).
 */
export async function runTiledInference(source: RowSource | Image, options: TiledInferenceOptions): Promise<TiledInferenceResult> {
  const { width, height } = source;
  if (!(options.noiseSigma > 0) || !Number.isFinite(options.noiseSigma)) {
    throw new DeepSourceError(`noise sigma for ${options.imageId} must be a positive finite number, got ${options.noiseSigma}`);
  }
  const plan = planTiles(width, height, options.tiling);
  for (const warning of plan.warnings) options.onWarning?.(`${options.imageId}: ${warning}`);
  const output = options.output ?? new Float32Array(width * height);
  if (output.length !== width * height) {
    throw new DeepSourceError(`output array has ${output.length} pixels, expected ${width}×${height}`);
  }
  const read = rowReader(source, options.imageId);
  const retries = options.retries ?? 1;
  const capacity = Math.max(1, options.executor.capacity);

  let done = 0;
  let inferSeconds = 0;
  let taskSeconds = 0;
  let readSeconds = 0;
  let stitchSeconds = 0;
  let pixelsProcessed = 0;
  let firstError: unknown;
  const inFlight = new Set<Promise<void>>();

  const runOne = async (tile: Tile, pixels: Float32Array): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await options.executor.runTile(requestFor(tile, pixels, options));
        const stitchStarted = performance.now();
        stitchTile(output, width, response);
        stitchSeconds += (performance.now() - stitchStarted) / 1000;
        inferSeconds += response.inferSeconds;
        taskSeconds += response.taskSeconds;
        pixelsProcessed += windowArea(tile);
        options.onTile?.(++done, plan.tiles.length);
        return;
      } catch (err) {
        const retriable = err instanceof DeepSourceError && err.retriable;
        if (!retriable || attempt >= retries || firstError !== undefined) throw err;
        // The pixels were transferred to the dead worker: read the window again.
        pixels = cutTile(await read(tile.window.y0, tile.window.y1), width, tile, tile.window.y0);
      }
    }
  };

  let strip: { row: number; y0: number; rows: Float32Array } | undefined;
  try {
    for (const tile of plan.tiles) {
      while (inFlight.size >= capacity) await Promise.race(inFlight);
      if (firstError !== undefined) break;
      const readStarted = performance.now();
      if (!strip || strip.row !== tile.row) {
        strip = undefined; // let the previous strip go before reading the next
        strip = { row: tile.row, y0: tile.window.y0, rows: await read(tile.window.y0, tile.window.y1) };
      }
      const pixels = cutTile(strip.rows, width, tile, strip.y0);
      readSeconds += (performance.now() - readStarted) / 1000;
      const task = runOne(tile, pixels).then(
        () => {
          inFlight.delete(task);
        },
        (err: unknown) => {
          inFlight.delete(task);
          if (firstError === undefined) firstError = err;
        },
      );
      inFlight.add(task);
    }
  } catch (err) {
    // A read failed: stop submitting, but let the tiles in flight finish before reporting it.
    if (firstError === undefined) firstError = err;
  }
  strip = undefined;
  await Promise.all(inFlight);
  if (firstError !== undefined) throw firstError;
  return { output: { data: output, width, height }, plan, inferSeconds, taskSeconds, readSeconds, stitchSeconds, pixelsProcessed };
}

/** Copies a tile's core output into the full map (row stride `width`). */
export function stitchTile(output: Float32Array, width: number, response: Pick<TileResponse, 'core' | 'output'>): void {
  const { x0, y0, x1, y1 } = response.core;
  const coreWidth = x1 - x0;
  for (let y = y0; y < y1; y++) {
    const src = (y - y0) * coreWidth;
    output.set(response.output.subarray(src, src + coreWidth), y * width + x0);
  }
}

function requestFor(tile: Tile, pixels: Float32Array, options: TiledInferenceOptions): TileRequest {
  return {
    imageId: options.imageId,
    tileIndex: tile.index,
    window: tile.window,
    core: tile.core,
    pixels,
    noiseSigma: options.noiseSigma,
    ...(options.maskBlanks ? { maskBlanks: true } : {}),
  };
}

/** A fresh (transferable) array of the tile's window, cut from full-width rows starting at row `rowsY0`. */
function cutTile(rows: Float32Array, width: number, tile: Tile, rowsY0: number): Float32Array {
  const { x0, y0, x1, y1 } = tile.window;
  const tileWidth = x1 - x0;
  const out = new Float32Array(tileWidth * (y1 - y0));
  for (let y = y0; y < y1; y++) {
    const src = (y - rowsY0) * width + x0;
    out.set(rows.subarray(src, src + tileWidth), (y - y0) * tileWidth);
  }
  return out;
}

function windowArea(tile: Tile): number {
  return (tile.window.x1 - tile.window.x0) * (tile.window.y1 - tile.window.y0);
}

function rowReader(source: RowSource | Image, imageId: string): (y0: number, y1: number) => Promise<Float32Array> {
  if ('readRows' in source) {
    return async (y0, y1) => {
      let rows: Float32Array;
      try {
        rows = await source.readRows(y0, y1);
      } catch (err) {
        const reason = (err as { message?: unknown } | null)?.message ?? String(err);
        throw new DeepSourceError(`reading rows ${y0}..${y1} of ${imageId} failed: ${String(reason)}`, { cause: err });
      }
      if (rows.length !== (y1 - y0) * source.width) {
        throw new DeepSourceError(`readRows(${y0}, ${y1}) returned ${rows.length} pixels, expected ${(y1 - y0) * source.width}`);
      }
      return rows;
    };
  }
  const image = source;
  // A view, not a copy: tiles are cut (copied) from it anyway.
  return async (y0, y1) => image.data.subarray(y0 * image.width, y1 * image.width);
}

/**
 * A strided sample of whole rows (about `targetPixels` pixels) for estimating the image-wide noise
 * of an image too large to read at once: pass it to estimateNoiseSigma (src/model/normalise.ts).
 * Reads one row at a time, so memory stays at the sample size.
 */
export async function sampleRows(source: RowSource | Image, targetPixels = 1 << 20): Promise<Image> {
  const { width, height } = source;
  const read = rowReader(source, 'the image');
  const targetRows = Math.max(1, Math.floor(targetPixels / width));
  const rowStep = Math.max(1, Math.ceil(height / targetRows));
  const rows = Math.ceil(height / rowStep);
  const data = new Float32Array(rows * width);
  for (let i = 0, y = 0; y < height; i++, y += rowStep) data.set(await read(y, y + 1), i * width);
  return { data, width, height: rows };
}
