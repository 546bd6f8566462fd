/**
 * CSV with a commented header (RFC 4180 body). The header lines start with '#', which pandas
 * (`comment='#'`), astropy (`format='ascii.csv'`) and TOPCAT skip:
 *
 *   # DeepSource catalogue ...
 *   # meta: {"key":"deepsource.model_name","value":"natural"}
 *   # column: {"name":"ra_deg","type":"float64","unit":"deg","ucd":"pos.eq.ra;meta.main","description":"..."}
 *   source_id,name,...
 *
 * JSON keeps newlines, quotes and non-ASCII in metadata unambiguous. Non-finite floats are written
 * as nan, inf and -inf, which pandas, astropy and DuckDB all read.
 */
import { FormatError } from '../core/errors';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { allocColumn, columnTypeOf, type ColumnType } from './schema';
import { META } from './provenance';

export function encodeCsv(table: ColumnTable): string[] {
  const names = Object.keys(table.columns);
  const cols = names.map((n) => table.columns[n]);
  const n = cols.length === 0 ? 0 : cols[0].length;
  const head: string[] = [
    '# DeepSource catalogue. Lines starting with # are metadata (JSON); the first other line names the columns.',
  ];
  for (const [key, value] of Object.entries(table.metadata)) head.push(`# meta: ${asciiJson({ key, value })}`);
  for (let c = 0; c < names.length; c++) {
    const info = table.info[names[c]] ?? {};
    head.push(
      `# column: ${asciiJson({ name: names[c], type: columnTypeOf(cols[c]), unit: info.unit ?? '', ucd: info.ucd ?? '', description: info.description ?? '' })}`,
    );
  }
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

/** JSON with non-ASCII kept as UTF-8 (the file is UTF-8); only line breaks must be escaped, and JSON does. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16)}`);
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
function parseRecords(text: string, start: number): string[][] {
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
          if (c === 44 || c === 10 || c === 13) break;
          p++;
        }
        field = text.slice(i, p);
        i = p;
      }
      row.push(field);
      const c = text.charCodeAt(i);
      if (c === 44) {
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
  unit: string;
  ucd: string;
  description: string;
}

export function decodeCsv(text: string, file: string): ColumnTable {
  const metadata: Record<string, string> = {};
  const declared = new Map<string, CsvColumnHeader>();
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // Header comment lines.
  while (pos < text.length && text[pos] === '#') {
    const eol = text.indexOf('\n', pos);
    const line = text.slice(pos, eol < 0 ? text.length : eol).replace(/\r$/, '');
    pos = eol < 0 ? text.length : eol + 1;
    const m = /^#\s*(meta|column):\s*(.*)$/.exec(line);
    if (!m) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(m[2]);
    } catch {
      throw new FormatError(`${file}: bad JSON in CSV header line ${JSON.stringify(line.slice(0, 60))}`);
    }
    if (m[1] === 'meta') {
      const { key, value } = parsed as { key: string; value: string };
      metadata[String(key)] = String(value);
    } else {
      const col = parsed as CsvColumnHeader;
      declared.set(col.name, col);
    }
  }
  let records: string[][];
  try {
    records = parseRecords(text, pos);
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
      else if (col instanceof BigInt64Array) col[r] = BigInt(v);
      else col[r] = parseNumber(v);
    }
    columns[name] = col;
    info[name] = head ? { unit: head.unit, description: head.description, ucd: head.ucd } : {};
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
