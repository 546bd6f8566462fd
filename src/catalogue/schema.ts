/**
 * Column definitions for the two catalogues of CONTRACT.md (truth and detection), with units,
 * descriptions and IVOA UCDs, plus builders that turn plain per-column arrays into a conformant
 * ColumnTable. The simulator and the detector build their tables here, so every writer sees the
 * same names, types and units.
 */
import { UserInputError, describeValue } from '../core/errors';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { healpixNested29, iauName, sourceId } from './ids';
import { provenanceMetadata, type Provenance } from './provenance';

export type ColumnType = 'int32' | 'int64' | 'float32' | 'float64' | 'uint8' | 'string';

export interface ColumnSpec extends ColumnInfo {
  name: string;
  type: ColumnType;
  unit: string;
  description: string;
  ucd: string;
}

/**
 * Units are VOUnit/FITS strings that astropy, TOPCAT and DS9 parse: 'deg', 'pix', 'Jy', 'Jy/beam'.
 * A dimensionless column has unit ''.
 */
export const TRUTH_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'id', type: 'int32', unit: '', description: 'Source index within the simulated image', ucd: 'meta.id;meta.main' },
  { name: 'x', type: 'float64', unit: 'pix', description: 'Pixel x along NAXIS1, 0-based, 0 = centre of the first pixel', ucd: 'pos.cartesian.x;instr.pixel' },
  { name: 'y', type: 'float64', unit: 'pix', description: 'Pixel y along NAXIS2, 0-based, 0 = centre of the first pixel', ucd: 'pos.cartesian.y;instr.pixel' },
  { name: 'ra_deg', type: 'float64', unit: 'deg', description: 'Right ascension, ICRS', ucd: 'pos.eq.ra;meta.main' },
  { name: 'dec_deg', type: 'float64', unit: 'deg', description: 'Declination, ICRS', ucd: 'pos.eq.dec;meta.main' },
  { name: 'flux_jy', type: 'float64', unit: 'Jy', description: 'True flux density of the point source', ucd: 'phot.flux.density;em.radio' },
  { name: 'snr', type: 'float64', unit: '', description: 'Image value at the source over the image noise (paper section 2)', ucd: 'stat.snr' },
]);

/**
 * Bits of the detection `flags` column (int32). A clean detection has flags = 0.
 * Detectors set the bits they can establish; a bit never set means "not known to apply".
 */
export const DETECTION_FLAGS = Object.freeze({
  /** The blob touches the image edge or a blanked (NaN) region, so its position may be biased. */
  EDGE: 1 << 0,
  /** The blob lies in a tile overlap and was kept by the stitcher after de-duplication. */
  TILE_OVERLAP: 1 << 1,
  /** The blob reached the TBD maximum area and may be a blend of sources. */
  BLEND: 1 << 2,
  /** The local rms could not be estimated locally; the global noise was used instead. */
  GLOBAL_RMS: 1 << 3,
  /** The peak pixel is saturated or the image value at the position is NaN. */
  BAD_PIXEL: 1 << 4,
  /** The position falls outside the image after centring (mean/centroid moved it off). */
  CENTRE_OUTSIDE: 1 << 5,
});

