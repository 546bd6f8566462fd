/**
 * Thresholded Blob Detection (TBD), paper section 4.2.
 *
 * The CNN output T(I) is thresholded at a sweep of levels τ_0 = max(T) > τ_1 > ... > τ_K,
 * spaced logarithmically (the paper: "we need more accuracy for smaller τ values ... we used
 * logarithmic steps"). N(τ) is the number of connected blobs above τ, and
 * ΔN(τ_k) = N(τ_k) − N(τ_{k−1}). The chosen threshold τ* is
 *   - 'closest' (paper text, section 4.2: "decreasing τ until ΔN is as close as possible to Δmax"):
 *     the level whose ΔN is closest to Δmax among the levels down to the first one whose ΔN reaches
 *     Δmax (see chooseLevel);
 *   - 'first-exceed' (the authors' code): stop as soon as ΔN exceeds Δmax and take the previous level
 *     (the last level if it never does).
 * Blobs above τ* smaller than Amin pixels are dropped (Fig. 6), and each remaining blob gives one
 * source at its mean position (eq. 4), CNN-intensity-weighted centroid (eq. 5) or peak (eq. 6).
 *
 * Speed and memory: one pass activates pixels in decreasing order (bucketed by sweep level with a
 * counting sort, no full sort) and grows blobs with union-find, so N(τ) for every level comes out
 * of a single pass instead of relabelling the image per level. Only pixels at or above the sweep's
 * lowest threshold ("active" pixels) are ever added. The working set is bounded per map pixel, not
 * per active pixel (issue 5: trained CNN maps are dense, 98 % of pixels above the floor): one Int32
 * union-find word per pixel (parent index, or −size at a root), one "added" bit per pixel, and a
 * level-sorted order buffer of at most max(2^24, active/16) pixels that a counting-sort scan of the
 * map refills level group by level group (see SweepState). A 16384² map (1 GiB) needs about
 * 1.0 GiB + 64 MiB beyond itself, whatever its density; a 4096² map 64 MB + ≤ 64 MB.
 * On maps of 2^20 pixels or more the count pass (all levels) runs band by band with a cache-sized
 * union-find and a seam graph joining the bands (countBlobsBanded); the whole-map union-find is then
 * built only down to τ*. Every result is bit-identical to a single whole-map pass
 * (test/detect/tbd-compact.test.ts against the previous implementation).
 *
 * Kernels are pure (STYLE.md habit 1): the input map is never modified.
 */
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import { touchesEdgeOrBlank } from './blob-edge';
import { deblendBlobs } from './deblend';

/** How a blob's position is defined (paper eqs. 4–6). */
export type CentreMethod = 'mean' | 'centroid' | 'peak';
export const CENTRE_METHODS: readonly CentreMethod[] = Object.freeze(['mean', 'centroid', 'peak']);

/** How τ* is picked from the ΔN curve. */
export type StopRule = 'closest' | 'first-exceed';
export const STOP_RULES: readonly StopRule[] = Object.freeze(['closest', 'first-exceed']);

export interface TbdOptions {
  /** Δmax: the blob-count increase per step that stops the sweep (paper 4.3 best: 100). */
  deltaMax?: number;
  /** Amin: smallest blob area in pixels kept as a source (paper 4.3 best: 10). */
  aMin?: number;
  /** Source position within a blob (paper 4.3 best: 'mean', eq. 4). */
  centre?: CentreMethod;
  /** 'closest' follows the paper's text; 'first-exceed' the authors' code. */
  stopRule?: StopRule;
  /** Logarithmic steps per factor of ten in τ. */
  levelsPerDecade?: number;
  /** The sweep goes down to max(T) · 10^−decades ... */
  decades?: number;
  /** ... and never below this absolute CNN value (0: no absolute floor). */
  floor?: number;
  /** Pixel connectivity of a blob: 4 (edges) or 8 (edges and corners). */
  connectivity?: 4 | 8;
  /**
   * Deblending contrast (beyond the paper, src/detect/deblend.ts): 0 (default) keeps one source per
   * blob as in section 4.2; c > 0 splits a blob into the branches of its component tree that hold
   * ≥ Amin pixels and ≥ c of the blob's CNN flux above τ* (like SExtractor's DEBLEND_MINCONT).
   */
  deblend?: number;
}

export type ResolvedTbdOptions = Readonly<Required<TbdOptions>>;

export const DEFAULT_TBD_OPTIONS: ResolvedTbdOptions = Object.freeze({
  deltaMax: 100,
  aMin: 10,
  centre: 'mean',
  stopRule: 'closest',
  levelsPerDecade: 20,
  decades: 4,
  floor: 0,
  connectivity: 8,
  deblend: 0,
} as const);

/** Blobs as columns (STYLE.md habit 5), ordered by decreasing CNN peak. */
export interface BlobColumns {
  readonly count: number;
  /** Source position, 0-based pixel coordinates (CONTRACT.md), sub-pixel for mean/centroid. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Blob area in pixels at τ*. */
  readonly area: Int32Array;
  /** Largest CNN value in the blob, and where it is. */
  readonly cnnPeak: Float32Array;
  readonly peakX: Int32Array;
  readonly peakY: Int32Array;
  /** 1 if the blob touches the image edge or a blank (non-finite) pixel, so its position may be biased. */
  readonly touchesEdge: Uint8Array;
}

export interface TbdSweep {
  /** τ_k, decreasing. Empty when the map has nothing to sweep. */
  readonly thresholds: Float64Array;
  /** N(τ_k), all blob sizes (Amin is applied after τ* is chosen, as in Fig. 6). Levels past an early stop are -1. */
  readonly counts: Int32Array;
  /** k*, or -1 when the map has nothing to sweep. */
  readonly chosenIndex: number;
  /** τ*, NaN when the map has nothing to sweep. */
  readonly threshold: number;
  /** Pixels at or above the lowest threshold (those that got a union-find id). */
  readonly activePixels: number;
}

export interface TbdResult {
  readonly blobs: BlobColumns;
  readonly sweep: TbdSweep;
  readonly options: ResolvedTbdOptions;
}

