/**
 * readCatalogue: reads Parquet, Arrow IPC (file or stream), CSV, FITS BINTABLE and TABLEDATA
 * VOTable into a ColumnTable. The format comes from the file's magic bytes where it has any
 * (PAR1, ARROW1, SIMPLE, <?xml / <VOTABLE), else from the extension; CSV is the fallback.
 */
import * as fs from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { FormatError, UserInputError } from '../core/errors';
import type { ColumnTable } from './table';
import { decodeParquet } from './parquet';
import { decodeCsv } from './csv';
import { decodeArrowIpc } from './arrow-ipc';
import { decodeFitsTable } from './fits-table';
import { decodeVoTable } from './votable';
import { formatFromPath, type CatalogueFormat } from './write';

const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

export function sniffFormat(bytes: Uint8Array, file: string): CatalogueFormat | undefined {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 512))).toString('latin1');
  if (head.startsWith('PAR1')) return 'parquet';
  if (head.startsWith('ARROW1')) return 'arrow';
  // Arrow IPC stream: continuation marker 0xFFFFFFFF then the schema message.
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff) return 'arrow';
  if (head.startsWith('SIMPLE  =')) return 'fits';
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<VOTABLE/.test(head.replace(/^\ufeff/, ''))) return 'votable';
  return formatFromPath(file);
}

export async function readCatalogue(file: string): Promise<ColumnTable> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserInputError(`cannot read catalogue ${file}: ${code === 'ENOENT' ? 'no such file' : String((err as Error).message)}`, { cause: err });
  }
  return decodeCatalogue(bytes, file);
}

/** Text formats are parsed as one string; V8 caps strings at buffer.constants.MAX_STRING_LENGTH. */
function asText(bytes: Uint8Array, file: string, what: string): string {
  if (bytes.length > MAX_STRING_LENGTH) {
    throw new FormatError(`${file}: ${(bytes.length / 1e6).toFixed(0)} MB is too large for the ${what} reader (limit ${(MAX_STRING_LENGTH / 1e6).toFixed(0)} MB); convert it to Parquet or Arrow`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function decodeCatalogue(bytes: Uint8Array, file: string): ColumnTable {
  const format = sniffFormat(bytes, file) ?? 'csv';
  switch (format) {
    case 'parquet': return decodeParquet(bytes, file);
    case 'arrow': return decodeArrowIpc(bytes, file);
    case 'fits': return decodeFitsTable(bytes, file);
    case 'votable': return decodeVoTable(asText(bytes, file, 'VOTable'), file);
    case 'csv': return decodeCsv(asText(bytes, file, 'CSV'), file);
    case 'reg': throw new FormatError(`${file}: region files are written for DS9/CARTA, not read back as catalogues`);
  }
}
