/**
 * Celestial WCS for 2-D images, following Greisen & Calabretta (2002, "Paper I": linear part)
 * and Calabretta & Greisen (2002, "Paper II": projections and the spherical rotation).
 *
 * Pixels are 0-based (CONTRACT.md): (0, 0) is the centre of the first pixel, i.e. astropy's
 * wcs_pix2world(..., 0). FITS CRPIX is 1-based, so p_FITS = x + 1.
 *
 * Supported: SIN (with PV2_1/PV2_2; NCP is SIN with PV2_2 = cot(dec0)), TAN, ARC and STG
 * (zenithal), CAR (cylindrical, general pole via LONPOLE/LATPOLE); PCi_j / PCiiijjj, CDi_j
 * and CDELT(+CROTA2) linear forms; any reference pixel, including far outside the image.
 */
import { FormatError } from '../core/errors';
import type { FitsCard, FitsHeader } from './types';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export type Projection = 'SIN' | 'TAN' | 'ARC' | 'STG' | 'CAR';
const ZENITHAL: ReadonlySet<Projection> = new Set(['SIN', 'TAN', 'ARC', 'STG']);

export interface WcsParams {
  projection: Projection;
  /** Reference pixel, FITS 1-based (CRPIX1, CRPIX2) along the image axes. */
  crpix: [number, number];
  /** Reference sky position (CRVAL of the longitude and latitude axes), degrees. */
  crval: [number, number];
  /** Linear transform from (p - crpix) to intermediate world coordinates (degrees), row-major 2x2 (CD matrix). */
  cd: [number, number, number, number];
  /** Which image axis (0 or 1) carries the longitude; the other carries the latitude. */
  lngAxis: 0 | 1;
  /** PV2_1, PV2_2 (SIN obliqueness xi, eta). */
  pv: [number, number];
  lonpole?: number;
  latpole?: number;
  radesys?: string;
  equinox?: number;
}

/** Degrees helpers that stay exact at multiples of 90 (as WCSLIB's sind/cosd do). */
function sind(deg: number): number {
  const r = deg % 90;
  if (r === 0) {
    const q = ((Math.round(deg / 90) % 4) + 4) % 4;
    return [0, 1, 0, -1][q];
  }
  return Math.sin(deg * D2R);
}
function cosd(deg: number): number {
  const r = deg % 90;
  if (r === 0) {
    const q = ((Math.round(deg / 90) % 4) + 4) % 4;
    return [1, 0, -1, 0][q];
  }
  return Math.cos(deg * D2R);
}
function atan2d(y: number, x: number): number {
  return Math.atan2(y, x) * R2D;
}

export class Wcs {
  readonly params: Readonly<WcsParams>;
  private readonly inverseCd: [number, number, number, number];
  /** Celestial coordinates of the native pole (alpha_p, delta_p) and phi_p = LONPOLE, degrees. */
  private readonly alphaP: number;
  private readonly deltaP: number;
  private readonly phiP: number;
  /** Native coordinates of the reference point (phi_0, theta_0). */
  private readonly theta0: number;

  constructor(params: WcsParams) {
    this.params = Object.freeze({ ...params });
    const [a, b, c, d] = params.cd;
    const det = a * d - b * c;
    if (!Number.isFinite(det) || det === 0) throw new FormatError(`WCS linear transform is singular: CD = [${params.cd.join(', ')}]`);
    this.inverseCd = [d / det, -b / det, -c / det, a / det];

    const [alpha0, delta0] = params.crval;
    this.theta0 = ZENITHAL.has(params.projection) ? 90 : 0;
    // Default LONPOLE (Paper II, section 2.4): 0 if delta0 >= theta0, else 180.
    const phiP = params.lonpole ?? (delta0 >= this.theta0 ? 0 : 180);
    this.phiP = phiP;
    if (this.theta0 === 90) {
      // Zenithal: the reference point is the native pole (Paper II, eq. 8 degenerate case).
      this.alphaP = alpha0;
      this.deltaP = delta0;
    } else {
      const pole = celestialPole(alpha0, delta0, 0, this.theta0, phiP, params.latpole ?? 90);
      this.alphaP = pole.alphaP;
      this.deltaP = pole.deltaP;
    }
  }