/** Merges options over the defaults and checks every field; errors name the option. */
export function resolveTbdOptions(options: TbdOptions = {}): ResolvedTbdOptions {
  const r = { ...DEFAULT_TBD_OPTIONS, ...dropUndefined(options) };
  if (!Number.isFinite(r.deltaMax)) throw new UserInputError(`TBD deltaMax must be a finite number, got ${r.deltaMax}`);
  if (!Number.isFinite(r.aMin) || r.aMin < 0) throw new UserInputError(`TBD aMin must be a number >= 0 (pixels), got ${r.aMin}`);
  if (!CENTRE_METHODS.includes(r.centre)) {
    throw new UserInputError(`TBD centre must be one of ${CENTRE_METHODS.join('|')}, got ${JSON.stringify(r.centre)}`);
  }
  if (!STOP_RULES.includes(r.stopRule)) {
    throw new UserInputError(`TBD stopRule must be one of ${STOP_RULES.join('|')}, got ${JSON.stringify(r.stopRule)}`);
  }
  if (!Number.isFinite(r.levelsPerDecade) || r.levelsPerDecade <= 0) {
    throw new UserInputError(`TBD levelsPerDecade must be > 0, got ${r.levelsPerDecade}`);
  }
  if (!Number.isFinite(r.decades) || r.decades <= 0) throw new UserInputError(`TBD decades must be > 0, got ${r.decades}`);
  if (!Number.isFinite(r.floor) || r.floor < 0) throw new UserInputError(`TBD floor must be a number >= 0, got ${r.floor}`);
  if (r.connectivity !== 4 && r.connectivity !== 8) {
    throw new UserInputError(`TBD connectivity must be 4 or 8, got ${String(r.connectivity)}`);
  }
  if (!Number.isFinite(r.deblend) || r.deblend < 0 || r.deblend >= 1) {
    throw new UserInputError(`TBD deblend contrast must be a number in [0, 1) (0: no deblending), got ${r.deblend}`);
  }
  if (r.levelsPerDecade * r.decades > 10000) {
    throw new UserInputError(`TBD sweep too fine: levelsPerDecade × decades must be <= 10000, got ${r.levelsPerDecade * r.decades}`);
  }
  return Object.freeze(r);
}

/**
 * Runs TBD on a CNN output map. Public entry: checks the image and options, then runs the core.
 * A map with no positive finite pixel, or with no contrast (flat), gives an empty result.
 * NaN pixels (blanks) are never part of a blob.
 */
export function thresholdedBlobDetection(map: Image, options: TbdOptions = {}): TbdResult {
  checkImage(map);
  return tbdCore(map, resolveTbdOptions(options));
}

/** The sweep thresholds for a map maximum: τ_k = max · 10^(−k / levelsPerDecade), k = 0..K, all ≥ the floor. */
export function sweepThresholds(max: number, options: ResolvedTbdOptions): Float64Array {
  const lowest = Math.max(options.floor, max * Math.pow(10, -options.decades));
  const levels: number[] = [];
  for (let k = 0; ; k++) {
    const tau = max * Math.pow(10, -k / options.levelsPerDecade);
    // 1e-12 relative slack so that decades × levelsPerDecade integer sweeps include their last level.
    if (tau < lowest * (1 - 1e-12)) break;
    levels.push(tau);
  }
  return Float64Array.from(levels);
}

/**
 * Picks k* from the counts N(τ_k) (paper 4.2). Exported for tests and for tuning, which re-picks
 * τ* for many Δmax values from one sweep.
 */
export function chooseLevel(counts: ArrayLike<number>, deltaMax: number, rule: StopRule): number {
  const levels = counts.length;
  if (levels === 0) return -1;
  if (rule === 'first-exceed') {
    for (let k = 1; k < levels; k++) {
      if (counts[k] < 0) return k - 1; // sweep stopped early
      if (counts[k] - counts[k - 1] > deltaMax) return k - 1;
    }
    return levels - 1;
  }
  if (levels === 1) return 0;
  // 'closest' (section 4.2: "selects the τ* by decreasing τ until ΔN_blobs(τ) is as close as
  // possible to Δmax", Δmax being "the maximum allowed ΔN_blobs"): the closest level up to and
  // including the first one whose ΔN reaches Δmax. Not the closest over the whole sweep: going down
  // into the noise, ΔN rises past Δmax to a peak and then falls back through Δmax as noise blobs merge
  // (e.g. ΔN = 2566, 3389, ..., 5775, ..., 3265 on a 4096² simulation with Δmax 3200), and a
  // whole-sweep minimum can land on that falling side, tens of thousands of noise blobs deep.
  let best = 1;
  let bestDistance = Infinity;
  for (let k = 1; k < levels; k++) {
    if (counts[k] < 0) break;
    const delta = counts[k] - counts[k - 1];
    const distance = Math.abs(delta - deltaMax);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = k;
    }
    if (delta >= deltaMax) break;
  }
  return best;
}

function checkImage(map: Image): void {
  const { width, height, data } = map;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new UserInputError(`CNN map width and height must be non-negative integers, got ${width}×${height}`);
  }
  if (!(data instanceof Float32Array)) throw new UserInputError('CNN map data must be a Float32Array');
  if (data.length !== width * height) {
    throw new UserInputError(`CNN map data length must be width × height = ${width * height}, got ${data.length}`);
  }
  if (width * height > 0x7fffffff) throw new UserInputError(`CNN map must have < 2^31 pixels, got ${width}×${height}`);
}

function emptyResult(options: ResolvedTbdOptions, thresholds = new Float64Array(0), counts = new Int32Array(0), chosenIndex = -1): TbdResult {
  return {
    blobs: {
      count: 0,
      x: new Float64Array(0),
      y: new Float64Array(0),
      area: new Int32Array(0),
      cnnPeak: new Float32Array(0),
      peakX: new Int32Array(0),
      peakY: new Int32Array(0),
      touchesEdge: new Uint8Array(0),
    },
    sweep: { thresholds, counts, chosenIndex, threshold: chosenIndex >= 0 ? thresholds[chosenIndex] : NaN, activePixels: 0 },
    options,
  };
}

