/**
 * VOTable 1.4 with TABLEDATA serialisation (IVOA VOTable 1.4 recommendation). Each FIELD carries
 * name, datatype, unit and ucd, and a DESCRIPTION; table metadata goes into INFO elements of the
 * RESOURCE. Text is XML-escaped, and characters XML 1.0 forbids (C0 controls other than tab, LF,
 * CR; lone surrogates; U+FFFE/U+FFFF) are replaced by U+FFFD, since no escape can carry them.
 */
import { FormatError } from '../core/errors';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { allocColumn, columnTypeOf, type ColumnType } from './schema';
import { formatFloat, formatFloat32 } from './csv';

const DATATYPE: Record<ColumnType, string> = {
  float64: 'double',
  float32: 'float',
  int32: 'int',
  int64: 'long',
  uint8: 'unsignedByte',
  string: 'char',
};

const NEEDS_ESCAPE = /[&<>"'\t\n\r\u0000-\u001f\ud800-\udfff\ufffe\uffff]/;

export function xmlEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Attribute values normalise raw tab/CR/LF to spaces; character references survive.
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

export function encodeVoTable(table: ColumnTable, tableName = 'deepsource'): string[] {
  const names = Object.keys(table.columns);
  const cols = names.map((n) => table.columns[n]);
  const n = cols.length === 0 ? 0 : cols[0].length;
  const head: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '<RESOURCE type="results">',
    '<DESCRIPTION>DeepSource catalogue (Vafaei Sadr et al. 2018), written by DeepSource-TS</DESCRIPTION>',
  ];
  for (const [key, value] of Object.entries(table.metadata)) head.push(`<INFO name="${xmlEscape(key)}" value="${xmlEscape(value)}"/>`);
  head.push(`<TABLE name="${xmlEscape(tableName)}" nrows="${n}">`);
  names.forEach((name, c) => {
    const info: ColumnInfo = table.info[name] ?? {};
    const type = columnTypeOf(cols[c]);
    let attrs = `name="${xmlEscape(name)}" datatype="${DATATYPE[type]}"`;
    // 'char' is ASCII in the binary serialisations; a column with other characters is 'unicodeChar'.
    if (type === 'string') {
      const ascii = (cols[c] as string[]).every((s) => /^[\x00-\x7f]*$/.test(s));
      attrs = `name="${xmlEscape(name)}" datatype="${ascii ? 'char' : 'unicodeChar'}" arraysize="*"`;
    }
    if (info.unit) attrs += ` unit="${xmlEscape(info.unit)}"`;
    if (info.ucd) attrs += ` ucd="${xmlEscape(info.ucd)}"`;
    head.push(info.description ? `<FIELD ${attrs}><DESCRIPTION>${xmlEscape(info.description)}</DESCRIPTION></FIELD>` : `<FIELD ${attrs}/>`);
  });
  head.push('<DATA><TABLEDATA>');
  const chunks = [head.join('\n') + '\n'];
  const formatters = cols.map((col): ((i: number) => string) => {
    if (Array.isArray(col)) return (i) => xmlEscape(col[i]);
    if (col instanceof Float64Array) return (i) => (Number.isFinite(col[i]) ? formatFloat(col[i]) : voSpecial(col[i]));
    if (col instanceof Float32Array) return (i) => (Number.isFinite(col[i]) ? formatFloat32(col[i]) : voSpecial(col[i]));
    return (i) => String((col as Int32Array)[i]);
  });
  const block = 4096;
  for (let start = 0; start < n; start += block) {
    const end = Math.min(n, start + block);
    let text = '';
    for (let i = start; i < end; i++) {
      text += '<TR>';
      for (let c = 0; c < cols.length; c++) text += `<TD>${formatters[c](i)}</TD>`;
      text += '</TR>\n';
    }
    chunks.push(text);
  }
  chunks.push('</TABLEDATA></DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n');
  return chunks;
}

