/** Arrow IPC, file ("ARROW1" magic, random access) and stream formats, via apache-arrow. */
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { FormatError } from '../core/errors';
import type { ColumnTable } from './table';
import { fromArrowTable, toArrowTable } from './arrow';

export type ArrowIpcKind = 'file' | 'stream';

export function encodeArrowIpc(table: ColumnTable, kind: ArrowIpcKind = 'file'): Uint8Array {
  return tableToIPC(toArrowTable(table), kind);
}

export function decodeArrowIpc(bytes: Uint8Array, file: string): ColumnTable {
  try {
    return fromArrowTable(tableFromIPC(bytes));
  } catch (err) {
    throw new FormatError(`${file}: not a readable Arrow IPC file or stream (${String((err as Error)?.message ?? err)})`, { cause: err });
  }
}
