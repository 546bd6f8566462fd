/**
 * Deblending of TBD blobs (beyond the paper; off by default, `deblend: 0`).
 *
 * Why: the paper's TBD (section 4.2) gives one source per blob at τ*. On our 2048² MeerKAT
 * simulations (24″ natural beam, sources ≥ 40″ apart) τ* often lies below the saddle between two
 * neighbouring sources' CNN responses, so two sources become one blob of 1,000–4,000 px whose mean
 * centre falls between them, and both are lost (compare/notes.md, issue 4). Deblending splits such a
 * blob the way SExtractor's multi-threshold deblender does (Bertin & Arnouts 1996, section 4.3), on
 * the CNN map instead of the image:
 *   - the blob's pixels are activated in decreasing CNN value (a component tree built with union-find,
 *     as in TBD itself, so every level between τ* and the blob's peak is seen, not 32 of them);
 *   - when two components meet at a saddle, each is a separate source if it holds at least Amin
 *     pixels and at least `contrast` of the blob's CNN flux above τ* (SExtractor's DEBLEND_MINCONT);
 *   - if both are, each becomes a source, with its position (mean, centroid or peak, eqs. 4–6) and
 *     area taken over its pixels above that saddle (the saddle pixel and everything below it belong
 *     to no source); a branch that already split stays split, whatever it meets later.
 * A blob with fewer than two such branches is kept exactly as TBD gave it.
 *
 * The component tree of each blob depends only on the map and τ*, not on Amin, the contrast or the
 * centre, so it is built once (buildMergeForest) and the split decisions are replayed cheaply per
 * parameter set (deblendForest) — tuning searches the contrast this way.
 */
import type { Image } from '../core/image';
import type { BlobColumns, CentreMethod } from './tbd';
import { touchesEdgeOrBlank } from './blob-edge';

/** Statistics of one component at the moment it meets another (a snapshot). */
interface Snapshots {
  area: number[];
  sumX: number[];
  sumY: number[];
  sumI: number[];
  sumIX: number[];
  sumIY: number[];
  peak: number[];
  peakPixel: number[];
  edge: number[];
}

/**
 * The merge events of every blob of one TBD result. Event e of blob b (eventStart[b] ≤ e <
 * eventStart[b+1]), in decreasing saddle value: components rootA and rootB (blob-local ids) meet and
 * continue as `into`; snapshots 2e and 2e+1 are A and B just before.
 */
export interface MergeForest {
  readonly blobs: BlobColumns;
  readonly threshold: number;
  /** Σ (I − τ*) over each blob's pixels. */
  readonly flux: Float64Array;
  readonly eventStart: Int32Array;
  readonly rootA: Int32Array;
  readonly rootB: Int32Array;
  readonly into: Int32Array;
  readonly snaps: Readonly<Snapshots>;
}

/** Blobs of fewer pixels than this are never split (two branches need at least one pixel each). */
const MIN_SPLIT_AREA = 2;
/**
 * Blobs larger than this (4 Mpx) are kept whole: only a τ* at which most of a large image is one
 * blob makes them, and splitting that is not deblending.
 */
const MAX_SPLIT_AREA = 1 << 22;

/**
 * Builds the component tree of every blob: the blob's pixels are those ≥ `threshold` connected to
 * its peak (exactly TBD's blob at τ*, since a pixel's level is ≤ k* iff its value is ≥ τ*). Blobs
 * under `minSplitArea` pixels get no tree (with Amin fixed, a blob needs 2·Amin to split into two
 * branches of Amin): at 16384² most blobs are small, and this keeps the trees' memory down.
 */
