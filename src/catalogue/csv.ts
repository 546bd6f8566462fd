/**
 * CSV as ECSV 1.0 (Enhanced Character Separated Values, the astropy APE 6 standard): an RFC 4180
 * body under a '#'-commented YAML header that names every column's datatype, unit, description
 * and UCD, and the table metadata (provenance). astropy (`format='ascii.ecsv'`) and TOPCAT read the
 * units from it; pandas (`comment='#'`), DuckDB and spreadsheets skip it as comments:
 *
 *   # %ECSV 1.0
 *   # ---
 *   # delimiter: ','
 *   # datatype:
 *   # - {name: "ra_deg", unit: "deg", datatype: "float64", description: "...", meta: {ucd: "pos.eq.ra;meta.main"}}
 *   # meta: {"deepsource.model_name": "natural", ...}
 *   # schema: astropy-2.0
 *   source_id,name,...
 *
 * YAML values are written as JSON strings, which are valid YAML double-quoted scalars, so newlines,
 * quotes and non-ASCII in metadata stay unambiguous. Non-finite floats are nan, inf and -inf; empty
 * strings are written "" (an unquoted empty field means a missing value in ECSV).
 */
import { FormatError } from '../core/errors';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { allocColumn, columnTypeOf, type ColumnType } from './schema';
import YAML from 'yaml';
import { META } from './provenance';

export function encodeCsv(table: ColumnTable): string[] {
  const names = Object.keys(table.columns);
  const cols = names.map((n) => table.columns[n]);
  const n = cols.length === 0 ? 0 : cols[0].length;
  const head: string[] = ['# %ECSV 1.0', '# ---', "# delimiter: ','", '# datatype:'];
  if (names.length === 0) head[head.length - 1] = '# datatype: []';
  for (let c = 0; c < names.length; c++) {
    const info = table.info[names[c]] ?? {};
    const fields = [`name: ${yamlString(names[c])}`];
    if (info.unit) fields.push(`unit: ${yamlString(info.unit)}`);
    fields.push(`datatype: ${yamlString(columnTypeOf(cols[c]))}`);
    if (info.description) fields.push(`description: ${yamlString(info.description)}`);
    if (info.ucd) fields.push(`meta: {ucd: ${yamlString(info.ucd)}}`);
    head.push(`# - {${fields.join(', ')}}`);
  }
  const meta = Object.entries(table.metadata).map(([k, v]) => `${yamlString(k)}: ${yamlString(v)}`);
  head.push(`# meta: {${meta.join(', ')}}`);
  head.push('# schema: astropy-2.0');
  head.push(names.map(csvField).join(','));
  const chunks: string[] = [head.join('\n') + '\n'];
  const formatters = cols.map(formatterFor);
  // Emit in blocks so a 1 M-row catalogue never becomes one giant string.
  const block = 8192;
  for (let start = 0; start < n; start += block) {
    const end = Math.min(n, start + block);
    const lines = new Array<string>(end - start);
    for (let i = start; i < end; i++) {
      let line = '';
      for (let c = 0; c < cols.length; c++) line += (c === 0 ? '' : ',') + formatters[c](i);
      lines[i - start] = line;
    }
    chunks.push(lines.join('\n') + '\n');
  }
  return chunks;
}

/**
 * A YAML double-quoted scalar: JSON string syntax (YAML 1.2 is a JSON superset). U+2028/2029 and
 * U+0085 are escaped too, since YAML treats them as line breaks.
 */
