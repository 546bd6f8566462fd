/**
 * ColumnTable <-> apache-arrow Table. Typed-array columns map straight onto Arrow buffers
 * (STYLE.md, apache-arrow anchor), so numeric columns are not copied. Units, descriptions and UCDs
 * travel as Arrow field metadata (`unit`, `description`, `ucd`); table metadata as schema metadata,
 * plus one JSON entry `deepsource.columns` so readers that only see key-value metadata
 * (DuckDB's parquet_kv_metadata) still get the units.
 */
import {
  DataType,
  RecordBatch,
  Struct,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Schema,
  Table,
  Type,
  Uint8,
  Utf8,
  makeData,
  type Data,
  type Vector,
} from 'apache-arrow';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { META } from './provenance';

export function columnsMetadataJson(table: ColumnTable): string {
  const info: Record<string, ColumnInfo> = {};
  for (const name of Object.keys(table.columns)) {
    const i = table.info[name] ?? {};
    info[name] = { unit: i.unit ?? '', description: i.description ?? '', ucd: i.ucd ?? '' };
  }
  return JSON.stringify(info);
}

/** The table metadata plus `deepsource.columns`, as written into every format. */
export function fullMetadata(table: ColumnTable): Map<string, string> {
  const m = new Map<string, string>(Object.entries(table.metadata));
  m.set(META.columns, columnsMetadataJson(table));
  return m;
}

export function toArrowTable(table: ColumnTable): Table {
  const n = lengthOf(table);
  const fields: Field[] = [];
  const datas: Data[] = [];
  // apache-arrow's IPC writer emits a broken stream when two columns share one ArrayBuffer
  // (parquet-wasm then fails with "failed to fill whole buffer"): copy a column whose buffer
  // another column already uses.
  const buffers = new Set<ArrayBufferLike>();
  for (const [name, given] of Object.entries(table.columns)) {
    let column = given;
    if (!Array.isArray(column)) {
      if (buffers.has(column.buffer)) column = column.slice() as typeof column;
      buffers.add(column.buffer);
    }
    const info = table.info[name] ?? {};
    const fieldMeta = new Map<string, string>();
    if (info.unit !== undefined) fieldMeta.set('unit', info.unit);
    if (info.description !== undefined) fieldMeta.set('description', info.description);
    if (info.ucd !== undefined) fieldMeta.set('ucd', info.ucd);
    const data = columnToData(column);
    fields.push(new Field(name, data.type, false, fieldMeta));
    datas.push(data);
  }
  const schema = new Schema(fields, fullMetadata(table));
  if (fields.length === 0) return new Table(schema);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children: datas });
  return new Table([new RecordBatch(schema, struct)]);
}

function columnToData(column: Column): Data {
  if (Array.isArray(column)) return stringsToData(column);
  if (column instanceof Float64Array) return makeData({ type: new Float64(), length: column.length, data: column });
  if (column instanceof Float32Array) return makeData({ type: new Float32(), length: column.length, data: column });
  if (column instanceof Int32Array) return makeData({ type: new Int32(), length: column.length, data: column });
  if (column instanceof BigInt64Array) return makeData({ type: new Int64(), length: column.length, data: column });
  return makeData({ type: new Uint8(), length: column.length, data: column });
}

/** Builds a Utf8 column in one pass: offsets plus one byte buffer (faster than the Arrow builder). */
function stringsToData(values: readonly string[]): Data<Utf8> {
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    total += Buffer.byteLength(values[i], 'utf8');
    offsets[i + 1] = total;
  }
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < values.length; i++) bytes.write(values[i], offsets[i], 'utf8');
  return makeData({ type: new Utf8(), length: values.length, valueOffsets: offsets, data: new Uint8Array(bytes.buffer, bytes.byteOffset, total) });
}

