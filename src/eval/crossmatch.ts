/**
 * One-to-one positional crossmatch between a true catalogue and a detection catalogue
 * (paper, section 5.1).
 *
 * Rules:
 * - A detection and a true source can be paired when their distance is <= the radius
 *   (inclusive). The default radius is 2/3 of the beam (paper 5.1, 5.5); callers pass it in the
 *   units of the coordinates.
 * - Matching is one-to-one: no detection is used twice, no true source is matched twice.
 * - Ties and chains are resolved GLOBALLY BY INCREASING DISTANCE (greedy): all candidate pairs
 *   within the radius are sorted by distance, and a pair is accepted when neither member is taken
 *   yet. So the closest pair in the whole catalogue always wins; when several detections lie
 *   around one true source the nearest is its TP and the others are FP (paper 5.1), unless that
 *   nearest detection is even closer to another true source, in which case that other source gets
 *   it and this source takes its next-nearest free detection within the radius (a chain).
 * - Exact distance ties are broken deterministically: lower true-source index first, then lower
 *   detection index.
 * - Positions that are not finite never match (a NaN detection is an FP, a NaN truth an FN).
 *
 * Speed: candidate pairs come from a uniform grid hash with cells one radius wide, so each true
 * source looks at 3x3 cells instead of every detection: O((n + m) + pairs log pairs).
 *
 * Coordinates: any plane. For sky positions use `projectToTangentPlane` (gnomonic, arcsec).
 */

/** Planar positions, one entry per object. */
export interface PlanePoints {
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

export interface CrossmatchResult {
  /** For each true source, the index of its matched detection, or -1. */
  readonly truthToDetection: Int32Array;
  /** For each detection, the index of its matched true source, or -1. */
  readonly detectionToTruth: Int32Array;
  /** For each true source, the distance to its matched detection (NaN when unmatched). */
  readonly distance: Float64Array;
  /** Number of matched pairs (TP). */
  readonly matches: number;
}

/** Cells per axis are offset so that keys stay positive and exact in a float64 (|cell| < 2^25). */
const CELL_OFFSET = 2 ** 25;
const CELL_SPAN = 2 ** 26;

/**
 * One-to-one crossmatch within `radius` (same units as the coordinates). See the file comment for
 * how ties and chains are resolved. Throws on a non-positive radius or mismatched column lengths.
 */
export function crossmatch(truth: PlanePoints, detections: PlanePoints, radius: number): CrossmatchResult {
  if (!(radius > 0) || !Number.isFinite(radius)) {
    throw new RangeError(`crossmatch radius must be a finite number > 0, got ${radius}`);
  }
  if (truth.x.length !== truth.y.length) {
    throw new RangeError(`truth x and y must have the same length, got ${truth.x.length} and ${truth.y.length}`);
  }
  if (detections.x.length !== detections.y.length) {
    throw new RangeError(`detection x and y must have the same length, got ${detections.x.length} and ${detections.y.length}`);
  }
  return crossmatchCore(truth, detections, radius);
}

function crossmatchCore(truth: PlanePoints, detections: PlanePoints, radius: number): CrossmatchResult {
  const nTruth = truth.x.length;
  const nDet = detections.x.length;
  const truthToDetection = new Int32Array(nTruth).fill(-1);
  const detectionToTruth = new Int32Array(nDet).fill(-1);
  const distance = new Float64Array(nTruth).fill(NaN);
  if (nTruth === 0 || nDet === 0) return { truthToDetection, detectionToTruth, distance, matches: 0 };

  // Grid hash of detections: cell -> list of detection indices (linked through `next`).
  const head = new Map<number, number>();
  const next = new Int32Array(nDet).fill(-1);
  for (let j = 0; j < nDet; j++) {
    const x = detections.x[j];
    const y = detections.y[j];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const key = cellKey(Math.floor(x / radius), Math.floor(y / radius));
    if (key === undefined) continue;
    const first = head.get(key);
    next[j] = first === undefined ? -1 : first;
    head.set(key, j);
  }

  // Candidate pairs within the radius.
  const pairTruth: number[] = [];
  const pairDet: number[] = [];
  const pairDist: number[] = [];
  const r2 = radius * radius;
  for (let i = 0; i < nTruth; i++) {
    const x = truth.x[i];
    const y = truth.y[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const cx = Math.floor(x / radius);
    const cy = Math.floor(y / radius);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const key = cellKey(cx + dx, cy + dy);
        if (key === undefined) continue;
        let j = head.get(key);
        while (j !== undefined && j !== -1) {
          const ddx = detections.x[j] - x;
          const ddy = detections.y[j] - y;
          const d2 = ddx * ddx + ddy * ddy;
          if (d2 <= r2) {
            pairTruth.push(i);
            pairDet.push(j);
            pairDist.push(Math.sqrt(d2));
          }
          j = next[j];
        }
      }
    }
  }