/**
 * Internal knobs, for tests: the chunked paths below are exercised with tiny buffers. Not options
 * of the method (they never change a result), so they are not part of TbdOptions or provenance.
 */
export interface TbdInternals {
  /** Most pixels held at once in the level-sorted order buffer (default: defaultOrderCapacity). */
  orderCapacity?: number;
  /** Rows per band of the banded count pass; 0: one pass over the whole map (default: defaultBandRows). */
  bandRows?: number;
}

/**
 * Rows per band for the banded count pass (countBlobsBanded): bands of about 2^18 pixels (a 1 MB
 * union-find that stays in cache), at least 64 rows so that the band-edge pixels (the seam graph:
 * ~4 B each, plus 4 B per cross pair, ~90 MB at 16384²) stay ≤ 1/32 of the map; 0 (one pass over
 * the whole map) for maps under 2^20 pixels or of fewer than two bands.
 */
export function defaultBandRows(width: number, height: number): number {
  const rows = Math.max(64, Math.ceil((1 << 18) / Math.max(1, width)));
  return width * height >= 1 << 20 && height >= 2 * rows ? rows : 0;
}

/**
 * Size of the level-sorted order buffer: every active pixel when there are at most 2^24 of them
 * (64 MB; any image up to 4096² sorts in one pass), else a sixteenth of them (about 16 scans of
 * the map per pass; a scan is two comparisons per pixel, ~0.2 s for a 16384² map). Memory versus
 * time: a smaller buffer means more scans.
 */
export function defaultOrderCapacity(active: number): number {
  return Math.max(1, Math.min(active, Math.max(1 << 24, Math.ceil(active / 16))));
}

/** The unchecked core: trusts the image and options (STYLE.md habit 2). */
export function tbdCore(map: Image, options: ResolvedTbdOptions, internals: TbdInternals = {}): TbdResult {
  const state = prepareSweep(map, options, internals);
  if (state === null) return emptyResult(options);
  // Pass 1: N(τ_k) for every level. The authors' rule can stop at the first level that exceeds Δmax.
  const stopAbove = options.stopRule === 'first-exceed' ? options.deltaMax : Infinity;
  const counts = countLevels(state, stopAbove, internals);
  const chosen = chooseLevel(counts, options.deltaMax, options.stopRule);
  return {
    blobs: blobsAtLevel(state, chosen, options),
    sweep: { thresholds: state.thresholds, counts, chosenIndex: chosen, threshold: state.thresholds[chosen], activePixels: state.active },
    options,
  };
}

/**
 * One sweep, many parameter sets: for tuning (paper section 4.3), where Δmax, Amin and the centre
 * vary but the CNN map does not. N(τ) is counted once; `detect` re-picks τ* for each Δmax/stop rule
 * and rebuilds the blobs at τ* incrementally when τ* is lower than the last one built (so asking in
 * order of increasing Δmax is cheapest). Same results as `thresholdedBlobDetection` with the same
 * options. Holds the sweep's memory (4 bytes per map pixel plus the order buffer) until dropped.
 */
export interface TbdSweepHandle {
  readonly thresholds: Float64Array;
  /** N(τ_k) for every level (full sweep). */
  readonly counts: Int32Array;
  detect(options?: Pick<TbdOptions, 'deltaMax' | 'aMin' | 'centre' | 'stopRule' | 'deblend'>): TbdResult;
}

export function createTbdSweep(
  map: Image,
  sweepOptions: Pick<TbdOptions, 'levelsPerDecade' | 'decades' | 'floor' | 'connectivity'> = {},
  internals: TbdInternals = {},
): TbdSweepHandle {
  checkImage(map);
  const base = resolveTbdOptions(sweepOptions);
  const state = prepareSweep(map, base, internals);
  const counts = state === null ? new Int32Array(0) : countLevels(state, Infinity, internals);
  return {
    thresholds: state === null ? new Float64Array(0) : state.thresholds,
    counts,
    detect(options = {}) {
      const resolved = resolveTbdOptions({ ...sweepOptions, ...dropUndefined(options) });
      if (state === null) return emptyResult(resolved);
      const chosen = chooseLevel(counts, resolved.deltaMax, resolved.stopRule);
      let shown = counts;
      if (resolved.stopRule === 'first-exceed') {
        // Report the counts as a single tbdCore run would (levels after the stop not counted).
        shown = counts.slice();
        shown.fill(-1, Math.min(counts.length, chosen + 2));
      }
      return {
        blobs: blobsAtLevel(state, chosen, resolved),
        sweep: { thresholds: state.thresholds, counts: shown, chosenIndex: chosen, threshold: state.thresholds[chosen], activePixels: state.active },
        options: resolved,
      };
    },
  };
}

/**
 * Everything one sweep needs.
 *
 * Memory (issue 5, 16384² maps): besides the map itself, one Int32 union-find word per map pixel
 * (`parent`: a parent index, or −size for a root, so no separate size array), one "added" bit per
 * pixel, and the order buffer. The order of activation — decreasing level, raster order within a
 * level — is never stored whole: a counting-sort scan of the map fills the buffer with as many
 * consecutive levels as fit (a level larger than the buffer comes in raster pieces), and the next
 * scan continues where it stopped. Within a level the raster order is kept, so every sum and every
 * tie is taken in exactly the order of a full sort.
 */
