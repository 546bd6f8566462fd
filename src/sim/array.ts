/**
 * The MeerKAT array: 64 antennas (13.5 m dishes) with ITRF positions (paper section 2; the file is
 * ../shared/data/meerkat_antennas.itrf.txt, from the public simms repository).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FormatError, UserInputError } from '../core/errors';

export interface Antenna {
  name: string;
  /** ITRF (Earth-centred, Earth-fixed) metres. */
  x: number;
  y: number;
  z: number;
  diameterM: number;
}

export interface ArrayLayout {
  antennas: readonly Antenna[];
  /** Geocentric longitude of the array centre, radians (east positive). */
  longitudeRad: number;
  /** Geocentric latitude of the array centre, radians. */
  latitudeRad: number;
  /** Where the layout came from (file path). */
  source: string;
}

/** Environment variable that overrides the antenna file. */
export const ANTENNA_FILE_ENV = 'DEEPSOURCE_ANTENNAS';

/**
 * The default antenna file: $DEEPSOURCE_ANTENNAS, else ../shared/data/meerkat_antennas.itrf.txt
 * next to the repository root (found by walking up from this file, so it works from src/ and dist/).
 */
export function defaultAntennaFile(): string {
  const fromEnv = process.env[ANTENNA_FILE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, '..', 'shared', 'data', 'meerkat_antennas.itrf.txt');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'meerkat_antennas.itrf.txt');
}

/** Parses "X Y Z diameter name [mount]" lines; '#' starts a comment. */
export function parseAntennaTable(text: string, source: string): ArrayLayout {
  const antennas: Antenna[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const [x, y, z, d] = fields.slice(0, 4).map(Number);
    if (fields.length < 4 || ![x, y, z, d].every(Number.isFinite)) {
      throw new FormatError(`${source}:${i + 1}: expected "X Y Z diameter [name]" in metres, got ${JSON.stringify(lines[i].slice(0, 60))}`);
    }
    antennas.push({ name: fields[4] ?? `A${antennas.length}`, x, y, z, diameterM: d });
  }
  if (antennas.length < 2) throw new FormatError(`${source}: need at least 2 antennas, found ${antennas.length}`);
  let sx = 0, sy = 0, sz = 0;
  for (const a of antennas) {
    sx += a.x;
    sy += a.y;
    sz += a.z;
  }
  sx /= antennas.length;
  sy /= antennas.length;
  sz /= antennas.length;
  return {
    antennas,
    longitudeRad: Math.atan2(sy, sx),
    latitudeRad: Math.atan2(sz, Math.hypot(sx, sy)),
    source,
  };
}

export function loadArrayLayout(file: string = defaultAntennaFile()): ArrayLayout {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserInputError(`cannot read antenna file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (set --antennas or $${ANTENNA_FILE_ENV})`, { cause: err });
  }
  return parseAntennaTable(text, file);
}
