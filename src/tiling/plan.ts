/**
 * Tile plan for tiled CNN inference over large images (issue 5).
 *
 * The DeepSource CNN (paper, section 4.1 and Fig. 8) is six 5×5 convolutions with "same" padding,
 * so an output pixel depends only on input pixels within 6 × 2 = 12 px of it: the receptive-field
 * radius. A tile therefore reads a window that extends `overlap` px past the region it keeps (its
 * "core") on every side that is not an image edge; with overlap ≥ 12 the kept pixels see exactly
 * the input they see in whole-image inference, and at an image edge both see the same zero padding.
 * The cores partition the image, so stitching the cores reproduces whole-image inference.
 *
 * `tile` is the largest window (margins included) a worker is given; a worker's memory therefore
 * depends on `tile`, never on the image size. Cores are spread evenly, so the last tile ends on the
 * image edge and the extra work from margins is as small as the window limit allows.
 */
import * as os from 'node:os';
import { UserInputError } from '../core/errors';

/** Receptive-field radius of the paper's network: 6 convolution layers of 5×5 (paper, Fig. 8). */
export const RECEPTIVE_FIELD_RADIUS_PX = 12;
// The network as built (src/model/network.ts) has five convolutions, radius 10; requiring 12
// follows the paper's six layers and leaves the plan valid if a layer is added.

/** Tiling knobs shared by `detect`, the pool and the pipeline. Every field is optional. */
export interface TilingOptions {
  /** Largest tile window, margins included, in px (square). */
  tile?: number;
  /** Margin each tile reads past the region it keeps, in px; must be ≥ the receptive-field radius. */
  overlap?: number;
  /** Worker threads; 0 runs tiles on the calling thread (the serial path). */
  workers?: number;
  /** Tiles waiting in the pool queue beyond those being computed. */
  maxQueue?: number;
}

export interface ResolvedTilingOptions {
  readonly tile: number;
  readonly overlap: number;
  readonly workers: number;
  readonly maxQueue: number;
}

/** Number of CPU cores available to this process (the default worker count). */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Defaults, from bench/detect.ts on the 2-core EPYC (4096² image, 2 workers, quiet machine): tiles
 * of 384, 512, 768 and 1024 px ran the CNN within 4 % of each other (512: 2.42 s, 158 GFLOP/s
 * effective, the fastest), while a worker's onnxruntime memory follows the tile: peak RSS through
 * the CNN 458 / 524 / 774 / 1007 MB. 512 px costs ~10 % margin work at 4096² and half the memory
 * of 1024. The overlap default is the receptive-field minimum: it is exact, and more only adds
 * work. `workers` is filled in from the core count at resolve time.
 */
export const DEFAULT_TILING_OPTIONS: Readonly<Required<Omit<TilingOptions, 'workers'>>> = Object.freeze({
  tile: 512,
  overlap: RECEPTIVE_FIELD_RADIUS_PX,
  maxQueue: 2,
});

/**
 * Checks tiling options once, at the door (STYLE.md habit 11). `detect` calls this with its
 * `--tile`, `--overlap` and `--workers` values; errors are UserInputError naming the option.
 * `workers` may be 0 only when `allowSerial` is set (the library's serial path); the CLI rejects 0.
 */
export function resolveTilingOptions(
  options: TilingOptions = {},
  { allowSerial = false }: { allowSerial?: boolean } = {},
): ResolvedTilingOptions {
  const tile = options.tile ?? DEFAULT_TILING_OPTIONS.tile;
  const overlap = options.overlap ?? DEFAULT_TILING_OPTIONS.overlap;
  const workers = options.workers ?? availableCores();
  const maxQueue = options.maxQueue ?? DEFAULT_TILING_OPTIONS.maxQueue;
  checkInteger('tile', tile);
  checkInteger('tile overlap', overlap);
  checkInteger('workers', workers);
  checkInteger('maxQueue', maxQueue);
  if (overlap < RECEPTIVE_FIELD_RADIUS_PX) {
    throw new UserInputError(
      `tile overlap must be >= ${RECEPTIVE_FIELD_RADIUS_PX} px (receptive field), got ${overlap}`,
    );
  }
  if (tile <= 2 * overlap) {
    throw new UserInputError(`tile must be > 2 × overlap (${2 * overlap} px) so each tile keeps some pixels, got ${tile}`);
  }
  if (workers < 0 || (workers === 0 && !allowSerial)) {
    throw new UserInputError(`workers must be >= 1, got ${workers}`);
  }
  if (maxQueue < 0) throw new UserInputError(`maxQueue must be >= 0, got ${maxQueue}`);
  return Object.freeze({ tile, overlap, workers, maxQueue });
}

function checkInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new UserInputError(`${name} must be an integer, got ${String(value)}`);
  }
}

/** A half-open pixel box [x0, x1) × [y0, y1). */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface Tile {
  /** Index in row-major tile order (0 … tiles − 1). */
  readonly index: number;
  readonly column: number;
  readonly row: number;
  /** The window the CNN sees: the core plus up to `overlap` px on each side, inside the image. */
  readonly window: PixelBox;
  /** The pixels this tile contributes to the stitched output; cores partition the image. */
  readonly core: PixelBox;
}

export interface TilePlan {
  readonly width: number;
  readonly height: number;
  readonly tileSize: number;
  readonly overlap: number;
  readonly columns: number;
  readonly rows: number;
  /** Row-major: all tiles of tile-row 0 first. Tiles of one row share one strip of image rows. */
  readonly tiles: readonly Tile[];
  /** Clamping notes for the caller to show (tiling code does not log). */
  readonly warnings: readonly string[];
}

/** Plans tiles for a width × height image. `options` must come from resolveTilingOptions. */
export function planTiles(width: number, height: number, options: Pick<ResolvedTilingOptions, 'tile' | 'overlap'>): TilePlan {
  checkInteger('image width', width);
  checkInteger('image height', height);
  if (width < 1 || height < 1) throw new UserInputError(`image must be at least 1×1 px, got ${width}×${height}`);
  const { tile, overlap } = options;
  const warnings: string[] = [];
  if (tile > width || tile > height) {
    warnings.push(
      `tile ${tile} px is larger than the ${width}×${height} image; clamped to ${Math.min(tile, width)}×${Math.min(tile, height)}`,
    );
  }
  if (overlap >= width || overlap >= height) {
    warnings.push(`tile overlap ${overlap} px is not smaller than the ${width}×${height} image; the image edge bounds it`);
  }
  const xs = splitAxis(width, tile, overlap);
  const ys = splitAxis(height, tile, overlap);
  const tiles: Tile[] = [];
  for (let row = 0; row < ys.length; row++) {
    for (let column = 0; column < xs.length; column++) {
      const [cx0, cx1] = xs[column];
      const [cy0, cy1] = ys[row];
      tiles.push({
        index: tiles.length,
        column,
        row,
        core: { x0: cx0, y0: cy0, x1: cx1, y1: cy1 },
        window: {
          x0: Math.max(0, cx0 - overlap),
          y0: Math.max(0, cy0 - overlap),
          x1: Math.min(width, cx1 + overlap),
          y1: Math.min(height, cy1 + overlap),
        },
      });
    }
  }
  return { width, height, tileSize: tile, overlap, columns: xs.length, rows: ys.length, tiles, warnings };
}

/**
 * Splits [0, length) into the fewest even cores whose windows (core + margin on inner sides) fit
 * in `tile`. An axis no longer than `tile` is one core, whatever the overlap.
 */
function splitAxis(length: number, tile: number, overlap: number): Array<[number, number]> {
  if (length <= tile) return [[0, length]];
  let count = Math.max(2, Math.ceil((length - 2 * overlap) / (tile - 2 * overlap)));
  for (;;) {
    const bounds: Array<[number, number]> = [];
    let fits = true;
    for (let i = 0; i < count; i++) {
      const c0 = Math.round((i * length) / count);
      const c1 = Math.round(((i + 1) * length) / count);
      const w0 = Math.max(0, c0 - overlap);
      const w1 = Math.min(length, c1 + overlap);
      if (w1 - w0 > tile) fits = false;
      bounds.push([c0, c1]);
    }
    if (fits) return bounds;
    count++;
  }
}

/** Describes a tile for error messages: `tile 3 (x 992..2016, y 0..1008)`. */
export function describeTile(tile: Pick<Tile, 'index' | 'window'>): string {
  const w = tile.window;
  return `tile ${tile.index} (x ${w.x0}..${w.x1}, y ${w.y0}..${w.y1})`;
}
