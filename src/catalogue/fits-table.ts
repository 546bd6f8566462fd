/**
 * FITS binary table (BINTABLE, FITS Standard 4.0 section 7.3) written and read here. The image
 * reader/writer in src/fits handles images; a catalogue table is a different HDU, small enough to
 * encode directly. Columns carry TTYPEn/TFORMn/TUNITn, plus the common TCOMMn (description) and
 * TUCDn (UCD) keywords that astropy and TOPCAT show. Table metadata is written as pairs of cards
 * MKEYn (key) and MVALn (value), long values with the OGIP CONTINUE convention.
 *
 * Header strings and character columns must be printable ASCII (FITS 4.0 sections 4.2.1 and
 * 7.3.3.1). Non-ASCII characters and the backslash are written as JSON-style escapes (\u00e9, \\),
 * flagged by DSESCAPE = T, and unescaped by our reader. TOPCAT and astropy show the escaped text.
 * Trailing spaces in header values are escaped too, since FITS readers drop them.
 * Character column values end with NUL padding (FITS 4.0 section 7.3.3.1), so trailing spaces
 * survive our round trip (astropy strips them from character columns).
 */
import { FormatError } from '../core/errors';
import type { Column, ColumnInfo, ColumnTable } from './table';
import { allocColumn, columnTypeOf, type ColumnType } from './schema';

const BLOCK = 2880;
/** Marks files whose strings use our escapes; only then does the reader undo them. */
const ESCAPE_KEY = 'DSESCAPE';
const CARD = 80;

const TFORM: Record<Exclude<ColumnType, 'string'>, { code: string; size: number }> = {
  float64: { code: 'D', size: 8 },
  float32: { code: 'E', size: 4 },
  int32: { code: 'J', size: 4 },
  int64: { code: 'K', size: 8 },
  uint8: { code: 'B', size: 1 },
};

