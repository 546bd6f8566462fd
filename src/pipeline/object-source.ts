/**
 * A FITS byte source over an ObjectStore: src/fits reads headers and row ranges through it, so a
 * worker fetches only the header blocks and its tile's rows with ranged GETs.
 */
import type { FitsByteSource } from '../fits/read';
import type { ObjectRef, ObjectStore } from '../adapters/ports';

export function objectByteSource(store: ObjectStore, ref: ObjectRef, size: number): FitsByteSource {
  return {
    size,
    read: (offset, length) => store.getRange(ref, { start: offset, end: Math.min(size, offset + length) }),
  };
}

/** Bytes already in memory as a FITS byte source. */
export function memoryByteSource(bytes: Uint8Array): FitsByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
  };
}