  static fromHeader(header: FitsHeader, where = 'header'): Wcs {
    return new Wcs(wcsParamsFromHeader(header, where));
  }

  /** 0-based pixel → ICRS/FK5 degrees. NaN where the pixel is outside the projection's domain. */
  pixToSky(x: number, y: number): { ra: number; dec: number } {
    const { crpix, cd, lngAxis } = this.params;
    const dx = x + 1 - crpix[0];
    const dy = y + 1 - crpix[1];
    const i0 = cd[0] * dx + cd[1] * dy;
    const i1 = cd[2] * dx + cd[3] * dy;
    const [ix, iy] = lngAxis === 0 ? [i0, i1] : [i1, i0];
    const native = this.deproject(ix, iy);
    if (native === null) return { ra: NaN, dec: NaN };
    return this.nativeToCelestial(native.phi, native.theta);
  }

  /** ICRS/FK5 degrees → 0-based pixel. NaN where the sky position cannot be projected. */
  skyToPix(ra: number, dec: number): { x: number; y: number } {
    const { phi, theta } = this.celestialToNative(ra, dec);
    const projected = this.project(phi, theta);
    if (projected === null) return { x: NaN, y: NaN };
    const { crpix, lngAxis } = this.params;
    const [i0, i1] = lngAxis === 0 ? [projected.x, projected.y] : [projected.y, projected.x];
    const m = this.inverseCd;
    return { x: m[0] * i0 + m[1] * i1 + crpix[0] - 1, y: m[2] * i0 + m[3] * i1 + crpix[1] - 1 };
  }

  /** Pixel size in degrees along each image axis near the reference pixel (sqrt of column norms of CD). */
  pixelScaleDeg(): { x: number; y: number } {
    const [a, b, c, d] = this.params.cd;
    return { x: Math.hypot(a, c), y: Math.hypot(b, d) };
  }

  /** Header cards that describe this WCS (for writers). */
  toCards(): FitsCard[] {
    const p = this.params;
    const lngType = `RA---${p.projection}`;
    const latType = `DEC--${p.projection}`;
    const types = p.lngAxis === 0 ? [lngType, latType] : [latType, lngType];
    const crval = p.lngAxis === 0 ? p.crval : [p.crval[1], p.crval[0]];
    const cards: FitsCard[] = [
      { key: 'CTYPE1', value: types[0] },
      { key: 'CTYPE2', value: types[1] },
      { key: 'CRPIX1', value: p.crpix[0] },
      { key: 'CRPIX2', value: p.crpix[1] },
      { key: 'CRVAL1', value: crval[0] },
      { key: 'CRVAL2', value: crval[1] },
      { key: 'CD1_1', value: p.cd[0] },
      { key: 'CD1_2', value: p.cd[1] },
      { key: 'CD2_1', value: p.cd[2] },
      { key: 'CD2_2', value: p.cd[3] },
      { key: 'CUNIT1', value: 'deg' },
      { key: 'CUNIT2', value: 'deg' },
    ];
    if (p.projection === 'SIN' && (p.pv[0] !== 0 || p.pv[1] !== 0)) {
      cards.push({ key: 'PV2_1', value: p.pv[0] }, { key: 'PV2_2', value: p.pv[1] });
    }
    if (p.lonpole !== undefined) cards.push({ key: 'LONPOLE', value: p.lonpole });
    if (p.latpole !== undefined) cards.push({ key: 'LATPOLE', value: p.latpole });
    cards.push({ key: 'RADESYS', value: p.radesys ?? 'ICRS' });
    if (p.equinox !== undefined) cards.push({ key: 'EQUINOX', value: p.equinox });
    return cards;
  }