export function buildMergeForest(map: Image, blobs: BlobColumns, threshold: number, connectivity: 4 | 8, minSplitArea = MIN_SPLIT_AREA): MergeForest {
  const { data, width, height } = map;
  const seen = new Uint32Array((width * height + 31) >>> 5);
  const eventStart = new Int32Array(blobs.count + 1);
  const flux = new Float64Array(blobs.count);
  const rootA: number[] = [];
  const rootB: number[] = [];
  const into: number[] = [];
  const snaps: Snapshots = { area: [], sumX: [], sumY: [], sumI: [], sumIX: [], sumIY: [], peak: [], peakPixel: [], edge: [] };
  const dx = connectivity === 8 ? [-1, 0, 1, -1, 1, -1, 0, 1] : [0, -1, 1, 0];
  const dy = connectivity === 8 ? [-1, -1, -1, 0, 0, 1, 1, 1] : [-1, 0, 0, 1];
  let stack = new Int32Array(1024);
  const roots = new Int32Array(8);

  for (let b = 0; b < blobs.count; b++) {
    eventStart[b] = rootA.length;
    if (blobs.area[b] < Math.max(MIN_SPLIT_AREA, minSplitArea) || blobs.area[b] > MAX_SPLIT_AREA) continue;
    // Flood fill from the peak: the blob's pixels.
    const start = blobs.peakY[b] * width + blobs.peakX[b];
    const pixels: number[] = [start];
    seen[start >>> 5] |= 1 << (start & 31);
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      for (let d = 0; d < dx.length; d++) {
        const nx = x + dx[d];
        const ny = y + dy[d];
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if ((seen[q >>> 5] >>> (q & 31)) & 1) continue;
        if (!(data[q] >= threshold)) continue; // NaN blanks fail this too
        seen[q >>> 5] |= 1 << (q & 31);
        pixels.push(q);
        if (top === stack.length) {
          const grown = new Int32Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[top++] = q;
      }
    }
    const ids = Int32Array.from(pixels).sort(); // raster order: local id = rank
    const n = ids.length;
    const order = activationOrder(data, ids);
    const local = localIndex(ids, width);

    const parent = new Int32Array(n).fill(-1); // -1: not yet active; a root points to itself
    const area = new Int32Array(n);
    const sumX = new Float64Array(n);
    const sumY = new Float64Array(n);
    const sumI = new Float64Array(n);
    const sumIX = new Float64Array(n);
    const sumIY = new Float64Array(n);
    const peak = new Float64Array(n);
    const peakPixel = new Int32Array(n);
    const edge = new Uint8Array(n);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    };
    /** Joins two roots; the larger component's root survives (ties: `a`, the older one). */
    const union = (a: number, c: number): number => {
      const keep = area[c] > area[a] ? c : a;
      const gone = keep === a ? c : a;
      parent[gone] = keep;
      area[keep] += area[gone];
      sumX[keep] += sumX[gone];
      sumY[keep] += sumY[gone];
      sumI[keep] += sumI[gone];
      sumIX[keep] += sumIX[gone];
      sumIY[keep] += sumIY[gone];
      if (peak[gone] > peak[keep] || (peak[gone] === peak[keep] && peakPixel[gone] < peakPixel[keep])) {
        peak[keep] = peak[gone];
        peakPixel[keep] = peakPixel[gone];
      }
      edge[keep] |= edge[gone];
      return keep;
    };
    const snapshot = (r: number) => {
      snaps.area.push(area[r]);
      snaps.sumX.push(sumX[r]);
      snaps.sumY.push(sumY[r]);
      snaps.sumI.push(sumI[r]);
      snaps.sumIX.push(sumIX[r]);
      snaps.sumIY.push(sumIY[r]);
      snaps.peak.push(peak[r]);
      snaps.peakPixel.push(peakPixel[r]);
      snaps.edge.push(edge[r]);
    };
    let total = 0;
    for (let o = 0; o < n; o++) {
      const i = order[o];
      const p = ids[i];
      const v = data[p];
      const x = p % width;
      const y = (p - x) / width;
      total += v - threshold;
      parent[i] = i;
      area[i] = 1;
      sumX[i] = x;
      sumY[i] = y;
      sumI[i] = v;
      sumIX[i] = v * x;
      sumIY[i] = v * y;
      peak[i] = v;
      peakPixel[i] = p;
      edge[i] = touchesEdgeOrBlank(data, width, height, x, y) ? 1 : 0;
      // The distinct components this pixel touches. Two or more meet at this saddle: events
      // between them, with snapshots taken before the saddle pixel itself joins.
      let touched = 0;
      for (let d = 0; d < dx.length; d++) {
        const nx = x + dx[d];
        const ny = y + dy[d];
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = local(nx, ny);
        if (j < 0 || parent[j] < 0) continue;
        const r = find(j);
        let known = false;
        for (let t = 0; t < touched; t++) if (roots[t] === r) known = true;
        if (!known) roots[touched++] = r;
      }
      let mine = i;
      for (let t = 0; t < touched; t++) {
        const other = roots[t];
        if (t > 0) {
          rootA.push(mine);
          rootB.push(other);
          snapshot(mine);
          snapshot(other);
        }
        mine = t === 0 ? other : union(mine, other);
        if (t > 0) into.push(mine);
      }
      if (touched > 0) union(mine, i);
    }
    flux[b] = total;
  }
  eventStart[blobs.count] = rootA.length;
  return {
    blobs,
    threshold,
    flux,
    eventStart,
    rootA: Int32Array.from(rootA),
    rootB: Int32Array.from(rootB),
    into: Int32Array.from(into),
    snaps,
  };
}