  // Greedy by increasing distance; exact ties by truth index, then detection index.
  const order = Array.from({ length: pairDist.length }, (_, k) => k);
  order.sort((a, b) => pairDist[a] - pairDist[b] || pairTruth[a] - pairTruth[b] || pairDet[a] - pairDet[b]);
  let matches = 0;
  for (const k of order) {
    const i = pairTruth[k];
    const j = pairDet[k];
    if (truthToDetection[i] !== -1 || detectionToTruth[j] !== -1) continue;
    truthToDetection[i] = j;
    detectionToTruth[j] = i;
    distance[i] = pairDist[k];
    matches++;
  }
  return { truthToDetection, detectionToTruth, distance, matches };
}

function cellKey(cx: number, cy: number): number | undefined {
  const a = cx + CELL_OFFSET;
  const b = cy + CELL_OFFSET;
  // Points this far out (>= 2^25 radii from the origin) cannot be hashed exactly; they are dropped.
  if (a < 0 || a >= CELL_SPAN || b < 0 || b >= CELL_SPAN) return undefined;
  return a * CELL_SPAN + b;
}

/**
 * Gnomonic (tangent-plane) projection of sky positions about (ra0, dec0), in arcsec:
 * x grows towards east (increasing RA), y towards north.
 * Distances in the plane equal great-circle distances to a relative error below
 * tan^2(theta) where theta is the angle from the tangent point: < 3e-4 within 1 degree, i.e.
 * < 0.01 arcsec on a 20 arcsec radius, so matching in this plane is matching on the sphere for
 * the image-sized fields we evaluate. Positions on the far hemisphere become NaN (never match).
 */
export function projectToTangentPlane(
  raDeg: ArrayLike<number>,
  decDeg: ArrayLike<number>,
  ra0Deg: number,
  dec0Deg: number,
): { x: Float64Array; y: Float64Array } {
  const n = raDeg.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const d2r = Math.PI / 180;
  const r2as = 180 / Math.PI * 3600;
  const sinDec0 = Math.sin(dec0Deg * d2r);
  const cosDec0 = Math.cos(dec0Deg * d2r);
  for (let i = 0; i < n; i++) {
    const dra = (raDeg[i] - ra0Deg) * d2r;
    const dec = decDeg[i] * d2r;
    const sinDec = Math.sin(dec);
    const cosDec = Math.cos(dec);
    const cosC = sinDec0 * sinDec + cosDec0 * cosDec * Math.cos(dra);
    if (!(cosC > 0)) {
      x[i] = NaN;
      y[i] = NaN;
      continue;
    }
    x[i] = ((cosDec * Math.sin(dra)) / cosC) * r2as;
    y[i] = ((cosDec0 * sinDec - sinDec0 * cosDec * Math.cos(dra)) / cosC) * r2as;
  }
  return { x, y };
}

/**
 * A tangent point for a set of sky positions: the direction of the mean unit vector (robust to
 * the RA wrap at 0/360). Returns undefined when there is no finite position.
 */
export function skyCentre(raDeg: ArrayLike<number>, decDeg: ArrayLike<number>): { raDeg: number; decDeg: number } | undefined {
  const d2r = Math.PI / 180;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  let n = 0;
  for (let i = 0; i < raDeg.length; i++) {
    const ra = raDeg[i] * d2r;
    const dec = decDeg[i] * d2r;
    if (!Number.isFinite(ra) || !Number.isFinite(dec)) continue;
    sx += Math.cos(dec) * Math.cos(ra);
    sy += Math.cos(dec) * Math.sin(ra);
    sz += Math.sin(dec);
    n++;
  }
  if (n === 0) return undefined;
  const ra = Math.atan2(sy, sx) / d2r;
  const dec = Math.atan2(sz, Math.hypot(sx, sy)) / d2r;
  return { raDeg: ra < 0 ? ra + 360 : ra, decDeg: dec };
}