export const DETECTION_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'source_id', type: 'string', unit: '', description: 'Source identifier, stable and unique across a survey (image id + HEALPix order-29 cell)', ucd: 'meta.id;meta.main' },
  { name: 'name', type: 'string', unit: '', description: 'IAU-style name DS JHHMMSS.ss+DDMMSS.s (truncated coordinates)', ucd: 'meta.id' },
  { name: 'image_id', type: 'string', unit: '', description: 'Identifier of the input image', ucd: 'meta.id;obs.image' },
  { name: 'x', type: 'float64', unit: 'pix', description: 'Pixel x along NAXIS1, 0-based, 0 = centre of the first pixel', ucd: 'pos.cartesian.x;instr.pixel' },
  { name: 'y', type: 'float64', unit: 'pix', description: 'Pixel y along NAXIS2, 0-based, 0 = centre of the first pixel', ucd: 'pos.cartesian.y;instr.pixel' },
  { name: 'ra_deg', type: 'float64', unit: 'deg', description: 'Right ascension, ICRS', ucd: 'pos.eq.ra;meta.main' },
  { name: 'dec_deg', type: 'float64', unit: 'deg', description: 'Declination, ICRS', ucd: 'pos.eq.dec;meta.main' },
  { name: 'peak_flux', type: 'float64', unit: 'Jy/beam', description: 'Image value at the position', ucd: 'phot.flux.density;stat.max' },
  { name: 'local_rms', type: 'float64', unit: 'Jy/beam', description: 'Image noise at the position (estimator in the table metadata)', ucd: 'stat.stdev;phot.flux.density' },
  { name: 'snr', type: 'float64', unit: '', description: 'peak_flux / local_rms (paper section 2)', ucd: 'stat.snr' },
  { name: 'cnn_peak', type: 'float32', unit: '', description: 'CNN output (demand map) at the position', ucd: 'stat.value' },
  { name: 'area_px', type: 'int32', unit: 'pix', description: 'Blob area in pixels above the TBD threshold', ucd: 'phys.area;instr.pixel' },
  { name: 'tile_id', type: 'int32', unit: '', description: 'Index of the tile the detection came from (-1 if not tiled)', ucd: 'meta.id' },
  { name: 'flags', type: 'int32', unit: '', description: 'Bit field: 1 edge, 2 tile overlap, 4 blend, 8 global rms, 16 bad pixel, 32 centre outside', ucd: 'meta.code' },
  { name: '_healpix_29', type: 'int64', unit: '', description: 'HEALPix nested index at order 29 (HATS/LSDB convention)', ucd: 'pos.healpix' },
]);

/** Input of buildTruthTable: one array per column, all the same length. */
export interface TruthColumns {
  id?: ArrayLike<number>;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  ra_deg: ArrayLike<number>;
  dec_deg: ArrayLike<number>;
  flux_jy: ArrayLike<number>;
  snr: ArrayLike<number>;
}

/** Input of buildDetectionTable. `source_id`, `name` and `_healpix_29` are derived when absent. */
export interface DetectionColumns {
  /** One image id for all rows, or one per row (pipeline assembly over many images). */
  image_id: string | readonly string[];
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  ra_deg: ArrayLike<number>;
  dec_deg: ArrayLike<number>;
  peak_flux: ArrayLike<number>;
  local_rms: ArrayLike<number>;
  snr?: ArrayLike<number>;
  cnn_peak: ArrayLike<number>;
  area_px: ArrayLike<number>;
  tile_id?: ArrayLike<number>;
  flags?: ArrayLike<number>;
  source_id?: readonly string[];
  name?: readonly string[];
  _healpix_29?: BigInt64Array;
}

export function buildTruthTable(columns: TruthColumns, provenance: Provenance = {}): ColumnTable {
  const n = commonLength(columns as unknown as Record<string, ArrayLike<unknown> | string | undefined>, 'truth catalogue');
  const id = columns.id ?? Int32Array.from({ length: n }, (_, i) => i);
  const data: Record<string, ArrayLike<number>> = { ...columns, id };
  const out: Record<string, Column> = {};
  for (const spec of TRUTH_COLUMNS) out[spec.name] = toTyped(data[spec.name], spec.type);
  return { columns: out, info: infoOf(TRUTH_COLUMNS), metadata: provenanceMetadata('truth', provenance) };
}

/**
 * Builds a detection catalogue. Inputs are not modified; a typed array that already has the
 * schema's type becomes the column as is (no copy), anything else is converted.
 */
