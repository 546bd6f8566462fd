/**
 * Provenance metadata carried by every catalogue format (CONTRACT.md: model name and version,
 * TBD parameters, the noise estimate used, software version; issue 7: input image name and checksum).
 * Stored as flat string key/values under the `deepsource.` prefix so that Parquet key-value
 * metadata, FITS header cards, VOTable INFO elements and CSV comments all carry the same thing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type NoiseEstimator = 'border-std' | 'mad-local-rms' | 'mad-global' | string;

export interface Provenance {
  softwareVersion?: string;
  modelName?: string;
  modelVersion?: string;
  /** Thresholded blob detection parameters (paper section 3.2), e.g. {delta_max, a_min, threshold}. */
  tbd?: Record<string, number | string | boolean>;
  /** The noise estimator (CONTRACT.md: border std for simulations, MAD local rms for real images). */
  noiseEstimator?: NoiseEstimator;
  /** The global noise value in image units (Jy/beam), when one number describes it. */
  noiseValue?: number;
  imageName?: string;
  /** SHA-256 of the input image file, hex. */
  imageSha256?: string;
  /** Restoring beam sqrt(BMAJ*BMIN) in arcsec (paper eq. 1); sizes region circles. */
  beamArcsec?: number;
  /** Anything else, stored under the given key verbatim. */
  extra?: Record<string, string>;
}

export const META = Object.freeze({
  catalogue: 'deepsource.catalogue',
  softwareVersion: 'deepsource.software_version',
  modelName: 'deepsource.model_name',
  modelVersion: 'deepsource.model_version',
  tbd: 'deepsource.tbd_parameters',
  noiseEstimator: 'deepsource.noise_estimator',
  noiseValue: 'deepsource.noise_value',
  imageName: 'deepsource.image_name',
  imageSha256: 'deepsource.image_sha256',
  beamArcsec: 'deepsource.beam_arcsec',
  columns: 'deepsource.columns',
});

let cachedVersion: string | undefined;

/** The package version from package.json (found from src/ or dist/). */
export function softwareVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'deepsource-ts' && pkg.version) return (cachedVersion = `deepsource-ts ${pkg.version}`);
    } catch {
      // not here; go up
    }
    dir = path.dirname(dir);
  }
  return (cachedVersion = 'deepsource-ts unknown');
}

export function provenanceMetadata(kind: 'truth' | 'detection', p: Provenance): Record<string, string> {
  const m: Record<string, string> = {
    [META.catalogue]: kind,
    [META.softwareVersion]: p.softwareVersion ?? softwareVersion(),
  };
  if (p.modelName !== undefined) m[META.modelName] = p.modelName;
  if (p.modelVersion !== undefined) m[META.modelVersion] = p.modelVersion;
  if (p.tbd !== undefined) m[META.tbd] = JSON.stringify(p.tbd);
  if (p.noiseEstimator !== undefined) m[META.noiseEstimator] = p.noiseEstimator;
  if (p.noiseValue !== undefined) m[META.noiseValue] = String(p.noiseValue);
  if (p.imageName !== undefined) m[META.imageName] = p.imageName;
  if (p.imageSha256 !== undefined) m[META.imageSha256] = p.imageSha256;
  if (p.beamArcsec !== undefined) m[META.beamArcsec] = String(p.beamArcsec);
  if (p.extra) Object.assign(m, p.extra);
  return m;
}

/** SHA-256 of a file, hex, streamed (images can be large). */
export async function fileSha256(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
