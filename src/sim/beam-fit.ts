/**
 * The synthesised beam: an elliptical Gaussian fitted to the main lobe of the PSF (paper section
 * 2.2 and eq. 1: beam size = sqrt(Bmaj * Bmin)). The fitted beam is written to the FITS header
 * (BMAJ/BMIN/BPA) and is the CLEAN restoring beam.
 */

export interface FittedBeam {
  /** FWHM along the major and minor axes, pixels. */
  majorPx: number;
  minorPx: number;
  /** Position angle of the major axis, degrees east of north, in (-90, 90]. */
  paDeg: number;
}

/** Pixels above this fraction of the peak, connected to the centre, form the main lobe (as CASA does with 0.35). */
export const MAIN_LOBE_LEVEL = 0.35;

/**
 * Fits ln PSF = -(a dx^2 + 2 b dx dy + c dy^2) by weighted linear least squares over the main lobe
 * (4-connected pixels > MAIN_LOBE_LEVEL around the peak at (cx, cy)), weights PSF^2 so the fit
 * behaves like an unweighted fit to the PSF values themselves. x grows to the west (CDELT1 < 0).
 */
export function fitBeam(psf: Float64Array, width: number, height: number, cx: number, cy: number): FittedBeam {
  const seen = new Uint8Array(width * height);
  const stack: number[] = [cy * width + cx];
  seen[cy * width + cx] = 1;
  let sxx = 0, sxy = 0, syy = 0; // design matrix columns: dx^2, 2 dx dy, dy^2
  const m = [0, 0, 0, 0, 0, 0]; // normal matrix (upper triangle): 00 01 02 11 12 22
  const r = [0, 0, 0];
  let count = 0;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const px = i % width;
    const py = (i - px) / width;
    const value = psf[i];
    const dx = px - cx;
    const dy = py - cy;
    if (dx !== 0 || dy !== 0) {
      sxx = dx * dx;
      sxy = 2 * dx * dy;
      syy = dy * dy;
      const wt = value * value;
      const t = -Math.log(value);
      m[0] += wt * sxx * sxx;
      m[1] += wt * sxx * sxy;
      m[2] += wt * sxx * syy;
      m[3] += wt * sxy * sxy;
      m[4] += wt * sxy * syy;
      m[5] += wt * syy * syy;
      r[0] += wt * sxx * t;
      r[1] += wt * sxy * t;
      r[2] += wt * syy * t;
      count++;
    }
    const neighbours = [
      [px - 1, py],
      [px + 1, py],
      [px, py - 1],
      [px, py + 1],
    ];
    for (const [nx, ny] of neighbours) {
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const j = ny * width + nx;
      if (seen[j] === 1) continue;
      seen[j] = 1;
      if (psf[j] > MAIN_LOBE_LEVEL) stack.push(j);
    }
  }
  let a: number, b: number, c: number;
  if (count < 3) {
    // Main lobe narrower than a pixel: use the 4 neighbours' values directly, axis-aligned.
    const px = Math.max(psf[cy * width + cx - 1], psf[cy * width + cx + 1], 1e-6);
    const py = Math.max(psf[(cy - 1) * width + cx], psf[(cy + 1) * width + cx], 1e-6);
    a = -Math.log(Math.min(px, 0.999));
    b = 0;
    c = -Math.log(Math.min(py, 0.999));
  } else {
    [a, b, c] = solve3(m, r);
  }
  // Quadratic form [[a, b], [b, c]]; ln 2 level: FWHM along an eigen-direction = 2 sqrt(ln2 / lambda).
  const mean = (a + c) / 2;
  const diff = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const lambdaSmall = Math.max(mean - diff, 1e-12);
  const lambdaLarge = Math.max(mean + diff, 1e-12);
  const majorPx = 2 * Math.sqrt(Math.LN2 / lambdaSmall);
  const minorPx = 2 * Math.sqrt(Math.LN2 / lambdaLarge);
  // Major axis = eigenvector of the smaller eigenvalue.
  let ex: number, ey: number;
  if (Math.abs(b) > 1e-15 * (Math.abs(a) + Math.abs(c))) {
    ex = b;
    ey = lambdaSmall - a;
  } else if (a <= c) {
    ex = 1;
    ey = 0;
  } else {
    ex = 0;
    ey = 1;
  }
  // Sky: east = -x, north = +y.
  let pa = (Math.atan2(-ex, ey) * 180) / Math.PI;
  while (pa <= -90) pa += 180;
  while (pa > 90) pa -= 180;
  return { majorPx, minorPx, paDeg: pa };
}

function solve3(m: number[], r: number[]): [number, number, number] {
  const A = [
    [m[0], m[1], m[2]],
    [m[1], m[3], m[4]],
    [m[2], m[4], m[5]],
  ];
  const det = (M: number[][]) =>
    M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  const d = det(A);
  const out: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const Ak = A.map((row, i) => row.map((v, j) => (j === k ? r[i] : v)));
    out[k] = det(Ak) / d;
  }
  return out;
}

/**
 * The beam as an exp(-(qa dx^2 + 2 qb dx dy + qc dy^2)) quadratic form in pixels (peak 1), used
 * to draw restoring-beam stamps.
 */
export function beamQuadraticForm(beam: FittedBeam): { qa: number; qb: number; qc: number } {
  const pa = (beam.paDeg * Math.PI) / 180;
  // Major-axis unit vector in pixel coordinates (east = -x, north = +y).
  const ex = -Math.sin(pa);
  const ey = Math.cos(pa);
  const lMaj = (4 * Math.LN2) / (beam.majorPx * beam.majorPx);
  const lMin = (4 * Math.LN2) / (beam.minorPx * beam.minorPx);
  // Q = lMaj e e^T + lMin f f^T with f = (-ey, ex).
  return {
    qa: lMaj * ex * ex + lMin * ey * ey,
    qb: lMaj * ex * ey - lMin * ey * ex,
    qc: lMaj * ey * ey + lMin * ex * ex,
  };
}