export function buildDetectionTable(columns: DetectionColumns, provenance: Provenance = {}): ColumnTable {
  const n = commonLength(columns as unknown as Record<string, ArrayLike<unknown> | string | undefined>, 'detection catalogue');
  const imageIds = typeof columns.image_id === 'string' ? new Array<string>(n).fill(columns.image_id) : [...columns.image_id];
  const ra = Float64Array.from(columns.ra_deg);
  const dec = Float64Array.from(columns.dec_deg);
  let hpx = columns._healpix_29;
  if (hpx === undefined) {
    hpx = new BigInt64Array(n);
    for (let i = 0; i < n; i++) hpx[i] = Number.isFinite(ra[i]) && Number.isFinite(dec[i]) ? healpixNested29(ra[i], dec[i]) : -1n;
  }
  // Without a sky position (no WCS), the pixel position keeps ids unique within the image.
  const sourceIds = columns.source_id
    ? [...columns.source_id]
    : imageIds.map((img, i) =>
        Number.isFinite(ra[i]) && Number.isFinite(dec[i]) ? sourceId(img, ra[i], dec[i]) : `${img}:pix:${Number(columns.x[i]).toFixed(3)},${Number(columns.y[i]).toFixed(3)}`,
      );
  const names = columns.name ? [...columns.name] : Array.from({ length: n }, (_, i) => (Number.isFinite(ra[i]) && Number.isFinite(dec[i]) ? iauName(ra[i], dec[i]) : ''));
  const peak = Float64Array.from(columns.peak_flux);
  const rms = Float64Array.from(columns.local_rms);
  const snr = columns.snr ? Float64Array.from(columns.snr) : peak.map((p, i) => p / rms[i]);
  const values: Record<string, ArrayLike<number> | readonly string[] | BigInt64Array> = {
    source_id: sourceIds,
    name: names,
    image_id: imageIds,
    x: columns.x,
    y: columns.y,
    ra_deg: ra,
    dec_deg: dec,
    peak_flux: peak,
    local_rms: rms,
    snr,
    cnn_peak: columns.cnn_peak,
    area_px: columns.area_px,
    tile_id: columns.tile_id ?? new Int32Array(n).fill(-1),
    flags: columns.flags ?? new Int32Array(n),
    _healpix_29: hpx,
  };
  const out: Record<string, Column> = {};
  for (const spec of DETECTION_COLUMNS) out[spec.name] = toTyped(values[spec.name], spec.type);
  return { columns: out, info: infoOf(DETECTION_COLUMNS), metadata: provenanceMetadata('detection', provenance) };
}

/** An empty detection catalogue with the full schema (nothing found is a result, STYLE.md habit 4). */
export function emptyDetectionTable(provenance: Provenance = {}): ColumnTable {
  return buildDetectionTable(
    { image_id: [], x: [], y: [], ra_deg: [], dec_deg: [], peak_flux: [], local_rms: [], cnn_peak: [], area_px: [] },
    provenance,
  );
}

/** Concatenates tables with the same columns (e.g. per-image catalogues into a survey catalogue). */
export function concatTables(tables: readonly ColumnTable[], metadata?: Record<string, string>): ColumnTable {
  if (tables.length === 0) throw new UserInputError('concatTables needs at least one table, got 0');
  const first = tables[0];
  const names = Object.keys(first.columns);
  for (const t of tables) {
    const these = Object.keys(t.columns);
    if (these.join('\u0000') !== names.join('\u0000')) {
      throw new UserInputError(`concatTables: column names differ: expected ${describeValue(names)}, got ${describeValue(these)}`);
    }
  }
  const out: Record<string, Column> = {};
  for (const name of names) {
    const parts = tables.map((t) => t.columns[name]);
    const head = parts[0];
    if (Array.isArray(head)) {
      out[name] = ([] as string[]).concat(...(parts as string[][]));
    } else {
      const total = parts.reduce((s, p) => s + p.length, 0);
      const Ctor = (head as Exclude<Column, string[]>).constructor as new (n: number) => Exclude<Column, string[]>;
      const arr = new Ctor(total);
      let off = 0;
      for (const p of parts) {
        (arr as Float64Array).set(p as Float64Array, off);
        off += p.length;
      }
      out[name] = arr;
    }
  }
  return { columns: out, info: { ...first.info }, metadata: metadata ?? { ...first.metadata } };
}