function yamlString(value: string): string {
  return JSON.stringify(value).replace(/[\u0085\u2028\u2029\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function formatterFor(column: Column): (i: number) => string {
  if (Array.isArray(column)) return (i) => csvField(column[i]);
  if (column instanceof Float64Array) return (i) => formatFloat(column[i]);
  if (column instanceof Float32Array) return (i) => formatFloat32(column[i]);
  return (i) => String((column as Int32Array)[i]);
}

export function formatFloat(v: number): string {
  // String(-0) is '0'; keep the sign so the value reads back identical.
  if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** Shortest decimal that reads back to the same float32 (String() would print the float64 expansion). */
export function formatFloat32(v: number): string {
  if (!Number.isFinite(v) || v === 0) return formatFloat(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(Number(v.toPrecision(9)));
}

function csvField(s: string): string {
  if (s === '' || /[",\r\n#]|^\s|\s$/.test(s)) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

/**
 * Parses RFC 4180 records (quoted fields may hold commas, quotes and line breaks). Unquoted fields
 * are sliced, not built character by character: this parser runs over 1 M-row catalogues.
 */
function parseRecords(text: string, start: number, delimiter = 44 /* , */): string[][] {
  const rows: string[][] = [];
  const n = text.length;
  let i = start;
  while (i < n) {
    // Skip blank lines between records.
    const c0 = text.charCodeAt(i);
    if (c0 === 10 || c0 === 13) {
      i++;
      continue;
    }
    const row: string[] = [];
    for (;;) {
      let field: string;
      if (text.charCodeAt(i) === 34 /* " */) {
        let value = '';
        let p = i + 1;
        for (;;) {
          const q = text.indexOf('"', p);
          if (q < 0) throw new FormatError('unterminated quoted field');
          value += text.slice(p, q);
          if (text.charCodeAt(q + 1) === 34) {
            value += '"';
            p = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        field = value;
      } else {
        let p = i;
        while (p < n) {
          const c = text.charCodeAt(p);
          if (c === delimiter || c === 10 || c === 13) break;
          p++;
        }
        field = text.slice(i, p);
        i = p;
      }
      row.push(field);
      const c = text.charCodeAt(i);
      if (c === delimiter) {
        i++;
        continue;
      }
      if (i < n && c !== 10 && c !== 13) throw new FormatError(`unexpected character after a quoted field in record ${rows.length + 1}`);
      // End of record: newline (LF or CRLF) or end of text.
      if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2;
      else if (i < n) i++;
      break;
    }
    rows.push(row);
  }
  return rows;
}

interface CsvColumnHeader {
  name: string;
  type: ColumnType;
  unit?: string;
  ucd?: string;
  description?: string;
}

/** ECSV datatypes onto our column types (wider integers go to int64, bool to uint8). */
const ECSV_TYPES: Record<string, ColumnType> = {
  bool: 'uint8', int8: 'int32', int16: 'int32', int32: 'int32', int64: 'int64', uint8: 'uint8', uint16: 'int32', uint32: 'int64', uint64: 'int64',
  float16: 'float32', float32: 'float32', float64: 'float64', float128: 'float64', string: 'string',
};

/** Reads the ECSV YAML header (any ECSV writer's: astropy's block style or our flow style). */
function parseEcsvHeader(lines: string[], file: string): { declared: Map<string, CsvColumnHeader>; metadata: Record<string, string>; delimiter: number } {
  const body = lines.filter((l) => !/^%ECSV/.test(l) && l.trim() !== '---').join('\n');
  let doc: { delimiter?: string; datatype?: { name: string; datatype?: string; unit?: string; description?: string; meta?: Record<string, unknown> }[]; meta?: unknown };
  try {
    doc = (YAML.parse(body, { schema: 'yaml-1.1' }) ?? {}) as typeof doc;
  } catch (err) {
    throw new FormatError(`${file}: bad ECSV header (${(err as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(doc.datatype)) throw new FormatError(`${file}: ECSV header has no datatype list`);
  const declared = new Map<string, CsvColumnHeader>();
  for (const d of doc.datatype) {
    const head: CsvColumnHeader = { name: String(d.name), type: ECSV_TYPES[String(d.datatype ?? 'string')] ?? 'string' };
    if (d.unit !== undefined) head.unit = String(d.unit);
    if (d.description !== undefined) head.description = String(d.description);
    if (d.meta && typeof d.meta === 'object' && 'ucd' in d.meta) head.ucd = String(d.meta.ucd);
    declared.set(head.name, head);
  }
  const metadata: Record<string, string> = {};
  // astropy writes ordered metadata as !!omap, which parses to a Map.
  const meta = doc.meta instanceof Map ? Object.fromEntries(doc.meta) : doc.meta;
  if (meta && typeof meta === 'object') {
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  // ECSV allows ',' or ' ' (astropy's default).
  const delimiter = doc.delimiter === undefined ? 32 : String(doc.delimiter).charCodeAt(0);
  if (delimiter !== 32 && delimiter !== 44) throw new FormatError(`${file}: ECSV delimiter must be ',' or ' ', got ${JSON.stringify(doc.delimiter)}`);
  return { declared, metadata, delimiter };
}

/**
 * The header of CSV files written before the switch to ECSV (2026-11-25): `# meta: {"key","value"}`
 * and `# column: {"name","type","unit","ucd","description"}` lines. Other comments are ignored.
 */
function parseJsonCommentHeader(comments: string[]): { declared: Map<string, CsvColumnHeader>; metadata: Record<string, string> } {
  const declared = new Map<string, CsvColumnHeader>();
  const metadata: Record<string, string> = {};
  for (const line of comments) {
    const m = /^(meta|column): (\{.*\})$/.exec(line);
    if (!m) continue;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(m[2]) as Record<string, unknown>;
    } catch {
      continue; // an ordinary comment that happens to look similar
    }
    if (m[1] === 'meta' && typeof parsed.key === 'string') metadata[parsed.key] = String(parsed.value ?? '');
    else if (m[1] === 'column' && typeof parsed.name === 'string' && typeof parsed.type === 'string' && parsed.type in ECSV_TYPES) {
      declared.set(parsed.name, { name: parsed.name, type: ECSV_TYPES[parsed.type], unit: String(parsed.unit ?? ''), ucd: String(parsed.ucd ?? ''), description: String(parsed.description ?? '') });
    }
  }
  return { declared, metadata };
}

export function decodeCsv(text: string, file: string): ColumnTable {
  let metadata: Record<string, string> = {};
  let declared = new Map<string, CsvColumnHeader>();
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // Comment lines before the column names: the ECSV header, or plain comments.
  const comments: string[] = [];
  while (pos < text.length && text[pos] === '#') {
    const eol = text.indexOf('\n', pos);
    comments.push(text.slice(pos, eol < 0 ? text.length : eol).replace(/\r$/, '').replace(/^# ?/, ''));
    pos = eol < 0 ? text.length : eol + 1;
  }
  let delimiter = 44;
  if (comments.length > 0 && /^%ECSV /.test(comments[0])) ({ declared, metadata, delimiter } = parseEcsvHeader(comments, file));
  else ({ declared, metadata } = parseJsonCommentHeader(comments));
  let records: string[][];
  try {
    records = parseRecords(text, pos, delimiter);
  } catch (err) {
    throw new FormatError(`${file}: ${(err as Error).message}`);
  }
  if (records.length === 0) {
    if (declared.size === 0) throw new FormatError(`${file}: empty CSV file (no header row)`);
    records = [[...declared.keys()]];
  }
  const names = records[0];
  const body = records.slice(1);
  body.forEach((r, i) => {
    if (r.length !== names.length) throw new FormatError(`${file}: row ${i + 1} has ${r.length} fields, expected ${names.length}`);
  });
  const columns: Record<string, Column> = {};
  const info: Record<string, ColumnInfo> = {};
  names.forEach((name, c) => {
    const head = declared.get(name);
    const type: ColumnType = head?.type ?? inferType(body, c);
    const col = allocColumn(type, body.length);
    for (let r = 0; r < body.length; r++) {
      const v = body[r][c];
      if (Array.isArray(col)) col[r] = v;
      else if (col instanceof BigInt64Array) col[r] = v.trim() === '' ? 0n : BigInt(v);
      else if (type === 'uint8' && /^(true|false)$/i.test(v)) col[r] = /^t/i.test(v) ? 1 : 0;
      else col[r] = parseNumber(v);
    }
    columns[name] = col;
    const ci: ColumnInfo = {};
    if (head) {
      ci.unit = head.unit ?? '';
      if (head.description !== undefined) ci.description = head.description;
      if (head.ucd !== undefined) ci.ucd = head.ucd;
    }
    info[name] = ci;
  });
  delete metadata[META.columns];
  return { columns, info, metadata };
}

function parseNumber(v: string): number {
  const t = v.trim().toLowerCase();
  if (t === 'nan' || t === '') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(v);
}

function inferType(body: string[][], c: number): ColumnType {
  let allInt = true;
  for (const r of body) {
    const v = r[c].trim();
    if (!/^[-+]?\d+$/.test(v)) allInt = false;
    if (!Number.isFinite(parseNumber(v)) && !/^(nan|[-+]?inf(inity)?)$/i.test(v)) return 'string';
  }
  return allInt && body.length > 0 ? 'int32' : 'float64';
}
