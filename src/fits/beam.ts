/**
 * Restoring beam from a header. The beam size sqrt(BMAJ * BMIN) sets the crossmatch radius and
 * the SNR scale (paper, eq. 1 and section 5.1).
 */
import { UserInputError } from '../core/errors';
import type { Beam, FitsHeader } from './types';

/** AIPS writes the beam only as `HISTORY AIPS   CLEAN BMAJ=  1.2500E-02 BMIN=  1.2500E-02 BPA=   0.00`. */
const AIPS_CLEAN = /AIPS\s+CLEAN\s+BMAJ\s*=\s*([-+0-9.EeDd]+)\s+BMIN\s*=\s*([-+0-9.EeDd]+)(?:\s+BPA\s*=\s*([-+0-9.EeDd]+))?/i;

function parseNumber(text: string | undefined): number {
  return text === undefined ? NaN : Number(text.replace(/[Dd]/, 'E'));
}

/** BMAJ/BMIN/BPA keywords (degrees), else the last AIPS CLEAN HISTORY card, else null. */
export function beamFromHeader(header: FitsHeader): Beam | null {
  const bmaj = header.getNumber('BMAJ');
  const bmin = header.getNumber('BMIN');
  if (bmaj !== undefined && bmin !== undefined && bmaj > 0 && bmin > 0) {
    return { bmajDeg: bmaj, bminDeg: bmin, bpaDeg: header.getNumber('BPA') ?? 0, source: 'header' };
  }
  const history = header.history();
  for (let i = history.length - 1; i >= 0; i--) {
    const match = AIPS_CLEAN.exec(history[i]);
    if (!match) continue;
    const hBmaj = parseNumber(match[1]);
    const hBmin = parseNumber(match[2]);
    const hBpa = match[3] === undefined ? 0 : parseNumber(match[3]);
    if (hBmaj > 0 && hBmin > 0 && Number.isFinite(hBpa)) return { bmajDeg: hBmaj, bminDeg: hBmin, bpaDeg: hBpa, source: 'aips-history' };
  }
  return null;
}

/** The beam, or a UserInputError telling the user to pass --beam. */
export function requireBeam(header: FitsHeader, where: string): Beam {
  const beam = beamFromHeader(header);
  if (beam) return beam;
  throw new UserInputError(`${where}: no restoring beam in the header (no BMAJ/BMIN keywords and no 'HISTORY AIPS CLEAN BMAJ=' card); give it with --beam ARCSEC[,ARCSEC[,PA_DEG]]`);
}

/** Parses a --beam option: "BMAJ" or "BMAJ,BMIN" or "BMAJ,BMIN,BPA" with sizes in arcsec and BPA in degrees. */
export function parseBeamOption(text: string, optionName = '--beam'): Beam {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length < 1 || parts.length > 3 || numbers.some((n) => !Number.isFinite(n)) || numbers[0] <= 0 || (numbers.length > 1 && numbers[1] <= 0)) {
    throw new UserInputError(`${optionName} must be BMAJ[,BMIN[,BPA]] with sizes in arcsec > 0 and BPA in degrees, got ${JSON.stringify(text)}`);
  }
  const bmaj = numbers[0] / 3600;
  const bmin = (numbers[1] ?? numbers[0]) / 3600;
  return { bmajDeg: Math.max(bmaj, bmin), bminDeg: Math.min(bmaj, bmin), bpaDeg: numbers[2] ?? 0, source: 'user' };
}

/** Beam size sqrt(BMAJ * BMIN) in degrees (paper, eq. 1). */
export function beamSizeDeg(beam: Beam): number {
  return Math.sqrt(beam.bmajDeg * beam.bminDeg);
}

/** BMAJ/BMIN/BPA cards for a writer. */
export function beamCards(beam: Beam): { key: string; value: number; comment: string }[] {
  return [
    { key: 'BMAJ', value: beam.bmajDeg, comment: 'restoring beam major axis (deg)' },
    { key: 'BMIN', value: beam.bminDeg, comment: 'restoring beam minor axis (deg)' },
    { key: 'BPA', value: beam.bpaDeg, comment: 'restoring beam position angle (deg)' },
  ];
}