  // Paper II, eq. (2): native (phi, theta) → celestial (alpha, delta), written with atan2 for
  // both angles so that it keeps full precision next to the poles.
  private nativeToCelestial(phi: number, theta: number): { ra: number; dec: number } {
    if (theta === 90 && this.theta0 === 90) return { ra: ((this.alphaP % 360) + 360) % 360, dec: this.deltaP };
    const dphi = phi - this.phiP;
    const st = sind(theta);
    const ct = cosd(theta);
    const sdp = sind(this.deltaP);
    const cdp = cosd(this.deltaP);
    const cdphi = cosd(dphi);
    const x = st * cdp - ct * sdp * cdphi;
    const y = -ct * sind(dphi);
    const z = st * sdp + ct * cdp * cdphi;
    const dec = atan2d(z, Math.hypot(x, y));
    let ra = this.alphaP + atan2d(y, x);
    ra = ((ra % 360) + 360) % 360;
    return { ra, dec };
  }

  // Paper II, eq. (5): celestial → native.
  private celestialToNative(ra: number, dec: number): { phi: number; theta: number } {
    const dalpha = ra - this.alphaP;
    const sd = sind(dec);
    const cdl = cosd(dec);
    const sdp = sind(this.deltaP);
    const cdp = cosd(this.deltaP);
    const cda = cosd(dalpha);
    const x = sd * cdp - cdl * sdp * cda;
    const y = -cdl * sind(dalpha);
    const z = sd * sdp + cdl * cdp * cda;
    const theta = atan2d(z, Math.hypot(x, y));
    let phi = this.phiP + atan2d(y, x);
    phi = ((((phi + 180) % 360) + 360) % 360) - 180;
    return { phi, theta };
  }

  /** Intermediate world coordinates (degrees) → native spherical (degrees), Paper II section 5. */
  private deproject(x: number, y: number): { phi: number; theta: number } | null {
    const { projection, pv } = this.params;
    const rTheta = Math.hypot(x, y);
    switch (projection) {
      case 'SIN':
        return deprojectSin(x, y, pv[0], pv[1]);
      case 'TAN': {
        // eq. (54-55): R = (180/pi) cot(theta)
        const phi = rTheta === 0 ? 0 : atan2d(x, -y);
        return { phi, theta: atan2d(R2D, rTheta) };
      }
      case 'ARC': {
        // eq. (80): R = 90 - theta
        const theta = 90 - rTheta;
        if (theta < -90) return null;
        return { phi: rTheta === 0 ? 0 : atan2d(x, -y), theta };
      }
      case 'STG': {
        // eq. (72): R = (360/pi) tan((90 - theta)/2)
        const theta = 90 - 2 * Math.atan(rTheta / (2 * R2D)) * R2D;
        return { phi: rTheta === 0 ? 0 : atan2d(x, -y), theta };
      }
      case 'CAR':
        // eq. (84): x = phi, y = theta
        if (Math.abs(y) > 90) return null;
        return { phi: x, theta: y };
    }
  }

  /** Native spherical → intermediate world coordinates (degrees), or null where undefined. */
  private project(phi: number, theta: number): { x: number; y: number } | null {
    const { projection, pv } = this.params;
    switch (projection) {
      case 'SIN': {
        // eq. (43-44) with the obliqueness terms; WCSLIB's domain check for the far hemisphere.
        const [xi, eta] = pv;
        const sphi = sind(phi);
        const cphi = cosd(phi);
        const limit = -Math.atan(xi * sphi - eta * cphi) * R2D;
        if (theta < limit) return null;
        const ct = cosd(theta);
        const z = 1 - sind(theta);
        return { x: R2D * (ct * sphi + xi * z), y: -R2D * (ct * cphi - eta * z) };
      }
      case 'TAN': {
        if (theta <= 0) return null;
        const r = (R2D * cosd(theta)) / sind(theta);
        return { x: r * sind(phi), y: -r * cosd(phi) };
      }
      case 'ARC': {
        const r = 90 - theta;
        return { x: r * sind(phi), y: -r * cosd(phi) };
      }
      case 'STG': {
        if (theta <= -90) return null;
        const r = 2 * R2D * Math.tan(((90 - theta) / 2) * D2R);
        return { x: r * sind(phi), y: -r * cosd(phi) };
      }
      case 'CAR':
        return { x: phi, y: theta };
    }
  }
}

