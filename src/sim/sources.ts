/**
 * Input catalogues (paper section 2): point sources at random RA/Dec inside the image core,
 * at least 40" apart, with SNR drawn from an exponential distribution cut at 0.1 such that about
 * 45% of sources have SNR < 1 (paper Fig. 1).
 */
import { UserInputError } from '../core/errors';
import type { Random } from '../core/random';

/** Core of the image: continuous pixel coordinates [lo, hi] on both axes hold source centres. */
export interface CoreRegion {
  lo: number;
  hiX: number;
  hiY: number;
}

export interface SkyProjection {
  pixToSky(x: number, y: number): { ra: number; dec: number };
  skyToPix(ra: number, dec: number): { x: number; y: number };
}

export interface PlacedSources {
  x: Float64Array;
  y: Float64Array;
  raDeg: Float64Array;
  decDeg: Float64Array;
}

/**
 * Largest fraction of the core that disks of diameter = min separation may cover before we call
 * the request impossible. Random sequential addition jams at 0.547; we stay below it so that
 * rejection sampling finishes quickly.
 */
export const MAX_PACKING_FRACTION = 0.4;

/** Throws a UserInputError when `count` sources cannot be placed `minSepPx` apart in the core. */
export function checkSeparationFeasible(count: number, core: CoreRegion, minSepPx: number): void {
  const area = Math.max(0, core.hiX - core.lo) * Math.max(0, core.hiY - core.lo);
  const covered = count * Math.PI * (minSepPx / 2) ** 2;
  if (count > 0 && (area <= 0 || covered > MAX_PACKING_FRACTION * (area + Math.PI * (minSepPx / 2) ** 2))) {
    throw new UserInputError(
      `cannot place ${count} sources at least ${minSepPx.toFixed(1)} px apart in a ${(core.hiX - core.lo).toFixed(0)} x ${(core.hiY - core.lo).toFixed(0)} px core: ` +
        `lower --sources-per-deg2, the minimum separation or --border, or raise --size`,
    );
  }
}

/**
 * Rejection sampling, uniform on the sphere inside the RA/Dec box around the core, kept if its
 * pixel position lies in the core and no earlier source lies within minSepPx. A hash grid of cell
 * minSepPx makes each test O(1).
 */
export function placeSources(count: number, core: CoreRegion, minSepPx: number, projection: SkyProjection, rng: Random): PlacedSources {
  checkSeparationFeasible(count, core, minSepPx);
  const box = skyBox(core, projection);
  const out: PlacedSources = { x: new Float64Array(count), y: new Float64Array(count), raDeg: new Float64Array(count), decDeg: new Float64Array(count) };
  const cell = Math.max(minSepPx, 1);
  const gridW = Math.ceil((core.hiX - core.lo) / cell) + 1;
  const gridH = Math.ceil((core.hiY - core.lo) / cell) + 1;
  const buckets = new Map<number, number[]>();
  const minSep2 = minSepPx * minSepPx;
  let placed = 0;
  let attempts = 0;
  const maxAttempts = 10000 + 2000 * count;
  while (placed < count) {
    if (++attempts > maxAttempts) {
      throw new UserInputError(`could not place ${count} sources ${minSepPx.toFixed(1)} px apart after ${maxAttempts} attempts (placed ${placed}); lower --sources-per-deg2 or the separation`);
    }
    let ra: number, dec: number, x: number, y: number;
    if (box === null) {
      // A pole inside the field: sample the tangent plane instead (equal-area to ~1e-4 over a few degrees).
      x = rng.range(core.lo, core.hiX);
      y = rng.range(core.lo, core.hiY);
      ({ ra, dec } = projection.pixToSky(x, y));
    } else {
      ra = rng.range(box.raMin, box.raMax);
      dec = (Math.asin(rng.range(box.sinDecMin, box.sinDecMax)) * 180) / Math.PI;
      ({ x, y } = projection.skyToPix(ra, dec));
      if (!(x >= core.lo && x <= core.hiX && y >= core.lo && y <= core.hiY)) continue;
    }
    const gx = Math.floor((x - core.lo) / cell);
    const gy = Math.floor((y - core.lo) / cell);
    let ok = true;
    for (let ny = gy - 1; ny <= gy + 1 && ok; ny++) {
      for (let nx = gx - 1; nx <= gx + 1 && ok; nx++) {
        if (nx < 0 || ny < 0 || nx >= gridW || ny >= gridH) continue;
        const bucket = buckets.get(ny * gridW + nx);
        if (bucket === undefined) continue;
        for (const k of bucket) {
          const dx = out.x[k] - x;
          const dy = out.y[k] - y;
          if (dx * dx + dy * dy < minSep2) {
            ok = false;
            break;
          }
        }
      }
    }
    if (!ok) continue;
    out.x[placed] = x;
    out.y[placed] = y;
    out.raDeg[placed] = ((ra % 360) + 360) % 360;
    out.decDeg[placed] = dec;
    const key = gy * gridW + gx;
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, [placed]);
    else bucket.push(placed);
    placed++;
  }
  return out;
}

