/**
 * Finds and pairs the files `evaluate`, `tune` and `compare` work on: truth catalogues, detection
 * catalogues and the images (for the beam and pixel scale).
 *
 * Layout (CONTRACT.md, `simulate --out DIR`): DIR/img_000.fits, DIR/img_000.truth.parquet (and
 * .truth.csv). The image id of a file is its name up to the first dot: img_000.truth.parquet,
 * img_000.parquet and img_000.cat.csv all belong to image img_000. A detection catalogue that
 * holds several images is split by its `image_id` column (normalised the same way, so a path or
 * a file name there works too).
 *
 * The table reader is injected (the CLI passes readCatalogue), so pairing rules are testable
 * without files of every format.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Column, ColumnTable } from '../catalogue/table';
import { UserInputError } from '../core/errors';
import { openFits } from '../fits/read';
import { beamFromHeader, beamSizeDeg } from '../fits/beam';
import { Wcs } from '../fits/wcs';
import type { ImageCatalogues } from './metrics';

export type TableReader = (path: string) => Promise<ColumnTable>;

const CATALOGUE_EXTENSIONS = ['.parquet', '.csv', '.arrow'];

/** The image id of a catalogue or image file, or of an image_id value: the base name up to the first dot. */
export function imageIdOf(pathOrId: string): string {
  const base = basename(pathOrId);
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Truth files of a file or a directory, keyed by image id (Parquet preferred over CSV). */
export function findTruthFiles(truth: string): Map<string, string> {
  if (!existsSync(truth)) throw new UserInputError(`--truth: ${truth} does not exist`);
  if (!statSync(truth).isDirectory()) return new Map([[imageIdOf(truth), truth]]);
  const out = new Map<string, string>();
  for (const ext of ['.truth.csv', '.truth.parquet']) {
    for (const name of readdirSync(truth).sort()) if (name.endsWith(ext)) out.set(imageIdOf(name), join(truth, name));
  }
  if (out.size === 0) throw new UserInputError(`--truth: no *.truth.parquet or *.truth.csv files in ${truth}`);
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Detection catalogue files of a file or directory, keyed by image id (Parquet, then Arrow, then CSV). */
export function findCatalogueFiles(catalogue: string): Map<string, string> {
  if (!existsSync(catalogue)) throw new UserInputError(`--catalogue: ${catalogue} does not exist`);
  if (!statSync(catalogue).isDirectory()) return new Map([[imageIdOf(catalogue), catalogue]]);
  const out = new Map<string, string>();
  for (const ext of ['.csv', '.arrow', '.parquet']) {
    for (const name of readdirSync(catalogue).sort()) {
      if (name.endsWith(ext) && !name.includes('.truth.')) out.set(imageIdOf(name), join(catalogue, name));
    }
  }
  if (out.size === 0) throw new UserInputError(`--catalogue: no catalogue files (${CATALOGUE_EXTENSIONS.join(', ')}) in ${catalogue}`);
  return out;
}

/** Rows `indices` of a table, every column (metadata kept). */
export function selectRows(table: ColumnTable, indices: ArrayLike<number>): ColumnTable {
  const columns: Record<string, Column> = {};
  for (const [name, column] of Object.entries(table.columns)) {
    if (Array.isArray(column)) {
      columns[name] = Array.from({ length: indices.length }, (_, k) => column[indices[k]]);
    } else {
      const ctor = column.constructor as new (n: number) => typeof column;
      const out = new ctor(indices.length);
      for (let k = 0; k < indices.length; k++) (out as unknown as number[])[k] = (column as unknown as number[])[indices[k]];
      columns[name] = out;
    }
  }
  return { columns, info: table.info, metadata: table.metadata };
}

/** Splits a catalogue by its image_id column (normalised with imageIdOf). Without the column: undefined. */
export function splitByImageId(table: ColumnTable): Map<string, ColumnTable> | undefined {
  const ids = table.columns.image_id;
  if (ids === undefined || !Array.isArray(ids)) return undefined;
  const groups = new Map<string, number[]>();
  ids.forEach((id, row) => {
    const key = imageIdOf(id);
    const rows = groups.get(key);
    if (rows) rows.push(row);
    else groups.set(key, [row]);
  });
  return new Map([...groups.entries()].map(([id, rows]) => [id, selectRows(table, rows)]));
}

export interface EvaluationInputOptions {
  truth: string;
  catalogue: string;
  /** Directory of the images (beam, pixel scale); default: the truth directory. */
  images?: string;
  /** Beam size in arcsec when there are no images with a beam in their header. */
  beamArcsec?: number;
}

export interface ImageGeometry {
  beamArcsec: number;
  pixelScaleArcsec: number;
  imagePath: string;
}

/** Beam (paper eq. 1) and pixel scale from a FITS header, read without the pixels. */
export async function imageGeometry(path: string): Promise<ImageGeometry> {
  const file = await openFits(path);
  try {
    const beam = beamFromHeader(file.header);
    if (!beam) throw new UserInputError(`${path}: no restoring beam in the header (BMAJ/BMIN); give --beam ARCSEC`);
    const scale = Wcs.fromHeader(file.header, path).pixelScaleDeg();
    return { beamArcsec: beamSizeDeg(beam) * 3600, pixelScaleArcsec: Math.sqrt(scale.x * scale.y) * 3600, imagePath: path };
  } finally {
    await file.close();
  }
}

/** Finds the FITS image of an image id in a directory (img_000.fits, .fit, .fts). */
export function findImage(dir: string, imageId: string): string | undefined {
  for (const ext of ['.fits', '.fit', '.fts']) {
    const path = join(dir, imageId + ext);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * Loads and pairs truth and detection catalogues, with each image's beam, ready for
 * evaluateCatalogues. Every truth file needs a detection catalogue (an empty one is fine).
 */
export async function loadEvaluationInputs(options: EvaluationInputOptions, readTable: TableReader): Promise<ImageCatalogues[]> {
  const truthFiles = findTruthFiles(options.truth);
  const catalogueFiles = findCatalogueFiles(options.catalogue);
  const truthIsFile = !statSync(options.truth).isDirectory();
  const catalogueIsFile = !statSync(options.catalogue).isDirectory();
  const imagesDir = options.images ?? (truthIsFile ? dirname(options.truth) : options.truth);
  if (options.images !== undefined && !(existsSync(options.images) && statSync(options.images).isDirectory())) {
    throw new UserInputError(`--images: ${options.images} is not a directory`);
  }

  // Detection tables per image id. One truth file + one catalogue file pair directly; a single
  // catalogue file against a directory of truths is split by image_id, and an image without rows
  // there is an image where nothing was found.
  const detections = new Map<string, ColumnTable>();
  let emptyDetections: ColumnTable | undefined;
  for (const [id, path] of catalogueFiles) {
    const table = await readTable(path);
    if (truthIsFile && catalogueIsFile) {
      detections.set(imageIdOf(options.truth), table);
    } else if (catalogueIsFile) {
      const split = splitByImageId(table);
      if (!split) throw new UserInputError(`--catalogue: ${path} has no image_id column, so it cannot be matched to the truth files in ${options.truth}`);
      for (const [sid, part] of split) detections.set(sid, part);
      emptyDetections = selectRows(table, []);
    } else {
      detections.set(id, table);
    }
  }

  const out: ImageCatalogues[] = [];
  for (const [id, truthPath] of truthFiles) {
    const det = detections.get(id) ?? emptyDetections;
    if (det === undefined) throw new UserInputError(`--catalogue: no detection catalogue for image ${id} in ${options.catalogue}`);
    const truth = await readTable(truthPath);
    let beamArcsec = options.beamArcsec;
    let pixelScaleArcsec: number | undefined;
    const imagePath = findImage(imagesDir, id);
    if (imagePath) {
      const geometry = await imageGeometry(imagePath);
      beamArcsec = options.beamArcsec ?? geometry.beamArcsec;
      pixelScaleArcsec = geometry.pixelScaleArcsec;
    }
    if (beamArcsec === undefined) {
      throw new UserInputError(`no image ${id}.fits in ${imagesDir} to read the beam from: give --images DIR or --beam ARCSEC`);
    }
    out.push({ imageId: id, truth, detections: det, beamArcsec, pixelScaleArcsec });
  }
  return out;
}