/** SIN deprojection (Paper II, section 5.1.5, eqs. 45-49), as in WCSLIB's sinx2s. */
function deprojectSin(x: number, y: number, xi: number, eta: number): { phi: number; theta: number } | null {
  const X = x * D2R;
  const Y = y * D2R;
  const r2 = X * X + Y * Y;
  if (xi === 0 && eta === 0) {
    if (r2 > 1) {
      if (r2 - 1 > 1e-13) return null;
      return { phi: atan2d(X, -Y), theta: 0 };
    }
    // Both forms keep full precision: acos near the pole would not, asin near the horizon would not.
    const theta = r2 < 0.5 ? Math.acos(Math.sqrt(r2)) * R2D : Math.asin(Math.sqrt(1 - r2)) * R2D;
    return { phi: r2 === 0 ? 0 : atan2d(X, -Y), theta };
  }
  const xy = X * xi + Y * eta;
  let z: number;
  let theta: number;
  if (r2 < 1e-10) {
    // Small-angle form next to the reference point.
    theta = 90 - R2D * Math.sqrt(r2 / (1 + xy));
    z = r2 / 2;
  } else {
    const w1 = xi * xi + eta * eta;
    const a = w1 + 1;
    const b = xy - w1;
    const c = r2 - 2 * xy + w1 - 1;
    let d = b * b - a * c;
    if (d < 0) return null;
    d = Math.sqrt(d);
    const s1 = (-b + d) / a;
    const s2 = (-b - d) / a;
    let s = Math.max(s1, s2);
    if (s > 1) s = s - 1 < 1e-13 ? 1 : Math.min(s1, s2);
    if (s < -1 && s + 1 > -1e-13) s = -1;
    if (s > 1 || s < -1) return null;
    z = 1 - s;
    // theta from atan2(sin, cos) with cos from the geometry: asin(s) alone loses half the digits near the pole.
    theta = atan2d(s, Math.hypot(X - xi * z, Y - eta * z));
  }
  const phi = atan2d(X - xi * z, -(Y - eta * z));
  return { phi, theta };
}

/**
 * Celestial coordinates of the native pole for non-zenithal projections (Paper II, eqs. 8-10),
 * with LATPOLE choosing between the two solutions.
 */
