/**
 * Region files for DS9 and CARTA (DS9 region format 4.1, which CARTA imports): one fk5 circle per
 * source, with the IAU-style name as its text label. The circle's radius is half the restoring
 * beam, sqrt(BMAJ*BMIN) (paper eq. 1), so each circle spans one beam FWHM; without a beam, 5 arcsec.
 * Provenance goes into '#' comment lines, which both programs ignore.
 */
import { UserInputError } from '../core/errors';
import type { ColumnTable } from './table';
import { META } from './provenance';

export interface RegionOptions {
  /** Beam FWHM in arcsec; default: table metadata deepsource.beam_arcsec, else 5. */
  beamArcsec?: number;
  color?: string;
}

export function encodeRegions(table: ColumnTable, options: RegionOptions = {}): string[] {
  const ra = table.columns['ra_deg'];
  const dec = table.columns['dec_deg'];
  if (!(ra instanceof Float64Array || ra instanceof Float32Array) || !(dec instanceof Float64Array || dec instanceof Float32Array)) {
    throw new UserInputError('region files need numeric ra_deg and dec_deg columns');
  }
  const labels = (table.columns['name'] ?? table.columns['source_id'] ?? table.columns['id']) as ArrayLike<unknown> | undefined;
  const metaBeam = Number(table.metadata[META.beamArcsec]);
  const beam = options.beamArcsec ?? (Number.isFinite(metaBeam) && metaBeam > 0 ? metaBeam : 5);
  if (!(beam > 0)) throw new UserInputError(`region beam must be > 0 arcsec, got ${beam}`);
  const color = (options.color ?? 'green').replace(/[^\w#]/g, '');
  const radius = `${(beam / 2).toPrecision(6).replace(/\.?0+$/, '')}"`;
  const head = ['# Region file format: DS9 version 4.1', '# DeepSource catalogue; circle diameter = restoring beam FWHM'];
  for (const [k, v] of Object.entries(table.metadata)) {
    if (k === META.columns) continue;
    head.push(`# ${commentSafe(k)}: ${commentSafe(v)}`);
  }
  head.push(`global color=${color} dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1 highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1`);
  head.push('fk5');
  const lines = [head.join('\n') + '\n'];
  const block = 8192;
  for (let s = 0; s < ra.length; s += block) {
    let text = '';
    for (let i = s; i < Math.min(ra.length, s + block); i++) {
      if (!Number.isFinite(ra[i]) || !Number.isFinite(dec[i])) continue;
      const label = labels === undefined ? '' : ` # text={${labelSafe(String(labels[i]))}}`;
      text += `circle(${ra[i].toFixed(8)},${dec[i].toFixed(8)},${radius})${label}\n`;
    }
    lines.push(text);
  }
  return lines;
}

/** A comment line must stay one line. */
function commentSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** DS9 text={...} ends at the first '}'; braces and line breaks cannot appear inside. */
function labelSafe(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')).replace(/[\r\n]+/g, ' ');
}