/**
 * Pixel (x, y) → blob-local id (−1: not in the blob). A grid over the bounding box when it is
 * compact (at most 4 cells per pixel), else a hash map.
 */
function localIndex(ids: Int32Array, width: number): (x: number, y: number) => number {
  let x0 = Infinity;
  let x1 = -Infinity;
  const y0 = Math.floor(ids[0] / width);
  const y1 = Math.floor(ids[ids.length - 1] / width);
  for (const p of ids) {
    const x = p % width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
  }
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  if (bw * bh <= 4 * ids.length + 4096) {
    const grid = new Int32Array(bw * bh).fill(-1);
    ids.forEach((p, i) => {
      const x = p % width;
      grid[((p - x) / width - y0) * bw + (x - x0)] = i;
    });
    return (x, y) => (x < x0 || x > x1 || y < y0 || y > y1 ? -1 : grid[(y - y0) * bw + (x - x0)]);
  }
  const map = new Map<number, number>();
  ids.forEach((p, i) => map.set(p, i));
  return (x, y) => map.get(y * width + x) ?? -1;
}

/**
 * Blob-local ids in decreasing CNN value, ties in raster order (ids are raster-sorted pixels).
 * Positive float32 values order like their bit patterns, so one numeric sort of
 * (inverted bits) · 2^22 + id (< 2^53, exact in a double, as n ≤ MAX_SPLIT_AREA = 2^22) does it.
 */
function activationOrder(data: Float32Array, ids: Int32Array): Int32Array {
  const n = ids.length;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (0x7fffffff - bits[ids[i]]) * MAX_SPLIT_AREA + i;
  keys.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i] % MAX_SPLIT_AREA;
  return order;
}

/**
 * Replays the forest's merges with the split rule for one parameter set. Blobs that do not split
 * are copied unchanged from `forest.blobs`, whose positions must already use `centre`. Output is
 * ordered like TBD's: decreasing CNN peak, ties in raster order of the peak.
 */