/** RA/Dec box (RA possibly beyond [0, 360) to stay contiguous) enclosing the core; null if a pole is inside. */
function skyBox(core: CoreRegion, projection: SkyProjection): { raMin: number; raMax: number; sinDecMin: number; sinDecMax: number } | null {
  const centre = projection.pixToSky((core.lo + core.hiX) / 2, (core.lo + core.hiY) / 2);
  let raMin = Infinity, raMax = -Infinity, decMin = Infinity, decMax = -Infinity;
  const steps = 32;
  for (let s = 0; s <= steps; s++) {
    const f = s / steps;
    const edge = [
      [core.lo + f * (core.hiX - core.lo), core.lo],
      [core.lo + f * (core.hiX - core.lo), core.hiY],
      [core.lo, core.lo + f * (core.hiY - core.lo)],
      [core.hiX, core.lo + f * (core.hiY - core.lo)],
    ];
    for (const [x, y] of edge) {
      const { ra, dec } = projection.pixToSky(x, y);
      if (!Number.isFinite(ra) || !Number.isFinite(dec)) return null;
      // Unwrap RA relative to the centre.
      let dra = ra - centre.ra;
      dra -= 360 * Math.round(dra / 360);
      raMin = Math.min(raMin, centre.ra + dra);
      raMax = Math.max(raMax, centre.ra + dra);
      decMin = Math.min(decMin, dec);
      decMax = Math.max(decMax, dec);
    }
  }
  // Edges are sampled, so pad by a small fraction to contain the curved boundary between samples.
  const padDec = 0.01 * (decMax - decMin);
  const padRa = 0.01 * (raMax - raMin);
  decMin -= padDec;
  decMax += padDec;
  if (decMax >= 89.9 || decMin <= -89.9 || raMax - raMin > 90) return null;
  return {
    raMin: raMin - padRa,
    raMax: raMax + padRa,
    sinDecMin: Math.sin((decMin * Math.PI) / 180),
    sinDecMax: Math.sin((decMax * Math.PI) / 180),
  };
}

/**
 * Mean of the exponential part so that P(SNR < 1) = fractionBelowOne with SNR = snrMin + Exp(mean):
 * 1 - exp(-(1 - snrMin)/mean) = f  =>  mean = (1 - snrMin) / -ln(1 - f).  (0.1, 0.45) -> 1.5055.
 */
export function snrExponentialMean(snrMin: number, fractionBelowOne: number): number {
  return (1 - snrMin) / -Math.log(1 - fractionBelowOne);
}

/** SNRs drawn from the paper's distribution (Fig. 1): snrMin + Exp(mean); the exponential is memoryless, so this is the exponential cut at snrMin. */
export function drawSnrs(count: number, snrMin: number, fractionBelowOne: number, rng: Random): Float64Array {
  const mean = snrExponentialMean(snrMin, fractionBelowOne);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = snrMin + rng.exponential(mean);
  return out;
}