interface SweepState {
  readonly map: Image;
  readonly bits32: Uint32Array;
  readonly max: number;
  readonly thresholds: Float64Array;
  readonly levelTable: Uint16Array;
  /** bucketStart[k] = active pixels at levels < k; bucketStart[levels] = active. */
  /** Filled by prepareSweep, or by the banded count pass (which sees every pixel anyway). */
  readonly bucketStart: Int32Array;
  active: number;
  /** parent[p] ≥ 0: p's parent; < 0: p is a root of −parent[p] pixels. Valid only where `added`. */
  readonly parent: Int32Array;
  /** Pixels already added to the union-find, one bit per map pixel. */
  readonly added: Uint32Array;
  /** Level-sorted pixel indices, a window of the full activation order (allocated with the histogram). */
  order: Int32Array;
  /** Levels lo..hi sit complete in `order` (from offset 0), or lo = −1. */
  cached: { lo: number; hi: number };
  readonly eight: boolean;
  /** The union-find holds exactly levels 0..builtLevel (−1: empty). */
  builtLevel: number;
  /** Banded count pass only (else null): see countBlobsBanded. */
  readonly seam: SeamTracking | null;
}

/**
 * For one band of the banded count pass: which of its rows are band edges (their pixels are
 * vertices of the seam graph), each root's seam vertex (−1: none), and the edges emitted when two
 * components that both hold a seam vertex merge.
 */
interface SeamTracking {
  /** Seam-graph row slot of each band row, −1 for an inner row. */
  readonly rowSlot: Int32Array;
  /** At a root: a seam vertex of its component, or −1. */
  readonly rep: Int32Array;
  readonly edges: EdgeList;
}

/** Growable list of (a, b, level) triples. */
class EdgeList {
  data = new Int32Array(3 * 1024);
  length = 0;

  push(a: number, b: number, level: number): void {
    if (3 * this.length + 3 > this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const at = 3 * this.length++;
    this.data[at] = a;
    this.data[at + 1] = b;
    this.data[at + 2] = level;
  }
}

/** Scans the map, builds the levels and the per-level pixel counts. null: nothing to sweep. */
function prepareSweep(map: Image, options: ResolvedTbdOptions, internals: TbdInternals): SweepState | null {
  const { data, width, height } = map;
  const n = width * height;

  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue; // blanks (NaN) and infinities are never part of a blob
    if (v > max) max = v;
    if (v < min) min = v;
  }
  if (!(max > 0) || max === min) return null;

  const thresholds = sweepThresholds(max, options);
  const levels = thresholds.length;
  if (levels === 0) return null;
  const lowest = thresholds[levels - 1];

  // Histogram of active pixels by sweep level (the counting sort's first half); the banded count
  // pass makes it on its way instead.
  const bucketStart = new Int32Array(levels + 1);
  const levelTable = levelLookupTable(thresholds, options.levelsPerDecade / Math.LN10);
  const bits32 = new Uint32Array(data.buffer, data.byteOffset, n);
  const state: SweepState = {
    map,
    bits32,
    max,
    thresholds,
    levelTable,
    bucketStart,
    active: 0,
    parent: new Int32Array(n),
    added: new Uint32Array((n + 31) >>> 5),
    order: new Int32Array(0),
    cached: { lo: -1, hi: -1 },
    eight: options.connectivity === 8,
    builtLevel: -1,
    seam: null,
  };
  if (bandRowsFor(internals, width, height) === 0) {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v >= lowest && v <= max) bucketStart[levelFromTable(v, bits32[i], levelTable, thresholds) + 1]++;
    }
    finishHistogram(state, internals);
  }
  return state;
}

/** bucketStart from per-level counts (in bucketStart[k + 1]) to prefix sums; sizes the order buffer. */
function finishHistogram(state: SweepState, internals: TbdInternals): void {
  const { bucketStart } = state;
  const levels = bucketStart.length - 1;
  for (let k = 0; k < levels; k++) bucketStart[k + 1] += bucketStart[k];
  state.active = bucketStart[levels];
  const requested = internals.orderCapacity;
  const capacity = requested !== undefined ? Math.max(1, Math.floor(requested)) : defaultOrderCapacity(state.active);
  state.order = new Int32Array(Math.min(capacity, Math.max(1, state.active)));
}

/** Rows per band of the count pass for this map, 0 for one pass over the whole map. */
function bandRowsFor(internals: TbdInternals, width: number, height: number): number {
  const rows = internals.bandRows !== undefined ? Math.max(0, Math.floor(internals.bandRows)) : defaultBandRows(width, height);
  return rows >= height ? 0 : rows;
}

/**
 * Visits the activation order for levels lo..hi as runs of one level: visit(from, to, level,
 * levelDone) covers order[from..to). Levels come in decreasing τ, pixels of a level in raster
 * order; a level larger than the buffer comes as several runs (levelDone on its last). Stops when
 * visit returns false.
 */
function forEachLevelRun(state: SweepState, lo: number, hi: number, visit: (from: number, to: number, level: number, levelDone: boolean) => boolean): void {
  const { bucketStart, order } = state;
  const capacity = order.length;
  let k = lo;
  while (k <= hi) {
    const size = bucketStart[k + 1] - bucketStart[k];
    if (size > capacity) {
      // One level in raster pieces.
      state.cached = { lo: -1, hi: -1 };
      let resume = 0;
      let remaining = size;
      while (remaining > 0) {
        const piece = scanLevelPiece(state, k, resume, capacity);
        resume = piece.next;
        remaining -= piece.count;
        if (!visit(0, piece.count, k, remaining === 0)) return;
      }
      k++;
      continue;
    }
    let g = k;
    while (g + 1 <= hi && bucketStart[g + 2] - bucketStart[k] <= capacity) g++;
    if (!(state.cached.lo === k && state.cached.hi >= g)) {
      // Only the levels asked for: the rebuild to τ* usually needs a few % of the active pixels, and
      // the measurement pass that follows asks for the same levels, so it reuses the buffer.
      scanLevels(state, k, g);
      state.cached = { lo: k, hi: g };
    }
    const base = bucketStart[k];
    for (let j = k; j <= g; j++) if (!visit(bucketStart[j] - base, bucketStart[j + 1] - base, j, true)) return;
    k = g + 1;
  }
}

