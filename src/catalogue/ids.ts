/**
 * Source identifiers: a survey-unique `source_id`, an IAU-style `name`, and the HEALPix nested
 * index at order 29 (`_healpix_29`, the HATS/LSDB partitioning convention).
 */

const ORDER = 29;
const NSIDE = 2 ** ORDER;
const DEG = Math.PI / 180;

/**
 * Stable and unique across a survey: the image id plus the order-29 HEALPix cell (~0.4 mas wide),
 * so the same detection in the same image always gets the same id and two distinct detections in
 * one image (separated by at least a pixel) never share one. Overlapping images give different ids
 * for the same sky source; cross-image de-duplication is a crossmatch, not an id scheme.
 */
export function sourceId(imageId: string, raDeg: number, decDeg: number): string {
  const cell = Number.isFinite(raDeg) && Number.isFinite(decDeg) ? healpixNested29(raDeg, decDeg).toString(16).padStart(16, '0') : 'nopos';
  return `${imageId}:${cell}`;
}

/**
 * IAU-style designation `DS JHHMMSS.ss+DDMMSS.s`. Coordinates are truncated, not rounded, as the
 * IAU Naming Convention requires, so a name never points to a neighbouring cell.
 */
export function iauName(raDeg: number, decDeg: number, prefix = 'DS'): string {
  const ra = ((raDeg % 360) + 360) % 360;
  // Units of 0.01 s of time; the tiny epsilon keeps 12.999999999 from truncating to 12.99.
  let raCs = Math.floor((ra / 15) * 360000 + 1e-6);
  if (raCs >= 24 * 360000) raCs -= 24 * 360000;
  const hh = Math.floor(raCs / 360000);
  const mm = Math.floor((raCs % 360000) / 6000);
  const ss = raCs % 6000;
  const sign = decDeg < 0 ? '-' : '+';
  // Units of 0.1 arcsec.
  const decDs = Math.floor(Math.abs(decDeg) * 36000 + 1e-6);
  const dd = Math.floor(decDs / 36000);
  const dm = Math.floor((decDs % 36000) / 600);
  const dsec = decDs % 600;
  return (
    `${prefix} J${pad(hh, 2)}${pad(mm, 2)}${pad(Math.floor(ss / 100), 2)}.${pad(ss % 100, 2)}` +
    `${sign}${pad(dd, 2)}${pad(dm, 2)}${pad(Math.floor(dsec / 10), 2)}.${dsec % 10}`
  );
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * HEALPix ang2pix in the NESTED scheme at order 29 (Gorski et al. 2005; the loc2pix algorithm of
 * the HEALPix C++ library, Healpix_Base::loc2pix). Returns a bigint because indices reach 12*4^29.
 * Near the poles 1 - |z| is computed from cos(dec) to keep precision at this resolution.
 */
export function healpixNested29(raDeg: number, decDeg: number): bigint {
  return healpixNested(ORDER, raDeg, decDeg);
}

/** The order-k cell containing an order-29 nested cell: drop 2 bits per order (nested scheme). */
export function healpixAtOrder(healpix29: bigint, order: number): bigint {
  if (!Number.isInteger(order) || order < 0 || order > 29) throw new RangeError(`HEALPix order must be an integer 0..29, got ${order}`);
  return healpix29 >> BigInt(2 * (29 - order));
}

/** ang2pix nested at any order 0..29. */
export function healpixNested(order: number, raDeg: number, decDeg: number): bigint {
  const nside = 2 ** order;
  const phi = raDeg * DEG;
  const theta = decDeg * DEG;
  const z = Math.sin(theta);
  const za = Math.abs(z);
  let tt = (phi / (Math.PI / 2)) % 4;
  if (tt < 0) tt += 4;
  if (tt >= 4) tt = 0;
  let face: number;
  let ix: number;
  let iy: number;
  if (za <= 2 / 3) {
    // Equatorial region.
    const temp1 = nside * (0.5 + tt);
    const temp2 = nside * (z * 0.75);
    const jp = Math.floor(temp1 - temp2); // ascending edge line index
    const jm = Math.floor(temp1 + temp2); // descending edge line index
    const ifp = Math.floor(jp / nside);
    const ifm = Math.floor(jm / nside);
    face = ifp === ifm ? ifp | 4 : ifp < ifm ? ifp : ifm + 8;
    ix = jm - ifm * nside;
    iy = nside - (jp - ifp * nside) - 1;
  } else {
    // Polar caps.
    const ntt = Math.min(3, Math.floor(tt));
    const tp = tt - ntt;
    const cosDec = Math.cos(theta);
    // sqrt(3 (1 - |z|)) with 1 - |z| = cos^2(dec) / (1 + |z|), exact near the pole.
    const tmp = nside * Math.sqrt((3 * cosDec * cosDec) / (1 + za));
    const jp = Math.min(nside - 1, Math.floor(tp * tmp));
    const jm = Math.min(nside - 1, Math.floor((1 - tp) * tmp));
    if (z >= 0) {
      face = ntt;
      ix = nside - jm - 1;
      iy = nside - jp - 1;
    } else {
      face = ntt + 8;
      ix = jp;
      iy = jm;
    }
  }
  return (BigInt(face) << BigInt(2 * order)) + spreadBits(ix) + (spreadBits(iy) << 1n);
}

/** Interleaves the bits of a non-negative integer < 2^32 with zeros (Morton code half). */
function spreadBits(v: number): bigint {
  const lo = v % 65536;
  const hi = Math.floor(v / 65536);
  return (BigInt(SPREAD16[hi]) << 32n) | BigInt(SPREAD16[lo]);
}

const SPREAD16 = (() => {
  const table = new Float64Array(65536);
  for (let v = 0; v < 65536; v++) {
    let out = 0;
    for (let b = 0; b < 16; b++) if (v & (1 << b)) out += 2 ** (2 * b);
    table[v] = out;
  }
  return table;
})();