/** Printable ASCII with JSON-style escapes: '\\' for a backslash, \\uXXXX (UTF-16) for anything else. */
export function escapeAscii(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else if (code > 0xffff) {
      const hi = Math.floor((code - 0x10000) / 0x400) + 0xd800;
      const lo = ((code - 0x10000) % 0x400) + 0xdc00;
      out += `\\u${hi.toString(16).padStart(4, '0')}\\u${lo.toString(16).padStart(4, '0')}`;
    } else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** Escapes a header string value (see the file comment). */
export function escapeHeaderText(s: string): string {
  // Trailing spaces in a FITS string value are not significant (FITS 4.0 section 4.2.1.1), and a
  // trailing '&' would read as a CONTINUE marker: escape both.
  return escapeAscii(s).replace(/ +$/, (spaces) => '\\u0020'.repeat(spaces.length)).replace(/&$/, '\\u0026');
}

export function unescapeHeaderText(s: string): string {
  return s.replace(/\\(\\|u([0-9a-fA-F]{4}))/g, (_m, what: string, hex?: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : '\\'));
}

function card(key: string, value: string, comment = ''): string {
  let text = `${key.padEnd(8)}= ${value}`;
  if (comment) text += ` / ${comment}`;
  return text.length > CARD ? text.slice(0, CARD) : text.padEnd(CARD);
}

function numCard(key: string, value: number | boolean, comment = ''): string {
  const v = typeof value === 'boolean' ? (value ? 'T' : 'F') : String(value);
  return card(key, v.padStart(20), comment);
}

/** A string-valued keyword; values that do not fit one card continue with CONTINUE cards. */
function stringCards(key: string, raw: string, comment = ''): string[] {
  const text = escapeHeaderText(raw);
  const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const first = quoted(text.padEnd(8));
  if (`${key.padEnd(8)}= ${first}`.length <= CARD) return [card(key, first, comment)];
  // OGIP long-string convention: each piece but the last ends with '&'.
  const pieces: string[] = [];
  let rest = text;
  let room = CARD - 10 - 3; // after "KEY     = " or "CONTINUE  ", two quotes and '&'
  while (rest.length > 0) {
    let take = Math.min(rest.length, room);
    // A doubled quote takes two characters; shrink until the quoted piece fits.
    while (quoted(rest.slice(0, take)).length + 1 > room + 3) take--;
    pieces.push(rest.slice(0, take));
    rest = rest.slice(take);
    room = CARD - 10 - 3;
  }
  return pieces.map((p, i) => {
    const last = i === pieces.length - 1;
    const value = quoted(p + (last ? '' : '&'));
    return i === 0 ? card(key, value) : `CONTINUE  ${value}`.padEnd(CARD);
  });
}

function padBlock(length: number): number {
  return Math.ceil(length / BLOCK) * BLOCK;
}

export function encodeFitsTable(table: ColumnTable, extname = 'CATALOGUE'): Uint8Array {
  const names = Object.keys(table.columns);
  const cols = names.map((n) => table.columns[n]);
  const n = cols.length === 0 ? 0 : cols[0].length;
  // String columns hold escaped ASCII (FITS 4.0 section 7.3.3.1 allows only printable ASCII);
  // width = longest value, plus one when a value ends in a space, so that every value
  // keeps its NUL terminator. Values without characters to escape are used as they are.
  const asciiCols = cols.map((c) => (Array.isArray(c) ? c.map((v) => (/^[\x20-\x5b\x5d-\x7e]*$/.test(v) ? v : escapeAscii(v))) : undefined));
  const widths = cols.map((c, i) => {
    const strings = asciiCols[i];
    if (strings) {
      let longest = 0;
      let trailingSpace = false;
      for (const v of strings) {
        longest = Math.max(longest, v.length);
        if (!trailingSpace && v.endsWith(' ')) trailingSpace = true;
      }
      // At least 2: TOPCAT/STIL read a 1A column as single characters, not strings.
      return Math.max(2, longest + (trailingSpace ? 1 : 0));
    }
    return TFORM[columnTypeOf(c) as Exclude<ColumnType, 'string'>].size;
  });
  const offsets: number[] = [];
  let rowBytes = 0;
  for (const w of widths) {
    offsets.push(rowBytes);
    rowBytes += w;
  }

  const primary = [
    numCard('SIMPLE', true, 'conforms to FITS standard'),
    numCard('BITPIX', 8),
    numCard('NAXIS', 0),
    numCard('EXTEND', true),
    ...stringCards('ORIGIN', 'DeepSource-TS'),
    'END'.padEnd(CARD),
  ];
  const ext: string[] = [
    ...stringCards('XTENSION', 'BINTABLE', 'binary table extension'),
    numCard('BITPIX', 8),
    numCard('NAXIS', 2),
    numCard('NAXIS1', rowBytes, 'bytes per row'),
    numCard('NAXIS2', n, 'rows'),
    numCard('PCOUNT', 0),
    numCard('GCOUNT', 1),
    numCard('TFIELDS', names.length),
  ];
  names.forEach((name, i) => {
    const info: ColumnInfo = table.info[name] ?? {};
    const type = columnTypeOf(cols[i]);
    const tform = type === 'string' ? `${widths[i]}A` : TFORM[type].code;
    ext.push(...stringCards(`TTYPE${i + 1}`, name));
    ext.push(...stringCards(`TFORM${i + 1}`, tform));
    if (info.unit) ext.push(...stringCards(`TUNIT${i + 1}`, info.unit));
    if (info.description) ext.push(...stringCards(`TCOMM${i + 1}`, info.description));
    if (info.ucd) ext.push(...stringCards(`TUCD${i + 1}`, info.ucd));
  });
  ext.push(...stringCards('EXTNAME', extname));
  ext.push(...stringCards('LONGSTRN', 'OGIP 1.0', 'CONTINUE convention for long strings'));
  ext.push(numCard(ESCAPE_KEY, true, 'strings: \\uXXXX for non-ASCII, \\\\ for backslash'));
  Object.entries(table.metadata).forEach(([key, value], i) => {
    ext.push(...stringCards(`MKEY${i + 1}`, key, 'metadata key'));
    ext.push(...stringCards(`MVAL${i + 1}`, value));
  });
  ext.push('END'.padEnd(CARD));

  const primaryBytes = padBlock(primary.length * CARD);
  const extBytes = padBlock(ext.length * CARD);
  const dataBytes = padBlock(rowBytes * n);
  const out = new Uint8Array(primaryBytes + extBytes + dataBytes);
  const writeCards = (cards: string[], at: number, size: number) => {
    out.fill(0x20, at, at + size);
    const text = cards.join('');
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  };
  writeCards(primary, 0, primaryBytes);
  writeCards(ext, primaryBytes, extBytes);

  const base = primaryBytes + extBytes;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  cols.forEach((col, c) => {
    let at = base + offsets[c];
    if (Array.isArray(col)) {
      const strings = asciiCols[c]!;
      const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      // The buffer is zero-filled: the rest of each field is already NUL.
      for (let r = 0; r < n; r++, at += rowBytes) buf.write(strings[r], at, widths[c], 'latin1');
    } else if (col instanceof Float64Array) for (let r = 0; r < n; r++, at += rowBytes) view.setFloat64(at, col[r], false);
    else if (col instanceof Float32Array) for (let r = 0; r < n; r++, at += rowBytes) view.setFloat32(at, col[r], false);
    else if (col instanceof Int32Array) for (let r = 0; r < n; r++, at += rowBytes) view.setInt32(at, col[r], false);
    else if (col instanceof BigInt64Array) for (let r = 0; r < n; r++, at += rowBytes) view.setBigInt64(at, col[r], false);
    else for (let r = 0; r < n; r++, at += rowBytes) out[at] = (col as Uint8Array)[r];
  });
  return out;
}

interface ParsedCard {
  key: string;
  value?: string | number | boolean;
}

function parseHeader(bytes: Uint8Array, start: number, file: string): { cards: ParsedCard[]; end: number } {
  const cards: ParsedCard[] = [];
  let at = start;
  let pendingKey: string | undefined;
  for (;;) {
    if (at + CARD > bytes.length) throw new FormatError(`${file}: FITS header has no END card`);
    const text = String.fromCharCode(...bytes.subarray(at, at + CARD));
    at += CARD;
    const key = text.slice(0, 8).trim();
    if (key === 'END') break;
    if (key === 'CONTINUE' && pendingKey !== undefined) {
      const m = /^'((?:[^']|'')*)'/.exec(text.slice(8).trim());
      if (m) {
        const last = cards[cards.length - 1];
        let piece = m[1].replace(/''/g, "'").replace(/\s+$/, '');
        const more = piece.endsWith('&');
        if (more) piece = piece.slice(0, -1);
        last.value = String(last.value) + piece;
        if (!more) pendingKey = undefined;
      }
      continue;
    }
    pendingKey = undefined;
    if (text.slice(8, 10) !== '= ') {
      cards.push({ key });
      continue;
    }
    const rest = text.slice(10).trim();
    if (rest.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'/.exec(rest);
      let value = m ? m[1].replace(/''/g, "'").replace(/\s+$/, '') : '';
      if (value.endsWith('&')) {
        value = value.slice(0, -1);
        pendingKey = key;
      }
      cards.push({ key, value });
    } else {
      const raw = rest.split('/')[0].trim();
      if (raw === 'T' || raw === 'F') cards.push({ key, value: raw === 'T' });
      else cards.push({ key, value: Number(raw.replace(/D/i, 'E')) });
    }
  }
  return { cards, end: start + padBlock(at - start) };
}