/** Counting sort of the pixels of levels lo..hi into order[0..), decreasing level, raster order within. */
function scanLevels(state: SweepState, lo: number, hi: number): void {
  const { map, bits32, max, thresholds, levelTable, bucketStart, order } = state;
  const data = map.data;
  const fill = new Int32Array(hi - lo + 1);
  for (let j = lo; j <= hi; j++) fill[j - lo] = bucketStart[j] - bucketStart[lo];
  const total = bucketStart[hi + 1] - bucketStart[lo];
  const n = data.length;
  // Levels lo..hi are exactly the values in [τ_hi, τ_(lo−1)) ([τ_hi, max] when lo = 0): two
  // comparisons reject the other pixels, so a scan costs little more than reading the map.
  const bottom = thresholds[hi];
  const top = lo === 0 ? max : thresholds[lo - 1];
  const topInclusive = lo === 0;
  for (let i = 0, placed = 0; i < n && placed < total; i++) {
    const v = data[i];
    if (v >= bottom && (v < top || (topInclusive && v === top))) {
      order[fill[levelFromTable(v, bits32[i], levelTable, thresholds) - lo]++] = i;
      placed++;
    }
  }
}

/** The next (at most `capacity`) pixels of level k in raster order, from pixel `start` on. */
function scanLevelPiece(state: SweepState, k: number, start: number, capacity: number): { count: number; next: number } {
  const { map, bits32, max, thresholds, levelTable, order } = state;
  const data = map.data;
  const lowest = thresholds[thresholds.length - 1];
  const n = data.length;
  // Level k is exactly the values in [τ_k, τ_(k−1)) ([τ_0, max] for k = 0).
  const bottom = thresholds[k];
  const top = k === 0 ? max : thresholds[k - 1];
  const topInclusive = k === 0;
  let count = 0;
  let i = start;
  for (; i < n && count < capacity; i++) {
    const v = data[i];
    if (v >= bottom && (v < top || (topInclusive && v === top))) order[count++] = i;
  }
  return { count, next: i };
}

/** N(τ_k) per level: the banded pass when the map is large enough (same counts), else countBlobs. */
function countLevels(state: SweepState, stopAbove: number, internals: TbdInternals): Int32Array {
  const bandRows = bandRowsFor(internals, state.map.width, state.map.height);
  if (bandRows === 0) return countBlobs(state, stopAbove);
  const counts = countBlobsBanded(state, bandRows);
  finishHistogram(state, internals);
  // As countBlobs reports them: levels after the first ΔN > stopAbove are not counted (-1).
  for (let k = 1; k < counts.length; k++) {
    if (counts[k] - counts[k - 1] > stopAbove) {
      counts.fill(-1, k + 1);
      break;
    }
  }
  return counts;
}

/**
 * N(τ_k) for every level, band by band (cache-friendly: the global union-find of a 4096² map is
 * 64 MB and each level touches it all over; a band's is ~1 MB). Exact, by the spanning-forest
 * argument: the components at level k of the whole map are the bands' components joined across
 * band edges, and only the band-edge pixels ("seam vertices") take part in the joining.
 *
 * Each band runs the same level-ordered union-find as countBlobs, giving its own N_b(τ_k). Each of
 * its components remembers one seam vertex it holds; when two components that both hold one merge
 * at level k, the band emits the edge (vertex, vertex, k). These edges connect two seam vertices at
 * level k exactly when the band does (induction over the band's merges). A union-find over the seam
 * vertices then takes, level by level, the emitted edges and the cross-band pixel pairs (active at
 * max(level a, level b)); the joins it makes beyond the emitted edges are the merges of components
 * across bands, so
 *   N(τ_k) = Σ_b N_b(τ_k) − (seam unions that succeed up to k − edges emitted up to k).
 * The global union-find is left empty (builtLevel −1): blobsAtLevel rebuilds it to τ* only. The
 * bands' level histograms add up to the whole map's (state.bucketStart, raw counts; the caller
 * finishes it).
 */