function celestialPole(alpha0: number, delta0: number, phi0: number, theta0: number, phiP: number, latpole: number): { alphaP: number; deltaP: number } {
  if (theta0 === 90) return { alphaP: alpha0, deltaP: delta0 };
  const dphi = phiP - phi0;
  const a = sind(theta0) * 0 + cosd(theta0) * cosd(dphi); // denominator term in eq. (9)
  const b = sind(theta0);
  const cosTerm = Math.hypot(a, b);
  let deltaP: number;
  if (cosTerm === 0) {
    deltaP = latpole;
  } else {
    const base = atan2d(b, a);
    const ratio = sind(delta0) / cosTerm;
    if (Math.abs(ratio) > 1 + 1e-12) throw new FormatError(`WCS: no celestial pole consistent with CRVAL2 = ${delta0} and LONPOLE = ${phiP}`);
    const offset = Math.acos(Math.max(-1, Math.min(1, ratio))) * R2D;
    const n1 = base + offset;
    const n2 = base - offset;
    const valid = [n1, n2].map((v) => (((v + 180) % 360) + 360) % 360 - 180).filter((v) => v >= -90 - 1e-10 && v <= 90 + 1e-10);
    if (valid.length === 0) throw new FormatError(`WCS: no valid celestial pole for CRVAL2 = ${delta0}`);
    deltaP = valid.length === 1 ? valid[0] : Math.abs(valid[0] - latpole) <= Math.abs(valid[1] - latpole) ? valid[0] : valid[1];
    deltaP = Math.max(-90, Math.min(90, deltaP));
  }
  let alphaP: number;
  if (Math.abs(deltaP) === 90) {
    alphaP = alpha0 + (deltaP > 0 ? dphi - 180 : -dphi) ;
  } else if (Math.abs(delta0) === 90) {
    alphaP = alpha0;
  } else {
    // eq. (10)
    const sinDa = (sind(dphi) * cosd(theta0)) / cosd(delta0);
    const cosDa = (sind(theta0) - sind(deltaP) * sind(delta0)) / (cosd(deltaP) * cosd(delta0));
    alphaP = alpha0 - atan2d(sinDa, cosDa);
  }
  return { alphaP, deltaP };
}

