/**
 * TEST REFERENCE ONLY: src/detect/tbd.ts as it was before the issue-5 memory rework (commit
 * 1404838), kept verbatim so that tests can assert the reworked sweep gives bit-identical results.
 *
 * Thresholded Blob Detection (TBD), paper section 4.2.
 *
 * The CNN output T(I) is thresholded at a sweep of levels τ_0 = max(T) > τ_1 > ... > τ_K,
 * spaced logarithmically (the paper: "we need more accuracy for smaller τ values ... we used
 * logarithmic steps"). N(τ) is the number of connected blobs above τ, and
 * ΔN(τ_k) = N(τ_k) − N(τ_{k−1}). The chosen threshold τ* is
 *   - 'closest' (paper text): the level whose ΔN is closest to Δmax, down to the first level whose ΔN reaches it;
 *   - 'first-exceed' (the authors' code): stop as soon as ΔN exceeds Δmax and take the previous level
 *     (the last level if it never does).
 * Blobs above τ* smaller than Amin pixels are dropped (Fig. 6), and each remaining blob gives one
 * source at its mean position (eq. 4), CNN-intensity-weighted centroid (eq. 5) or peak (eq. 6).
 *
 * Speed and memory: one pass activates pixels in decreasing order (bucketed by sweep level with a
 * counting sort, no full sort) and grows blobs with union-find, so N(τ) for every level comes out
 * of a single pass instead of relabelling the image per level. Only pixels at or above the sweep's
 * lowest threshold ("active" pixels) get a union-find id; the id of a pixel is its rank among active
 * pixels in raster order, found in O(1) from a bitset plus per-word prefix counts (2 bits per image
 * pixel). Per active pixel we hold ~12 bytes (order, parent, size), so a 16384² map whose sweep
 * activates 10% of the pixels needs ~0.4 GB beyond the map itself.
 *
 * Kernels are pure (STYLE.md habit 1): the input map is never modified.
 */
import type { Image } from '../../src/core/image';
import { UserInputError } from '../../src/core/errors';
import { findRoot } from '../../src/core/union-find';

// Option types, defaults, validation, the level sweep and the τ* rule are shared with src/detect/tbd.ts
// (they did not change in the rework); the sweep and blob measurement below are the old algorithm.
export { CENTRE_METHODS, DEFAULT_TBD_OPTIONS, STOP_RULES, chooseLevel, resolveTbdOptions, sweepThresholds } from '../../src/detect/tbd';
export type { BlobColumns, CentreMethod, ResolvedTbdOptions, StopRule, TbdOptions, TbdResult, TbdSweep } from '../../src/detect/tbd';
import { chooseLevel, resolveTbdOptions, sweepThresholds } from '../../src/detect/tbd';
import type { BlobColumns, ResolvedTbdOptions, TbdOptions, TbdResult, TbdSweep } from '../../src/detect/tbd';

/**
 * Runs TBD on a CNN output map. Public entry: checks the image and options, then runs the core.
 * A map with no positive finite pixel, or with no contrast (flat), gives an empty result.
 * NaN pixels (blanks) are never part of a blob.
 */