function countBlobsBanded(state: SweepState, bandRows: number): Int32Array {
  const { map, thresholds, levelTable, bits32, max, eight } = state;
  const { width, height, data } = map;
  const levels = thresholds.length;
  const lowest = thresholds[levels - 1];
  const bands = Math.ceil(height / bandRows);

  // Seam vertices: the first row of every band but the first, the last row of every band but the last.
  const rowSlot = new Int32Array(height).fill(-1);
  let slots = 0;
  for (let b = 0; b < bands; b++) {
    const y0 = b * bandRows;
    const y1 = Math.min(height, y0 + bandRows);
    if (b > 0 && rowSlot[y0] < 0) rowSlot[y0] = slots++;
    if (b < bands - 1 && rowSlot[y1 - 1] < 0) rowSlot[y1 - 1] = slots++;
  }

  const edges = new EdgeList();
  const emitted = new Float64Array(levels);
  const bandDelta = new Float64Array(levels);
  const bandPixels = bandRows * width;
  const parent = new Int32Array(bandPixels);
  const added = new Uint32Array(((bandPixels + 31) >>> 5) + 1);
  const order = new Int32Array(bandPixels);
  const rep = new Int32Array(bandPixels);
  const localSlot = new Int32Array(bandRows);
  const bucket = new Int32Array(levels + 1);
  // Levels ≤ 10000 (resolveTbdOptions), so 0xffff is free to mark an inactive pixel.
  const levelOfPixel = new Uint16Array(bandPixels);
  const INACTIVE = 0xffff;
  for (let b = 0; b < bands; b++) {
    const y0 = b * bandRows;
    const y1 = Math.min(height, y0 + bandRows);
    const n = (y1 - y0) * width;
    const offset = y0 * width;
    // Counting sort of the band's active pixels by level (raster order within a level).
    bucket.fill(0);
    for (let i = 0; i < n; i++) {
      const v = data[offset + i];
      if (v >= lowest && v <= max) {
        const k = levelFromTable(v, bits32[offset + i], levelTable, thresholds);
        levelOfPixel[i] = k;
        bucket[k + 1]++;
      } else {
        levelOfPixel[i] = INACTIVE;
      }
    }
    for (let k = 0; k < levels; k++) {
      state.bucketStart[k + 1] += bucket[k + 1]; // the whole map's histogram, for the rebuild to τ*
      bucket[k + 1] += bucket[k];
    }
    const fill = bucket.slice(0, levels);
    for (let i = 0; i < n; i++) {
      const k = levelOfPixel[i];
      if (k !== INACTIVE) order[fill[k]++] = i;
    }
    added.fill(0);
    for (let y = 0; y < y1 - y0; y++) localSlot[y] = rowSlot[y0 + y];
    const before = edges.length;
    const band: SweepState = {
      map: { data: data.subarray(offset, offset + n), width, height: y1 - y0 },
      bits32,
      max,
      thresholds,
      levelTable,
      bucketStart: bucket,
      active: bucket[levels],
      parent,
      added,
      order,
      cached: { lo: -1, hi: -1 },
      eight,
      builtLevel: -1,
      seam: { rowSlot: localSlot, rep, edges },
    };
    for (let k = 0; k < levels; k++) bandDelta[k] += activateRun(band, bucket[k], bucket[k + 1], k);
    for (let e = before; e < edges.length; e++) emitted[edges.data[3 * e + 2]]++;
  }

  // Cross-band pixel pairs, band b's last row against band b + 1's first row, counting-sorted by
  // level, each as one Int32: upper vertex · 3 + (dx + 1). The lower vertex is upper + width + dx,
  // as the two rows have consecutive slots.
  const crossStart = new Int32Array(levels + 1);
  const forEachCross = (visit: (code: number, level: number) => void): void => {
    for (let b = 0; b + 1 < bands; b++) {
      const yb = (b + 1) * bandRows - 1;
      const upper = yb * width;
      const lower = upper + width;
      const vertexBase = rowSlot[yb] * width;
      for (let x = 0; x < width; x++) {
        const v = data[upper + x];
        if (!(v >= lowest && v <= max)) continue;
        const levelA = levelFromTable(v, bits32[upper + x], levelTable, thresholds);
        for (let dx = eight ? -1 : 0; dx <= (eight ? 1 : 0); dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const w = data[lower + xx];
          if (!(w >= lowest && w <= max)) continue;
          const levelB = levelFromTable(w, bits32[lower + xx], levelTable, thresholds);
          visit((vertexBase + x) * 3 + dx + 1, levelA > levelB ? levelA : levelB);
        }
      }
    }
  };
  forEachCross((_, level) => crossStart[level + 1]++);
  for (let k = 0; k < levels; k++) crossStart[k + 1] += crossStart[k];
  const cross = new Int32Array(crossStart[levels]);
  const crossAt = crossStart.slice(0, levels);
  forEachCross((code, level) => {
    cross[crossAt[level]++] = code;
  });

  // Emitted edges by level (counting sort of their indices).
  const edgeCount = edges.length;
  const edgeData = edges.data;
  const start = new Int32Array(levels + 1);
  for (let e = 0; e < edgeCount; e++) start[edgeData[3 * e + 2] + 1]++;
  for (let k = 0; k < levels; k++) start[k + 1] += start[k];
  const byLevel = new Int32Array(edgeCount);
  const at = start.slice(0, levels);
  for (let e = 0; e < edgeCount; e++) byLevel[at[edgeData[3 * e + 2]]++] = e;

  // Seam union-find, level by level: emitted edges, then cross pairs (the order within a level does
  // not change how many unions succeed by its end).
  const seamParent = new Int32Array(slots * width).fill(-1);
  const join = (a: number, b: number): number => {
    let ra = findBlobRoot(seamParent, a);
    let rb = findBlobRoot(seamParent, b);
    if (ra === rb) return 0;
    if (-seamParent[ra] < -seamParent[rb]) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    seamParent[ra] += seamParent[rb];
    seamParent[rb] = ra;
    return 1;
  };
  const counts = new Int32Array(levels);
  let blobs = 0;
  for (let k = 0; k < levels; k++) {
    let joined = 0;
    for (let i = start[k]; i < start[k + 1]; i++) {
      const e = byLevel[i];
      joined += join(edgeData[3 * e], edgeData[3 * e + 1]);
    }
    for (let i = crossStart[k]; i < crossStart[k + 1]; i++) {
      const code = cross[i];
      const upper = Math.floor(code / 3);
      joined += join(upper, upper + width + (code - 3 * upper) - 1);
    }
    blobs += bandDelta[k] - (joined - emitted[k]);
    counts[k] = blobs;
  }
  return counts;
}

/** Pass 1 from scratch: N(τ_k) per level; stops after the first level whose ΔN exceeds `stopAbove`. */
function countBlobs(state: SweepState, stopAbove: number): Int32Array {
  const levels = state.thresholds.length;
  resetUnionFind(state);
  const counts = new Int32Array(levels).fill(-1);
  let blobs = 0;
  forEachLevelRun(state, 0, levels - 1, (from, to, k, levelDone) => {
    blobs += activateRun(state, from, to, k);
    if (!levelDone) return true;
    counts[k] = blobs;
    state.builtLevel = k;
    return !(k > 0 && counts[k] - counts[k - 1] > stopAbove);
  });
  return counts;
}

/** The blobs at level k: rebuilds the union-find up to k (incrementally when possible), then measures. */
function blobsAtLevel(state: SweepState, k: number, options: ResolvedTbdOptions): BlobColumns {
  const blobs = unionFindBlobsAtLevel(state, k, options);
  return options.deblend > 0 ? deblendBlobs(state.map, blobs, state.thresholds[k], options) : blobs;
}

function unionFindBlobsAtLevel(state: SweepState, k: number, options: ResolvedTbdOptions): BlobColumns {
  if (state.builtLevel > k) resetUnionFind(state);
  if (state.builtLevel < k) {
    forEachLevelRun(state, state.builtLevel + 1, k, (from, to, level, levelDone) => {
      activateRun(state, from, to, level);
      if (levelDone) state.builtLevel = level;
      return true;
    });
  }
  return measureBlobs(state, k, options);
}

function resetUnionFind(state: SweepState): void {
  if (state.builtLevel < 0) return;
  state.added.fill(0); // parent words are rewritten when their pixel is added again
  state.builtLevel = -1;
}

