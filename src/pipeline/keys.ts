/**
 * Object keys derived from untrusted names (issue 6, security). An image id comes from a file or
 * object name that anyone who can upload may choose, so it is reduced to [A-Za-z0-9._-], may not
 * start or end with '.', and is capped in length; a name that had to change gets a short hash of the
 * original, so two different names never collide. A crafted name ('../../x', 'a/b', '%2e%2e')
 * can therefore never leave the prefix it is placed under.
 */
import { createHash } from 'node:crypto';
import { UserInputError } from '../core/errors';

// Starts and ends with a letter, digit, '_' or '-': no leading dot (hidden, '..') and no trailing
// dot (so appending '.parquet' can never form '..').
const SAFE = /^[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,118}[A-Za-z0-9_-])?$/;

/** A safe single path segment for `name`. */
export function safeSegment(name: string): string {
  if (SAFE.test(name) && !name.includes('..')) return name;
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/\.{2,}/g, '_').replace(/^[._]+/, '').slice(0, 100).replace(/\.+$/, '');
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 10);
  return `${cleaned || 'x'}-${hash}`;
}

/** Image id from an object key: its base name without .fits/.fit/.fts(.gz), made safe. */
export function imageIdFromKey(key: string): string {
  const base = key.split('/').pop() ?? key;
  return safeSegment(base.replace(/\.gz$/i, '').replace(/\.(fits|fit|fts)$/i, ''));
}

/** Joins a prefix and safe segments into a key; the prefix itself must be clean. */
export function joinKey(prefix: string, ...segments: string[]): string {
  const clean = prefix.replace(/^\/+|\/+$/g, '');
  if (clean.split('/').some((s) => s === '..' || s === '.')) throw new UserInputError(`key prefix ${JSON.stringify(prefix)} must not contain '.' or '..' segments`);
  for (const s of segments) {
    if (!SAFE.test(s) || s.includes('..')) throw new UserInputError(`key segment ${JSON.stringify(s)} is not safe (use safeSegment)`);
  }
  return [clean, ...segments].filter((s) => s !== '').join('/');
}

/** Where a run's outputs go under the output prefix. */
/**
 * A short tag of the source object's version (its etag). Tile keys carry it, so tiles computed from
 * an earlier version of a re-ingested image are never mixed with the current ones.
 */
export function sourceVersion(etag: string): string {
  return 'v' + createHash('sha256').update(etag, 'utf8').digest('hex').slice(0, 12);
}

export interface OutputLayout {
  tileData(imageId: string, tileIndex: number, version: string): string;
  tileMeta(imageId: string, tileIndex: number, version: string): string;
  tilePrefix(imageId: string): string;
  catalogueParquet(imageId: string): string;
  catalogueArrow(imageId: string): string;
  tileMetrics(imageId: string): string;
}

export function outputLayout(prefix: string, runId: string): OutputLayout {
  const run = safeSegment(runId);
  const tileName = (i: number): string => `tile-${String(i).padStart(5, '0')}`;
  return {
    tileData: (id, i, version) => joinKey(prefix, run, 'tiles', safeSegment(id), `${tileName(i)}.${safeSegment(version)}.f32`),
    tileMeta: (id, i, version) => joinKey(prefix, run, 'tiles', safeSegment(id), `${tileName(i)}.${safeSegment(version)}.json`),
    tilePrefix: (id) => joinKey(prefix, run, 'tiles', safeSegment(id)) + '/',
    catalogueParquet: (id) => joinKey(prefix, run, 'catalogues', `${safeSegment(id)}.parquet`),
    catalogueArrow: (id) => joinKey(prefix, run, 'catalogues', `${safeSegment(id)}.arrow`),
    tileMetrics: (id) => joinKey(prefix, run, 'metrics', `${safeSegment(id)}.tiles.parquet`),
  };
}
