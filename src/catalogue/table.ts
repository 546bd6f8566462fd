/**
 * Catalogues are columns (STYLE.md habit 5): typed arrays with units and descriptions, plus
 * table-level metadata (provenance). Writers in this folder read a ColumnTable; the Arrow schema
 * is derived from it (arrow.ts).
 */
export type Column = Float64Array | Float32Array | Int32Array | Uint8Array | BigInt64Array | string[];

export interface ColumnInfo {
  unit?: string;
  description?: string;
  /** IVOA UCD for VOTable, e.g. 'pos.eq.ra;meta.main'. */
  ucd?: string;
}

export interface ColumnTable {
  /** Column order is the insertion order of this record. All columns have the same length. */
  readonly columns: Record<string, Column>;
  readonly info: Record<string, ColumnInfo>;
  /** Table metadata: provenance, model, TBD parameters, noise estimate ... (string values). */
  readonly metadata: Record<string, string>;
}

export function tableLength(table: ColumnTable): number {
  const first = Object.values(table.columns)[0];
  return first === undefined ? 0 : first.length;
}