/**
 * Smallest k with v ≥ τ_k (thresholds decreasing, τ_last ≤ v ≤ τ_0). The logarithm gives the level
 * directly (τ_k = τ_0 · 10^(−k/levelsPerDecade)); the two loops only repair rounding at level edges,
 * so the result is exact against the stored thresholds.
 */
function levelOf(v: number, thresholds: Float64Array, levelsPerLn: number): number {
  const last = thresholds.length - 1;
  let k = Math.floor(Math.log(thresholds[0] / v) * levelsPerLn);
  if (k > last) k = last;
  if (k < 0) k = 0;
  while (k > 0 && v >= thresholds[k - 1]) k--;
  while (k < last && v < thresholds[k]) k++;
  return k;
}

/**
 * Level lookup by the float's bit pattern, to avoid a logarithm per pixel: for every positive
 * float32 whose top 17 bits (sign, exponent, 8 mantissa bits) are t, table[t] is the level of the
 * smallest such float. A bucket spans a factor 1 + 2^−8, less than one sweep step whenever
 * levelsPerDecade < 590, so a pixel's level is table[t] or a little less; levelFromTable repairs it.
 */
function levelLookupTable(thresholds: Float64Array, levelsPerLn: number): Uint16Array {
  const table = new Uint16Array(1 << 16);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const last = thresholds.length - 1;
  for (let t = 0; t < table.length; t++) {
    u32[0] = t << 15;
    const v = f32[0];
    table[t] = v >= thresholds[last] && Number.isFinite(v) ? levelOf(Math.min(v, thresholds[0]), thresholds, levelsPerLn) : last;
  }
  return table;
}

/** Level of a pixel value v (τ_last ≤ v ≤ τ_0) whose float32 bits are `bits`; exact against the thresholds. */
function levelFromTable(v: number, bits: number, table: Uint16Array, thresholds: Float64Array): number {
  let k = table[bits >>> 15];
  while (k > 0 && v >= thresholds[k - 1]) k--;
  return k;
}

/** Root of pixel p's blob, with path halving (roots hold −size). */
function findBlobRoot(parent: Int32Array, p: number): number {
  let x = p;
  let up = parent[x];
  while (up >= 0) {
    const grand = parent[up];
    if (grand < 0) return up;
    parent[x] = grand;
    x = grand;
    up = parent[x];
  }
  return x;
}

/**
 * Adds the pixels order[from..to) and joins each to its already-added neighbours.
 * Returns the change in the number of blobs.
 *
 * With 8-connectivity the eight neighbours form a ring in which consecutive members touch by an
 * edge, so two consecutive added neighbours are already in one blob: only the first neighbour of
 * each run of added ring members needs a union (at most four, usually one). The "added" bitset
 * answers the membership test.
 */
function activateRun(state: SweepState, from: number, to: number, level: number): number {
  const { parent, added, order, eight, seam } = state;
  const { width, height } = state.map;
  // Ring order: NW, N, NE, E, SE, S, SW, W.
  const ring = Int32Array.of(-width - 1, -width, -width + 1, 1, width + 1, width, width - 1, -1);
  // y = floor(p / width) by a multiplication: (p + ½)/width is ≥ ½/width away from an integer, far
  // more than the rounding error for p < 2^31, so the floor is exact (and cheaper than % and /).
  const invWidth = 1 / width;
  let delta = 0;
  for (let i = from; i < to; i++) {
    const p = order[i];
    const y = Math.floor((p + 0.5) * invWidth);
    const x = p - y * width;
    parent[p] = -1;
    added[p >>> 5] |= 1 << (p & 31);
    delta++;
    if (seam !== null) {
      const slot = seam.rowSlot[y];
      seam.rep[p] = slot < 0 ? -1 : slot * width + x;
    }
    const left = x > 0;
    const right = x < width - 1;
    const up = y > 0;
    const down = y < height - 1;
    let mask = 0;
    if (left && right && up && down) {
      // Interior fast path: the ring's added bits come from three 3-bit windows of the bitset
      // (rows above, this row, below) instead of eight separate look-ups.
      const above = threeBits(added, p - width - 1); // NW, N, NE → ring bits 0, 1, 2
      const here = threeBits(added, p - 1); // W, (self), E
      const below = threeBits(added, p + width - 1); // SW, S, SE → ring bits 6, 5, 4
      mask = above | ((here & 4) << 1) | ((below & 4) << 2) | ((below & 2) << 4) | ((below & 1) << 6) | ((here & 1) << 7);
    } else {
      if (up) {
        if (left && isAdded(added, p - width - 1)) mask |= 1;
        if (isAdded(added, p - width)) mask |= 2;
        if (right && isAdded(added, p - width + 1)) mask |= 4;
      }
      if (right && isAdded(added, p + 1)) mask |= 8;
      if (down) {
        if (right && isAdded(added, p + width + 1)) mask |= 16;
        if (isAdded(added, p + width)) mask |= 32;
        if (left && isAdded(added, p + width - 1)) mask |= 64;
      }
      if (left && isAdded(added, p - 1)) mask |= 128;
    }
    if (!eight) mask &= 2 | 8 | 32 | 128; // edges only; these never touch each other, so no run trick
    if (mask === 0) continue;
    let unions = eight ? mask & ~(((mask << 1) | (mask >>> 7)) & 0xff) : mask;
    if (unions === 0) unions = 1; // all eight added: one ring, one union
    let root = p;
    let rootSize = 1;
    while (unions !== 0) {
      const j = 31 - Math.clz32(unions & -unions);
      unions &= unions - 1;
      const other = findBlobRoot(parent, p + ring[j]);
      if (other === root) continue;
      if (seam !== null) {
        // Both components reach a band edge: the seam graph needs to know they joined at this level.
        const mine = seam.rep[root];
        const theirs = seam.rep[other];
        if (mine >= 0 && theirs >= 0) seam.edges.push(mine, theirs, level);
        const kept = mine >= 0 ? mine : theirs;
        seam.rep[root] = kept;
        seam.rep[other] = kept;
      }
      // union by size
      const otherSize = -parent[other];
      if (rootSize < otherSize) {
        parent[root] = other;
        root = other;
      } else {
        parent[other] = root;
      }
      rootSize += otherSize;
      parent[root] = -rootSize;
      delta--;
    }
  }
  return delta;
}