/**
 * Rows reordered by one numeric column, ascending (stable; NaN last). HATS/LSDB partitions are
 * sorted by `_healpix_29`, which lets Parquet row-group statistics prune sky regions.
 */
export function sortTableBy(table: ColumnTable, column: string): ColumnTable {
  const key = table.columns[column];
  if (key === undefined) throw new UserInputError(`cannot sort by ${column}: no such column (have ${Object.keys(table.columns).join(', ')})`);
  if (Array.isArray(key)) throw new UserInputError(`cannot sort by ${column}: only numeric columns can be sort keys`);
  const n = key.length;
  const order = Array.from({ length: n }, (_, i) => i);
  if (key instanceof BigInt64Array) order.sort((a, b) => (key[a] < key[b] ? -1 : key[a] > key[b] ? 1 : a - b));
  else {
    const k = key as Float64Array;
    order.sort((a, b) => {
      const x = k[a];
      const y = k[b];
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  }
  const columns: Record<string, Column> = {};
  for (const [name, col] of Object.entries(table.columns)) {
    if (Array.isArray(col)) columns[name] = order.map((i) => col[i]);
    else {
      const out = allocColumn(columnTypeOf(col), n) as Exclude<Column, string[]>;
      for (let i = 0; i < n; i++) (out as Float64Array)[i] = (col as Float64Array)[order[i]];
      columns[name] = out;
    }
  }
  return { columns, info: table.info, metadata: table.metadata };
}

export function specsFor(kind: 'truth' | 'detection'): readonly ColumnSpec[] {
  return kind === 'truth' ? TRUTH_COLUMNS : DETECTION_COLUMNS;
}

/** The column type of an in-memory column. */
export function columnTypeOf(column: Column): ColumnType {
  if (Array.isArray(column)) return 'string';
  if (column instanceof Float64Array) return 'float64';
  if (column instanceof Float32Array) return 'float32';
  if (column instanceof Int32Array) return 'int32';
  if (column instanceof BigInt64Array) return 'int64';
  return 'uint8';
}

export function allocColumn(type: ColumnType, n: number): Column {
  switch (type) {
    case 'float64': return new Float64Array(n);
    case 'float32': return new Float32Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'string': return new Array<string>(n).fill('');
  }
}

function infoOf(specs: readonly ColumnSpec[]): Record<string, ColumnInfo> {
  const info: Record<string, ColumnInfo> = {};
  for (const s of specs) info[s.name] = { unit: s.unit, description: s.description, ucd: s.ucd };
  return info;
}

function commonLength(columns: Record<string, ArrayLike<unknown> | string | undefined>, what: string): number {
  let n: number | undefined;
  let firstName = '';
  for (const [name, col] of Object.entries(columns)) {
    if (col === undefined || typeof col === 'string') continue;
    if (n === undefined) {
      n = col.length;
      firstName = name;
    } else if (col.length !== n) {
      throw new UserInputError(`${what}: column ${name} has ${col.length} rows, expected ${n} like ${firstName}`);
    }
  }
  return n ?? 0;
}

function toTyped(values: ArrayLike<number> | readonly string[] | BigInt64Array | undefined, type: ColumnType): Column {
  if (values === undefined) throw new UserInputError(`missing column of type ${type}`);
  switch (type) {
    case 'string': return Array.from(values as ArrayLike<string>, (v) => String(v));
    case 'int64': return values instanceof BigInt64Array ? values : BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(Math.trunc(v)));
    case 'float64': return values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>);
    case 'float32': return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    case 'int32': return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    case 'uint8': return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
  }
}