export function fromArrowTable(arrow: Table): ColumnTable {
  const columns: Record<string, Column> = {};
  const info: Record<string, ColumnInfo> = {};
  const metadata: Record<string, string> = {};
  let columnsJson: Record<string, ColumnInfo> = {};
  for (const [k, v] of arrow.schema.metadata) {
    if (k === META.columns) {
      try {
        columnsJson = JSON.parse(v) as Record<string, ColumnInfo>;
      } catch {
        // A foreign or damaged entry; field metadata still carries the units.
      }
    } else if (k !== 'ARROW:schema' && !k.startsWith('pandas')) {
      metadata[k] = v;
    }
  }
  for (const field of arrow.schema.fields) {
    const vector = arrow.getChild(field.name) as Vector;
    columns[field.name] = vectorToColumn(vector, field.type);
    const fromJson = columnsJson[field.name] ?? {};
    const unit = field.metadata.get('unit') ?? fromJson.unit;
    const description = field.metadata.get('description') ?? fromJson.description;
    const ucd = field.metadata.get('ucd') ?? fromJson.ucd;
    const i: ColumnInfo = {};
    if (unit !== undefined) i.unit = unit;
    if (description !== undefined) i.description = description;
    if (ucd !== undefined) i.ucd = ucd;
    info[field.name] = i;
  }
  return { columns, info, metadata };
}

function vectorToColumn(vector: Vector, type: DataType): Column {
  const n = vector.length;
  switch (type.typeId) {
    case Type.Float: {
      const bits = (type as Float64).precision;
      const out = bits === 2 ? new Float64Array(n) : new Float32Array(n);
      // Chunks without nulls are copied wholesale; nulls become NaN.
      copyChunks(vector, out, (data, i) => Number(data.values[data.offset + i]), NaN);
      return out;
    }
    case Type.Int: {
      const int = type as unknown as { bitWidth: number; isSigned: boolean };
      if (int.bitWidth === 64 || (int.bitWidth === 32 && !int.isSigned)) {
        const out = new BigInt64Array(n);
        copyChunks(vector, out, (data, i) => BigInt(data.values[data.offset + i]), 0n);
        return out;
      }
      const out = int.bitWidth === 8 && !int.isSigned ? new Uint8Array(n) : new Int32Array(n);
      copyChunks(vector, out, (data, i) => Number(data.values[data.offset + i]), 0);
      return out;
    }
    case Type.Bool: {
      const out = new Uint8Array(n);
      let i = 0;
      for (const v of vector) out[i++] = v ? 1 : 0;
      return out;
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const out = new Array<string>(n);
      let off = 0;
      for (const data of vector.data) {
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
        const nulls = data.nullCount > 0;
        const big = offsets instanceof BigInt64Array;
        for (let i = 0; i < data.length; i++) {
          const a = big ? Number(offsets[data.offset + i]) : (offsets[data.offset + i] as number);
          const b = big ? Number(offsets[data.offset + i + 1]) : (offsets[data.offset + i + 1] as number);
          out[off + i] = nulls && !data.getValid(i) ? '' : bytes.toString('utf8', a, b);
        }
        off += data.length;
      }
      return out;
    }
    default: {
      const out = new Array<string>(n);
      let i = 0;
      for (const v of vector) out[i++] = v === null || v === undefined ? '' : String(v);
      return out;
    }
  }
}

type NumericOut = Float64Array | Float32Array | Int32Array | Uint8Array | BigInt64Array;

/** Copies a numeric vector chunk by chunk: a straight typed-array copy when the types match and there are no nulls. */
function copyChunks<T extends number | bigint>(vector: Vector, out: NumericOut, get: (data: Data, i: number) => T, nullValue: T): void {
  let off = 0;
  for (const data of vector.data) {
    const values = data.values as ArrayLike<number | bigint> & { subarray(a: number, b: number): NumericOut; constructor: unknown };
    const nulls = data.nullCount > 0;
    if (!nulls && values.constructor === out.constructor) {
      (out as Float64Array).set(values.subarray(data.offset, data.offset + data.length) as Float64Array, off);
    } else {
      for (let i = 0; i < data.length; i++) (out as unknown as T[])[off + i] = nulls && !data.getValid(i) ? nullValue : get(data, i);
    }
    off += data.length;
  }
}

function lengthOf(table: ColumnTable): number {
  const cols = Object.values(table.columns);
  return cols.length === 0 ? 0 : cols[0].length;
}