/** Bits q, q+1, q+2 of the bitset as bits 0..2 (q + 2 must be inside the image). */
function threeBits(bits: Uint32Array, q: number): number {
  const w = q >>> 5;
  const b = q & 31;
  return (b <= 29 ? bits[w] >>> b : (bits[w] >>> b) | (bits[w + 1] << (32 - b))) & 7;
}

function isAdded(added: Uint32Array, q: number): boolean {
  return ((added[q >>> 5] >>> (q & 31)) & 1) !== 0;
}

/** Per-blob sums, grown as blobs are met (their number is not known before the pass). */
class BlobSums {
  count = 0;
  area = new Int32Array(64);
  sumX = new Float64Array(64);
  sumY = new Float64Array(64);
  sumI = new Float64Array(64);
  sumIX = new Float64Array(64);
  sumIY = new Float64Array(64);
  peak = new Float32Array(64);
  peakPixel = new Int32Array(64);
  edge = new Uint8Array(64);

  add(): number {
    if (this.count === this.area.length) {
      const grow = <T extends Int32Array | Float64Array | Float32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.area = grow(this.area);
      this.sumX = grow(this.sumX);
      this.sumY = grow(this.sumY);
      this.sumI = grow(this.sumI);
      this.sumIX = grow(this.sumIX);
      this.sumIY = grow(this.sumIY);
      this.peak = grow(this.peak);
      this.peakPixel = grow(this.peakPixel);
      this.edge = grow(this.edge);
    }
    this.peak[this.count] = -Infinity;
    return this.count++;
  }
}

/** Blob index of each kept root: an open-addressing hash table (root pixel → index). */
class RootIndex {
  private keys = new Int32Array(1024).fill(-1);
  private values = new Int32Array(1024);
  private size = 0;

  get(root: number): number {
    const mask = this.keys.length - 1;
    for (let h = Math.imul(root, 0x9e3779b1) >>> 0; ; h++) {
      const k = this.keys[h & mask];
      if (k === root) return this.values[h & mask];
      if (k === -1) return -1;
    }
  }

  set(root: number, value: number): void {
    if (2 * (this.size + 1) > this.keys.length) this.rehash();
    const mask = this.keys.length - 1;
    let h = Math.imul(root, 0x9e3779b1) >>> 0;
    while (this.keys[h & mask] !== -1) h++;
    this.keys[h & mask] = root;
    this.values[h & mask] = value;
    this.size++;
  }

  private rehash(): void {
    const { keys, values } = this;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.values = new Int32Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i], values[i]);
  }
}

/** Area cut and centres (paper eqs. 4–6) for the blobs formed by levels 0..k (the union-find holds exactly these). */
function measureBlobs(state: SweepState, k: number, options: ResolvedTbdOptions): BlobColumns {
  const { map, parent, order } = state;
  const { data, width, height } = map;
  const sums = new BlobSums();
  const index = new RootIndex();
  const aMin = options.aMin;
  // Pixels come in decreasing level, raster order within a level (the order of a full sort).
  forEachLevelRun(state, 0, k, (from, to) => {
    for (let i = from; i < to; i++) {
      const p = order[i];
      const root = findBlobRoot(parent, p);
      if (-parent[root] < aMin) continue;
      let b = index.get(root);
      if (b < 0) {
        b = sums.add();
        index.set(root, b);
      }
      const v = data[p];
      const x = p % width;
      const y = (p - x) / width;
      sums.area[b]++;
      sums.sumX[b] += x;
      sums.sumY[b] += y;
      sums.sumI[b] += v;
      sums.sumIX[b] += v * x;
      sums.sumIY[b] += v * y;
      // Ties keep the first seen: equal values share a level, so that is the first in raster order.
      if (v > sums.peak[b]) {
        sums.peak[b] = v;
        sums.peakPixel[b] = p;
      }
      if (sums.edge[b] === 0 && touchesEdgeOrBlank(data, width, height, x, y)) sums.edge[b] = 1;
    }
    return true;
  });

  const kept = sums.count;
  const { area, sumX, sumY, sumI, sumIX, sumIY, peak, peakPixel, edge } = sums;
  // Order by decreasing CNN peak (ties: raster order of the peak), so catalogues are deterministic.
  const sorted = Array.from({ length: kept }, (_, i) => i);
  sorted.sort((a, b) => peak[b] - peak[a] || peakPixel[a] - peakPixel[b]);
  const out = {
    count: kept,
    x: new Float64Array(kept),
    y: new Float64Array(kept),
    area: new Int32Array(kept),
    cnnPeak: new Float32Array(kept),
    peakX: new Int32Array(kept),
    peakY: new Int32Array(kept),
    touchesEdge: new Uint8Array(kept),
  };
  for (let j = 0; j < kept; j++) {
    const b = sorted[j];
    out.touchesEdge[j] = edge[b];
    const px = peakPixel[b] % width;
    const py = (peakPixel[b] - px) / width;
    out.area[j] = area[b];
    out.cnnPeak[j] = peak[b];
    out.peakX[j] = px;
    out.peakY[j] = py;
    if (options.centre === 'mean') {
      // eq. 4: the unweighted mean position of the blob's pixels
      out.x[j] = sumX[b] / area[b];
      out.y[j] = sumY[b] / area[b];
    } else if (options.centre === 'centroid') {
      // eq. 5: weighted by the CNN output I(r); all weights are ≥ τ* > 0
      out.x[j] = sumIX[b] / sumI[b];
      out.y[j] = sumIY[b] / sumI[b];
    } else {
      // eq. 6: the brightest CNN pixel
      out.x[j] = px;
      out.y[j] = py;
    }
  }
  return out;
}

function dropUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}