export function thresholdedBlobDetection(map: Image, options: TbdOptions = {}): TbdResult {
  checkImage(map);
  return tbdCore(map, resolveTbdOptions(options));
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

/** The unchecked core: trusts the image and options (STYLE.md habit 2). */
export function tbdCore(map: Image, options: ResolvedTbdOptions): TbdResult {
  const state = prepareSweep(map, options);
  if (state === null) return emptyResult(options);
  // Pass 1: N(τ_k) for every level. The authors' rule can stop at the first level that exceeds Δmax.
  const stopAbove = options.stopRule === 'first-exceed' ? options.deltaMax : Infinity;
  const counts = countBlobs(state, stopAbove);
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
 * options. Holds the sweep's memory (about 12 bytes per active pixel) until dropped.
 */
export interface TbdSweepHandle {
  readonly thresholds: Float64Array;
  /** N(τ_k) for every level (full sweep). */
  readonly counts: Int32Array;
  detect(options?: Pick<TbdOptions, 'deltaMax' | 'aMin' | 'centre' | 'stopRule'>): TbdResult;
}

export function createTbdSweep(map: Image, sweepOptions: Pick<TbdOptions, 'levelsPerDecade' | 'decades' | 'floor' | 'connectivity'> = {}): TbdSweepHandle {
  checkImage(map);
  const base = resolveTbdOptions(sweepOptions);
  const state = prepareSweep(map, base);
  const counts = state === null ? new Int32Array(0) : countBlobs(state, Infinity);
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

/** Everything one sweep needs: levels, active pixels bucketed by level, union-find state. */
interface SweepState {
  readonly map: Image;
  readonly thresholds: Float64Array;
  readonly bucketStart: Int32Array;
  readonly order: Int32Array;
  readonly active: number;
  readonly ctx: SweepContext;
  /** The union-find holds exactly buckets 0..builtLevel (−1: empty). */
  builtLevel: number;
}

/** Scans the map, builds the levels and the bucketed active pixels. null: nothing to sweep. */
function prepareSweep(map: Image, options: ResolvedTbdOptions): SweepState | null {
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

  // Counting sort of active pixels by sweep level, and the active-pixel bitset.
  const words = new Uint32Array((n + 31) >>> 5);
  const bucketStart = new Int32Array(levels + 1);
  const levelTable = levelLookupTable(thresholds, options.levelsPerDecade / Math.LN10);
  const bits32 = new Uint32Array(data.buffer, data.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v >= lowest && v <= max) {
      bucketStart[levelFromTable(v, bits32[i], levelTable, thresholds) + 1]++;
      words[i >>> 5] |= 1 << (i & 31);
    }
  }
  for (let k = 0; k < levels; k++) bucketStart[k + 1] += bucketStart[k];
  const active = bucketStart[levels];
  const wordRank = new Int32Array(words.length);
  for (let w = 0, total = 0; w < words.length; w++) {
    wordRank[w] = total;
    total += popcount(words[w]);
  }
  const order = new Int32Array(active);
  const fill = bucketStart.slice(0, levels);
  // Second visit of the active pixels only, through the bitset (inactive words are skipped).
  for (let w = 0; w < words.length; w++) {
    let bits = words[w];
    while (bits !== 0) {
      const bit = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const i = (w << 5) | bit;
      order[fill[levelFromTable(data[i], bits32[i], levelTable, thresholds)]++] = i;
    }
  }

  const parent = new Int32Array(active).fill(-1);
  const size = new Int32Array(active);
  const ctx: SweepContext = { words, added: new Uint32Array(words.length), wordRank, parent, size, width, height, eight: options.connectivity === 8 };
  return { map, thresholds, bucketStart, order, active, ctx, builtLevel: -1 };
}

/** Pass 1 from scratch: N(τ_k) per level; stops after the first level whose ΔN exceeds `stopAbove`. */
function countBlobs(state: SweepState, stopAbove: number): Int32Array {
  const { thresholds, bucketStart, order, ctx } = state;
  const levels = thresholds.length;
  resetUnionFind(state);
  const counts = new Int32Array(levels).fill(-1);
  let blobs = 0;
  for (let k = 0; k < levels; k++) {
    blobs += activateBucket(ctx, order, bucketStart[k], bucketStart[k + 1]);
    counts[k] = blobs;
    state.builtLevel = k;
    if (k > 0 && counts[k] - counts[k - 1] > stopAbove) break;
  }
  return counts;
}

/** The blobs at level k: rebuilds the union-find up to k (incrementally when possible), then measures. */
function blobsAtLevel(state: SweepState, k: number, options: ResolvedTbdOptions): BlobColumns {
  const { bucketStart, order, ctx } = state;
  if (state.builtLevel > k) resetUnionFind(state);
  for (let level = state.builtLevel + 1; level <= k; level++) activateBucket(ctx, order, bucketStart[level], bucketStart[level + 1]);
  state.builtLevel = k;
  return measureBlobs(state.map, ctx, order, bucketStart[k + 1], options);
}

function resetUnionFind(state: SweepState): void {
  if (state.builtLevel < 0) return;
  state.ctx.parent.fill(-1); // indexed by raster rank, so the added ids are scattered: clear all
  state.ctx.added.fill(0);
  state.builtLevel = -1;
}

interface SweepContext {
  /** Active pixels (at or above the lowest threshold), one bit per image pixel. */
  words: Uint32Array;
  /** Pixels already added to the union-find in this pass, one bit per image pixel. */
  added: Uint32Array;
  wordRank: Int32Array;
  parent: Int32Array;
  size: Int32Array;
  width: number;
  height: number;
  eight: boolean;
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

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
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

/** Union-find id of pixel p if it is active, else -1. */
function activeId(ctx: SweepContext, p: number): number {
  const word = ctx.words[p >>> 5];
  const bit = p & 31;
  if (((word >>> bit) & 1) === 0) return -1;
  return ctx.wordRank[p >>> 5] + popcount(word & ((1 << bit) - 1));
}

/**
 * Adds the pixels order[from..to) and joins each to its already-added neighbours.
 * Returns the change in the number of blobs.
 *
 * With 8-connectivity the eight neighbours form a ring in which consecutive members touch by an
 * edge, so two consecutive added neighbours are already in one blob: only the first neighbour of
 * each run of added ring members needs a union (at most four, usually one). An "added" bitset
 * answers the membership test without computing a union-find id.
 */
function activateBucket(ctx: SweepContext, order: Int32Array, from: number, to: number): number {
  const { parent, size, added, width, height, eight } = ctx;
  // Ring order: NW, N, NE, E, SE, S, SW, W.
  const ring = [-width - 1, -width, -width + 1, 1, width + 1, width, width - 1, -1];
  // y = floor(p / width) by a multiplication: (p + ½)/width is ≥ ½/width away from an integer, far
  // more than the rounding error for p < 2^31, so the floor is exact (and cheaper than % and /).
  const invWidth = 1 / width;
  let delta = 0;
  for (let i = from; i < to; i++) {
    const p = order[i];
    const y = Math.floor((p + 0.5) * invWidth);
    const x = p - y * width;
    const id = activeId(ctx, p);
    parent[id] = id;
    size[id] = 1;
    added[p >>> 5] |= 1 << (p & 31);
    delta++;
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
    let root = id;
    for (let j = 0; j < 8; j++) {
      if ((unions & (1 << j)) === 0) continue;
      const other = findRoot(parent, activeId(ctx, p + ring[j]));
      if (other === root) continue;
      // union by size
      if (size[root] < size[other]) {
        parent[root] = other;
        size[other] += size[root];
        root = other;
      } else {
        parent[other] = root;
        size[root] += size[other];
      }
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

/** Area cut and centres (paper eqs. 4–6) for the blobs formed by order[0..added). */
function measureBlobs(map: Image, ctx: SweepContext, order: Int32Array, added: number, options: ResolvedTbdOptions): BlobColumns {
  const { data, width, height } = map;
  const { parent, size } = ctx;
  // Number the kept roots. size[] of a kept root temporarily holds its blob index as −1 − index
  // (dropped roots keep their positive size), so no extra per-pixel array is needed; the sizes are
  // restored at the end, leaving the union-find valid for a later, lower level (createTbdSweep).
  let kept = 0;
  const keptRoots: number[] = [];
  for (let i = 0; i < added; i++) {
    const id = activeId(ctx, order[i]);
    if (parent[id] === id && size[id] >= options.aMin) {
      size[id] = -1 - kept++;
      keptRoots.push(id);
    }
  }
  const area = new Int32Array(kept);
  const sumX = new Float64Array(kept);
  const sumY = new Float64Array(kept);
  const sumI = new Float64Array(kept);
  const sumIX = new Float64Array(kept);
  const sumIY = new Float64Array(kept);
  const peak = new Float32Array(kept).fill(-Infinity);
  const peakPixel = new Int32Array(kept);
  const edge = new Uint8Array(kept);
  for (let i = 0; i < added; i++) {
    const p = order[i];
    const root = findRoot(parent, activeId(ctx, p));
    const tag = size[root];
    if (tag > 0) continue;
    const b = -1 - tag;
    const v = data[p];
    const x = p % width;
    const y = (p - x) / width;
    area[b]++;
    sumX[b] += x;
    sumY[b] += y;
    sumI[b] += v;
    sumIX[b] += v * x;
    sumIY[b] += v * y;
    // Pixels come in decreasing level, raster order within a level: ties keep the first seen.
    if (v > peak[b]) {
      peak[b] = v;
      peakPixel[b] = p;
    }
    if (edge[b] === 0) {
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) edge[b] = 1;
      else if (!Number.isFinite(data[p - 1]) || !Number.isFinite(data[p + 1]) || !Number.isFinite(data[p - width]) || !Number.isFinite(data[p + width])) edge[b] = 1;
    }
  }

  for (let b = 0; b < kept; b++) size[keptRoots[b]] = area[b];

  // Order by decreasing CNN peak (ties: raster order of the peak), so catalogues are deterministic.
  const index = Array.from({ length: kept }, (_, i) => i);
  index.sort((a, b) => peak[b] - peak[a] || peakPixel[a] - peakPixel[b]);
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
    const b = index[j];
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
