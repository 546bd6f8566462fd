/**
 * writeCatalogue: one entry point for every catalogue format (CONTRACT.md `detect --format`).
 * Checks the table once at the door, encodes, then writes to a temporary name and renames.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UserInputError, describeValue } from '../core/errors';
import type { ColumnTable } from './table';
import { writeFileAtomic } from './atomic';
import { encodeParquet } from './parquet';
import { encodeCsv } from './csv';
import { encodeArrowIpc, type ArrowIpcKind } from './arrow-ipc';
import { encodeFitsTable } from './fits-table';
import { encodeVoTable } from './votable';
import { encodeRegions } from './regions';
import { sortTableBy } from './schema';

export type CatalogueFormat = 'parquet' | 'csv' | 'arrow' | 'fits' | 'votable' | 'reg';

export const CATALOGUE_FORMATS: readonly CatalogueFormat[] = Object.freeze(['parquet', 'csv', 'arrow', 'fits', 'votable', 'reg']);

/** File extension per format (detect --out DIR names files IMAGE.<ext>). */
export const CATALOGUE_EXTENSIONS: Readonly<Record<CatalogueFormat, string>> = Object.freeze({
  parquet: '.parquet',
  csv: '.csv',
  arrow: '.arrow',
  fits: '.fits',
  votable: '.vot',
  reg: '.reg',
});

export interface WriteCatalogueOptions {
  /** Parquet rows per row group (default 131072). */
  rowGroupSize?: number;
  /** Arrow IPC file (default, random access, .arrow) or stream (.arrows). */
  arrowIpc?: ArrowIpcKind;
  /** Region circles: beam FWHM in arcsec (default: metadata deepsource.beam_arcsec, else 5). */
  beamArcsec?: number;
  regionColor?: string;
  /** FITS EXTNAME / VOTable TABLE name. */
  tableName?: string;
  /** Reorder rows by this numeric column before writing, e.g. '_healpix_29' (HATS convention). */
  sortBy?: string;
}

export const DEFAULT_WRITE_CATALOGUE_OPTIONS: Readonly<WriteCatalogueOptions> = Object.freeze({
  rowGroupSize: 131072,
  arrowIpc: 'file',
  tableName: 'CATALOGUE',
});

export function parseCatalogueFormat(value: string, optionName = '--format'): CatalogueFormat {
  const v = value.trim().toLowerCase();
  const aliases: Record<string, CatalogueFormat> = { vot: 'votable', xml: 'votable', fit: 'fits', region: 'reg', ds9: 'reg', ipc: 'arrow', feather: 'arrow' };
  const f = (aliases[v] ?? v) as CatalogueFormat;
  if (!CATALOGUE_FORMATS.includes(f)) throw new UserInputError(`${optionName} must be one of ${CATALOGUE_FORMATS.join('|')}, got ${describeValue(value)}`);
  return f;
}

/** Guesses the format from a file name (.parquet, .csv, .arrow/.arrows/.feather, .fits/.fit, .vot/.xml, .reg). */
export function formatFromPath(file: string): CatalogueFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  const map: Record<string, CatalogueFormat> = {
    '.parquet': 'parquet', '.pq': 'parquet', '.csv': 'csv', '.arrow': 'arrow', '.arrows': 'arrow', '.feather': 'arrow', '.ipc': 'arrow',
    '.fits': 'fits', '.fit': 'fits', '.fts': 'fits', '.vot': 'votable', '.xml': 'votable', '.votable': 'votable', '.reg': 'reg',
  };
  return map[ext];
}

/** Checks a table at the door: equal column lengths, known column types, info for each column. */
export function validateTable(table: ColumnTable): number {
  let n: number | undefined;
  let first = '';
  for (const [name, col] of Object.entries(table.columns)) {
    if (name === '') throw new UserInputError('catalogue column names must not be empty');
    const ok = Array.isArray(col) || col instanceof Float64Array || col instanceof Float32Array || col instanceof Int32Array || col instanceof Uint8Array || col instanceof BigInt64Array;
    if (!ok) throw new UserInputError(`catalogue column ${name} must be a typed array or string[], got ${Object.prototype.toString.call(col)}`);
    if (n === undefined) {
      n = col.length;
      first = name;
    } else if (col.length !== n) {
      throw new UserInputError(`catalogue column ${name} has ${col.length} rows, expected ${n} like ${first}`);
    }
  }
  for (const [k, v] of Object.entries(table.metadata)) {
    if (typeof v !== 'string') throw new UserInputError(`catalogue metadata ${k} must be a string, got ${describeValue(v)}`);
  }
  return n ?? 0;
}

/** Fills defaults and checks every option once (STYLE.md habit 11). */
export function resolveWriteOptions(options: WriteCatalogueOptions = {}): WriteCatalogueOptions {
  const o = { ...DEFAULT_WRITE_CATALOGUE_OPTIONS, ...options };
  if (!Number.isInteger(o.rowGroupSize) || o.rowGroupSize! < 1) throw new UserInputError(`rowGroupSize must be an integer >= 1, got ${describeValue(o.rowGroupSize)}`);
  if (o.arrowIpc !== 'file' && o.arrowIpc !== 'stream') throw new UserInputError(`arrowIpc must be 'file' or 'stream', got ${describeValue(o.arrowIpc)}`);
  if (o.beamArcsec !== undefined && !(o.beamArcsec > 0 && Number.isFinite(o.beamArcsec))) throw new UserInputError(`beamArcsec must be a finite number > 0, got ${describeValue(o.beamArcsec)}`);
  if (typeof o.tableName !== 'string' || o.tableName === '') throw new UserInputError(`tableName must be a non-empty string, got ${describeValue(o.tableName)}`);
  return o;
}

/** Encodes a catalogue in memory (used by writeCatalogue and by the pipeline's object-store sink). */
export function encodeCatalogue(table: ColumnTable, format: CatalogueFormat, options: WriteCatalogueOptions = {}): Uint8Array | string[] {
  validateTable(table);
  const o = resolveWriteOptions(options);
  if (o.sortBy !== undefined) table = sortTableBy(table, o.sortBy);
  switch (format) {
    case 'parquet': return encodeParquet(table, { rowGroupSize: o.rowGroupSize });
    case 'csv': return encodeCsv(table);
    case 'arrow': return encodeArrowIpc(table, o.arrowIpc);
    case 'fits': return encodeFitsTable(table, o.tableName);
    case 'votable': return encodeVoTable(table, o.tableName);
    case 'reg': return encodeRegions(table, { beamArcsec: o.beamArcsec, color: o.regionColor });
    default: throw new UserInputError(`unknown catalogue format ${describeValue(format)}; expected ${CATALOGUE_FORMATS.join('|')}`);
  }
}

/** Writes a catalogue atomically (temporary name, then rename). The directory must exist. */
export async function writeCatalogue(file: string, table: ColumnTable, format: CatalogueFormat, options: WriteCatalogueOptions = {}): Promise<void> {
  const encoded = encodeCatalogue(table, format, options);
  try {
    await fs.stat(path.dirname(path.resolve(file)));
  } catch {
    throw new UserInputError(`cannot write catalogue ${file}: directory ${path.dirname(path.resolve(file))} does not exist`);
  }
  await writeFileAtomic(file, encoded);
}