function axisNumber(header: FitsHeader, key: string, fallback: number): number {
  const value = header.get(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FormatError(`WCS keyword ${key} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads the celestial WCS of a FITS header (Paper I, section 2; Paper II, section 2). */
export function wcsParamsFromHeader(header: FitsHeader, where = 'header'): WcsParams {
  const fail = (problem: string): never => {
    throw new FormatError(`${where}: ${problem}`);
  };
  const naxis = header.getNumber('NAXIS') ?? header.getNumber('WCSAXES') ?? 2;
  const ctypes: string[] = [];
  for (let i = 1; i <= Math.max(2, Math.min(naxis, 999)); i++) ctypes.push((header.getString(`CTYPE${i}`) ?? '').toUpperCase());
  const lngIndex = ctypes.findIndex((t) => t.startsWith('RA--') || t === 'RA');
  const latIndex = ctypes.findIndex((t) => t.startsWith('DEC-') || t === 'DEC');
  if (lngIndex < 0 || latIndex < 0) {
    const glon = ctypes.some((t) => t.startsWith('GLON') || t.startsWith('ELON'));
    fail(glon ? `only equatorial (RA/DEC) celestial axes are supported, got CTYPE = ${ctypes.join(', ')}` : `no RA/DEC celestial axes in CTYPE1..${ctypes.length} (${ctypes.map((t) => JSON.stringify(t)).join(', ')})`);
  }
  if (!((lngIndex === 0 && latIndex === 1) || (lngIndex === 1 && latIndex === 0))) {
    fail(`celestial axes must be NAXIS1 and NAXIS2, got RA on axis ${lngIndex + 1} and DEC on axis ${latIndex + 1}`);
  }
  const lngType = ctypes[lngIndex];
  const latType = ctypes[latIndex];
  for (const t of [lngType, latType]) {
    if (t.length > 8) fail(`${JSON.stringify(t)}: distortion conventions (${t.slice(8)}) are not supported`);
  }
  const code = (t: string) => (t.length >= 8 ? t.slice(5, 8) : '');
  let projCode = code(lngType);
  if (projCode !== code(latType)) fail(`projections of ${lngType} and ${latType} differ`);
  const pvKey = (m: number) => `PV${latIndex + 1}_${m}`;
  let pv: [number, number] = [axisNumber(header, pvKey(1), 0), axisNumber(header, pvKey(2), 0)];
  const crval: [number, number] = [axisNumber(header, `CRVAL${lngIndex + 1}`, 0), axisNumber(header, `CRVAL${latIndex + 1}`, 0)];
  if (projCode === 'NCP') {
    // NCP is SIN with xi = 0, eta = cot(delta0) (Paper II, section 5.1.5), as WCSLIB translates it.
    if (crval[1] === 0) fail('NCP projection with CRVAL2 = 0 is undefined');
    pv = [0, cosd(crval[1]) / sind(crval[1])];
    projCode = 'SIN';
  } else if (projCode === '') {
    projCode = 'CAR'; // 'RA' / 'DEC' with no projection: linear, as WCSLIB treats it
  }
  if (!['SIN', 'TAN', 'ARC', 'STG', 'CAR'].includes(projCode)) fail(`unsupported projection ${projCode} (supported: SIN, NCP, TAN, ARC, STG, CAR)`);
  for (const axis of [1, 2]) {
    const unit = header.getString(`CUNIT${axis}`);
    if (unit !== undefined && unit.trim() !== '' && !/^deg(rees?)?$/i.test(unit.trim())) fail(`CUNIT${axis} must be degrees, got ${JSON.stringify(unit)}`);
  }

  const crpix: [number, number] = [axisNumber(header, 'CRPIX1', 0), axisNumber(header, 'CRPIX2', 0)];
  const cd = linearTransform(header, lngIndex, latIndex, fail);

  const result: WcsParams = { projection: projCode as Projection, crpix, crval, cd, lngAxis: lngIndex === 0 ? 0 : 1, pv };
  const lonpole = header.getNumber('LONPOLE') ?? header.getNumber(`PV${lngIndex + 1}_3`);
  const latpole = header.getNumber('LATPOLE') ?? header.getNumber(`PV${lngIndex + 1}_4`);
  if (lonpole !== undefined) result.lonpole = lonpole;
  if (latpole !== undefined) result.latpole = latpole;
  const equinox = header.getNumber('EQUINOX') ?? header.getNumber('EPOCH');
  if (equinox !== undefined) result.equinox = equinox;
  // Default frame (Paper I, section 3.1): FK4 before 1984, FK5 from 1984, ICRS without EQUINOX.
  const radesys = (header.getString('RADESYS') ?? header.getString('RADECSYS'))?.trim().toUpperCase() || (equinox === undefined ? 'ICRS' : equinox < 1984 ? 'FK4' : 'FK5');
  // We return coordinates in the image's own frame. ICRS and FK5 J2000 agree to ~20 mas, well inside
  // a beam; B1950/FK4 differs by arcminutes, so say so rather than write wrong catalogues.
  if (radesys === 'FK4' || radesys === 'FK4-NO-E') fail(`B1950 coordinates (RADESYS ${radesys}, EQUINOX ${equinox ?? 1950}) are not supported; reproject the image to J2000/ICRS`);
  if (radesys === 'FK5' && equinox !== undefined && Math.abs(equinox - 2000) > 1e-6) fail(`FK5 coordinates must have EQUINOX 2000, got ${equinox}`);
  if (!['ICRS', 'FK5'].includes(radesys)) fail(`unsupported celestial frame RADESYS = ${JSON.stringify(radesys)} (expected ICRS or FK5 J2000)`);
  result.radesys = radesys;
  return result;
}

/**
 * The CD matrix from PCi_j (or the old PCiiijjj) with CDELTi, or CDi_j, or CDELTi with CROTA2
 * (Paper I, section 2.1; Paper II, section 6.1, eq. 189 for CROTA).
 */
function linearTransform(header: FitsHeader, lng: number, lat: number, fail: (problem: string) => never): [number, number, number, number] {
  const cdelt1 = axisNumber(header, 'CDELT1', 1);
  const cdelt2 = axisNumber(header, 'CDELT2', 1);
  const pcKeys = (i: number, j: number) => [`PC${i}_${j}`, `PC${String(i).padStart(3, '0')}${String(j).padStart(3, '0')}`];
  const pcValue = (i: number, j: number): number | undefined => {
    for (const key of pcKeys(i, j)) if (header.has(key)) return axisNumber(header, key, i === j ? 1 : 0);
    return undefined;
  };
  const hasPc = [1, 2].some((i) => [1, 2].some((j) => pcValue(i, j) !== undefined));
  const hasCd = [1, 2].some((i) => [1, 2].some((j) => header.has(`CD${i}_${j}`)));
  // Only the latitude axis's CROTA counts (WCSLIB, and so astropy, ignore CROTA on the longitude axis).
  const crota = header.getNumber(`CROTA${lat + 1}`);
  if (hasPc || (!hasCd && crota === undefined)) {
    const pc = [pcValue(1, 1) ?? 1, pcValue(1, 2) ?? 0, pcValue(2, 1) ?? 0, pcValue(2, 2) ?? 1];
    if (cdelt1 === 0 || cdelt2 === 0) fail('CDELT1 and CDELT2 must be non-zero');
    return [cdelt1 * pc[0], cdelt1 * pc[1], cdelt2 * pc[2], cdelt2 * pc[3]];
  }
  if (hasCd) {
    return [axisNumber(header, 'CD1_1', 0), axisNumber(header, 'CD1_2', 0), axisNumber(header, 'CD2_1', 0), axisNumber(header, 'CD2_2', 0)];
  }
  if (cdelt1 === 0 || cdelt2 === 0) fail('CDELT1 and CDELT2 must be non-zero');
  // Paper II, eq. (189) in the general axis order, as WCSLIB's wcsset: rho rotates the latitude axis.
  const rho = crota ?? 0;
  const cdelt = [cdelt1, cdelt2];
  const lambda = cdelt[lat] / cdelt[lng];
  const pc = [1, 0, 0, 1];
  pc[lng * 2 + lng] = cosd(rho);
  pc[lat * 2 + lat] = cosd(rho);
  pc[lng * 2 + lat] = -lambda * sind(rho);
  pc[lat * 2 + lng] = sind(rho) / lambda;
  return [cdelt1 * pc[0], cdelt1 * pc[1], cdelt2 * pc[2], cdelt2 * pc[3]];
}

export interface SinWcsOptions {
  raDeg: number;
  decDeg: number;
  /** Pixel size in degrees (positive); CDELT1 is written negative (RA increases to the left). */
  cdeltDeg: number;
  width: number;
  height: number;
}

/**
 * Cards for a SIN projection centred on (raDeg, decDeg) at the image centre: CRPIX is the centre in
 * FITS 1-based convention, (width + 1) / 2, so the 0-based centre pixel is (width - 1) / 2.
 */
export function sinWcsCards(options: SinWcsOptions): FitsCard[] {
  const { raDeg, decDeg, cdeltDeg, width, height } = options;
  if (!Number.isFinite(raDeg) || !Number.isFinite(decDeg) || decDeg < -90 || decDeg > 90) throw new FormatError(`sinWcsCards: invalid centre (${raDeg}, ${decDeg})`);
  if (!(cdeltDeg > 0) || !Number.isFinite(cdeltDeg)) throw new FormatError(`sinWcsCards: cdeltDeg must be > 0, got ${cdeltDeg}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new FormatError(`sinWcsCards: width and height must be positive integers, got ${width}x${height}`);
  return [
    { key: 'CTYPE1', value: 'RA---SIN' },
    { key: 'CRPIX1', value: (width + 1) / 2 },
    { key: 'CRVAL1', value: ((raDeg % 360) + 360) % 360 },
    { key: 'CDELT1', value: -cdeltDeg },
    { key: 'CUNIT1', value: 'deg' },
    { key: 'CTYPE2', value: 'DEC--SIN' },
    { key: 'CRPIX2', value: (height + 1) / 2 },
    { key: 'CRVAL2', value: decDeg },
    { key: 'CDELT2', value: cdeltDeg },
    { key: 'CUNIT2', value: 'deg' },
    { key: 'RADESYS', value: 'ICRS' },
    { key: 'EQUINOX', value: 2000 },
  ];
}