export function deblendForest(forest: MergeForest, width: number, aMin: number, contrast: number, centre: CentreMethod): BlobColumns {
  const { blobs, eventStart, rootA, rootB, into, snaps, flux, threshold } = forest;
  const rows: { blob: number; snap: number }[] = [];
  for (let b = 0; b < blobs.count; b++) {
    const e0 = eventStart[b];
    const e1 = eventStart[b + 1];
    if (e1 === e0 || !(blobs.area[b] >= aMin)) {
      rows.push({ blob: b, snap: -1 });
      continue;
    }
    const minFlux = contrast * flux[b];
    const significant = (s: number) => snaps.area[s] >= Math.max(aMin, 1) && snaps.sumI[s] - snaps.area[s] * threshold >= minFlux;
    // Component root → its finished sources (snapshot indices), present only once it has split.
    const sources = new Map<number, number[]>();
    let last = -1;
    for (let e = e0; e < e1; e++) {
      const a = rootA[e];
      const c = rootB[e];
      const listA = sources.get(a);
      const listB = sources.get(c);
      sources.delete(a);
      sources.delete(c);
      let merged: number[] | undefined;
      if (significant(2 * e) && significant(2 * e + 1)) merged = [...(listA ?? [2 * e]), ...(listB ?? [2 * e + 1])];
      else if (listA || listB) merged = [...(listA ?? []), ...(listB ?? [])];
      if (merged) sources.set(into[e], merged);
      last = into[e];
    }
    const split = sources.get(last);
    if (!split || split.length < 2) rows.push({ blob: b, snap: -1 });
    else for (const s of split) rows.push({ blob: b, snap: s });
  }

  const peakOf = (r: { blob: number; snap: number }) => (r.snap < 0 ? blobs.cnnPeak[r.blob] : Math.fround(snaps.peak[r.snap]));
  const pixelOf = (r: { blob: number; snap: number }) => (r.snap < 0 ? blobs.peakY[r.blob] * width + blobs.peakX[r.blob] : snaps.peakPixel[r.snap]);
  rows.sort((a, b) => peakOf(b) - peakOf(a) || pixelOf(a) - pixelOf(b));
  const count = rows.length;
  const out = {
    count,
    x: new Float64Array(count),
    y: new Float64Array(count),
    area: new Int32Array(count),
    cnnPeak: new Float32Array(count),
    peakX: new Int32Array(count),
    peakY: new Int32Array(count),
    touchesEdge: new Uint8Array(count),
  };
  rows.forEach((r, j) => {
    if (r.snap < 0) {
      out.x[j] = blobs.x[r.blob];
      out.y[j] = blobs.y[r.blob];
      out.area[j] = blobs.area[r.blob];
      out.cnnPeak[j] = blobs.cnnPeak[r.blob];
      out.peakX[j] = blobs.peakX[r.blob];
      out.peakY[j] = blobs.peakY[r.blob];
      out.touchesEdge[j] = blobs.touchesEdge[r.blob];
      return;
    }
    const s = r.snap;
    const p = snaps.peakPixel[s];
    const px = p % width;
    const py = (p - px) / width;
    out.area[j] = snaps.area[s];
    out.cnnPeak[j] = snaps.peak[s];
    out.peakX[j] = px;
    out.peakY[j] = py;
    out.touchesEdge[j] = snaps.edge[s];
    if (centre === 'mean') {
      out.x[j] = snaps.sumX[s] / snaps.area[s]; // eq. 4 over the branch
      out.y[j] = snaps.sumY[s] / snaps.area[s];
    } else if (centre === 'centroid') {
      out.x[j] = snaps.sumIX[s] / snaps.sumI[s]; // eq. 5 over the branch
      out.y[j] = snaps.sumIY[s] / snaps.sumI[s];
    } else {
      out.x[j] = px; // eq. 6
      out.y[j] = py;
    }
  });
  return out;
}

/** Splits the blobs of one TBD result (see the file comment); `contrast` 0 returns them unchanged. */
export function deblendBlobs(map: Image, blobs: BlobColumns, threshold: number, options: { aMin: number; deblend: number; centre: CentreMethod; connectivity: 4 | 8 }): BlobColumns {
  if (!(options.deblend > 0) || blobs.count === 0) return blobs;
  const forest = buildMergeForest(map, blobs, threshold, options.connectivity, 2 * Math.max(1, options.aMin));
  return deblendForest(forest, map.width, options.aMin, options.deblend, options.centre);
}