export function decodeFitsTable(bytes: Uint8Array, file: string): ColumnTable {
  if (bytes.length < BLOCK || String.fromCharCode(...bytes.subarray(0, 6)) !== 'SIMPLE') {
    throw new FormatError(`${file}: not a FITS file (no SIMPLE card)`);
  }
  let at = 0;
  for (let hdu = 0; at < bytes.length; hdu++) {
    const { cards, end } = parseHeader(bytes, at, file);
    const get = (k: string) => {
      for (let i = cards.length - 1; i >= 0; i--) if (cards[i].key === k) return cards[i].value;
      return undefined;
    };
    const naxis = Number(get('NAXIS') ?? 0);
    let dataLen = naxis === 0 ? 0 : Math.abs(Number(get('BITPIX'))) / 8;
    for (let i = 1; i <= naxis; i++) dataLen *= Number(get(`NAXIS${i}`));
    dataLen = (dataLen + Number(get('PCOUNT') ?? 0)) * Number(get('GCOUNT') ?? 1);
    if (hdu > 0 && get('XTENSION') === 'BINTABLE') return decodeBintable(bytes, end, get, file);
    at = end + padBlock(dataLen);
  }
  throw new FormatError(`${file}: no BINTABLE extension`);
}

function decodeBintable(bytes: Uint8Array, at: number, get: (k: string) => string | number | boolean | undefined, file: string): ColumnTable {
  const rowBytes = Number(get('NAXIS1'));
  const n = Number(get('NAXIS2'));
  const tfields = Number(get('TFIELDS'));
  if (at + rowBytes * n > bytes.length) throw new FormatError(`${file}: BINTABLE data truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Our files escape non-ASCII; foreign files may hold UTF-8 or Latin-1 (read as UTF-8) and backslashes verbatim.
  const escaped = get(ESCAPE_KEY) === true;
  const unescape = escaped ? unescapeHeaderText : (v: string) => v;
  const columns: Record<string, Column> = {};
  const info: Record<string, ColumnInfo> = {};
  let offset = 0;
  for (let i = 1; i <= tfields; i++) {
    const name = unescape(String(get(`TTYPE${i}`) ?? `col${i}`));
    const tform = String(get(`TFORM${i}`) ?? '').trim();
    const m = /^(\d*)([LXBIJKAEDCMPQ])/.exec(tform);
    if (!m) throw new FormatError(`${file}: column ${name} has unsupported TFORM ${JSON.stringify(tform)}`);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const code = m[2];
    const sizes: Record<string, number> = { L: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8 };
    const size = sizes[code];
    if (size === undefined || (code !== 'A' && repeat !== 1)) {
      throw new FormatError(`${file}: column ${name} has TFORM ${JSON.stringify(tform)}; only scalar L, B, I, J, K, E, D and nA are read`);
    }
    const type: ColumnType = code === 'A' ? 'string' : code === 'D' ? 'float64' : code === 'E' ? 'float32' : code === 'K' ? 'int64' : code === 'B' || code === 'L' ? 'uint8' : 'int32';
    const col = allocColumn(type, n);
    let p = at + offset;
    for (let r = 0; r < n; r++, p += rowBytes) {
      switch (code) {
        case 'A': {
          // NUL ends the value; without one, trailing spaces are padding (FITS 4.0 section 7.3.3.1).
          let e = p;
          while (e < p + repeat && bytes[e] !== 0) e++;
          if (e === p + repeat) while (e > p && bytes[e - 1] === 0x20) e--;
          (col as string[])[r] = escaped ? unescapeHeaderText(text.toString('latin1', p, e)) : text.toString('utf8', p, e);
          break;
        }
        case 'D': (col as Float64Array)[r] = view.getFloat64(p, false); break;
        case 'E': (col as Float32Array)[r] = view.getFloat32(p, false); break;
        case 'J': (col as Int32Array)[r] = view.getInt32(p, false); break;
        case 'I': (col as Int32Array)[r] = view.getInt16(p, false); break;
        case 'K': (col as BigInt64Array)[r] = view.getBigInt64(p, false); break;
        case 'L': (col as Uint8Array)[r] = bytes[p] === 0x54 ? 1 : 0; break;
        default: (col as Uint8Array)[r] = bytes[p];
      }
    }
    offset += size * repeat;
    columns[name] = col;
    const ci: ColumnInfo = {};
    const unit = get(`TUNIT${i}`);
    const comm = get(`TCOMM${i}`);
    const ucd = get(`TUCD${i}`);
    ci.unit = unit === undefined ? '' : unescape(String(unit));
    if (comm !== undefined) ci.description = unescape(String(comm));
    if (ucd !== undefined) ci.ucd = unescape(String(ucd));
    info[name] = ci;
  }
  const metadata: Record<string, string> = {};
  for (let i = 1; ; i++) {
    const key = get(`MKEY${i}`);
    if (key === undefined) break;
    metadata[unescape(String(key))] = unescape(String(get(`MVAL${i}`) ?? ''));
  }
  return { columns, info, metadata };
}