/** VOTable 1.4 section 6: floating-point TABLEDATA may hold NaN, +Inf and -Inf. */
function voSpecial(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

function parseVoFloat(v: string): number {
  const t = v.trim();
  if (t === '' || /^nan$/i.test(t)) return NaN;
  if (/^\+?inf(inity)?$/i.test(t)) return Infinity;
  if (/^-inf(inity)?$/i.test(t)) return -Infinity;
  return Number(t);
}

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]] = xmlUnescape(m[3] ?? m[4] ?? '');
  return out;
}

/**
 * Reads a TABLEDATA VOTable such as ours (first TABLE only). Not a general XML parser: it expects
 * well-formed XML without CDATA sections in the data, which is what VOTable writers produce.
 */
export function decodeVoTable(text: string, file: string): ColumnTable {
  if (!/<VOTABLE[\s>]/.test(text)) throw new FormatError(`${file}: not a VOTable (no VOTABLE element)`);
  const metadata: Record<string, string> = {};
  const tableStart = text.search(/<TABLE[\s>]/);
  if (tableStart < 0) throw new FormatError(`${file}: VOTable has no TABLE`);
  for (const m of text.slice(0, tableStart).matchAll(/<INFO\s[^>]*>/g)) {
    const a = attributes(m[0]);
    if (a.name !== undefined) metadata[a.name] = a.value ?? '';
  }
  const fields: { name: string; type: ColumnType; info: ColumnInfo }[] = [];
  const dataStart = text.indexOf('<DATA', tableStart);
  const fieldRegion = text.slice(tableStart, dataStart < 0 ? undefined : dataStart);
  for (const m of fieldRegion.matchAll(/<FIELD\s([^>]*?)(\/>|>([\s\S]*?)<\/FIELD>)/g)) {
    const a = attributes(m[1]);
    const desc = m[3] ? /<DESCRIPTION>([\s\S]*?)<\/DESCRIPTION>/.exec(m[3]) : null;
    const dt = a.datatype;
    const type: ColumnType =
      dt === 'double' ? 'float64' : dt === 'float' ? 'float32' : dt === 'int' || dt === 'short' ? 'int32' : dt === 'long' ? 'int64' : dt === 'unsignedByte' || dt === 'boolean' ? 'uint8' : 'string';
    const info: ColumnInfo = { unit: a.unit ?? '' };
    if (a.ucd !== undefined) info.ucd = a.ucd;
    if (desc) info.description = xmlUnescape(desc[1]);
    fields.push({ name: a.name ?? `col${fields.length + 1}`, type, info });
  }
  const td = /<TABLEDATA>([\s\S]*?)<\/TABLEDATA>/.exec(text.slice(dataStart < 0 ? tableStart : dataStart));
  const rows: string[][] = [];
  if (td) {
    for (const tr of td[1].matchAll(/<TR[^>]*>([\s\S]*?)<\/TR>/g)) {
      const cells: string[] = [];
      for (const cell of tr[1].matchAll(/<TD[^>]*\/>|<TD[^>]*>([\s\S]*?)<\/TD>/g)) cells.push(xmlUnescape(cell[1] ?? ''));
      if (cells.length !== fields.length) throw new FormatError(`${file}: VOTable row ${rows.length + 1} has ${cells.length} cells, expected ${fields.length}`);
      rows.push(cells);
    }
  }
  const columns: Record<string, Column> = {};
  const info: Record<string, ColumnInfo> = {};
  fields.forEach((f, c) => {
    const col = allocColumn(f.type, rows.length);
    for (let r = 0; r < rows.length; r++) {
      const v = rows[r][c];
      if (Array.isArray(col)) col[r] = v;
      else if (col instanceof BigInt64Array) col[r] = BigInt(v.trim() || '0');
      else if (col instanceof Float64Array || col instanceof Float32Array) col[r] = parseVoFloat(v);
      else if (f.type === 'uint8' && /^(t|true|f|false)$/i.test(v.trim())) col[r] = /^t/i.test(v.trim()) ? 1 : 0;
      else col[r] = Number(v);
    }
    columns[f.name] = col;
    info[f.name] = f.info;
  });
  return { columns, info, metadata };
}
