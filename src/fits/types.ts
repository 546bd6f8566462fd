/**
 * Shared FITS types. The implementations live next to this file (public API re-exported by index.ts):
 * - header.ts: card parsing/formatting (80-char cards, CONTINUE, HISTORY/COMMENT), headerFromCards()
 * - read.ts:   openFits(path) / openFitsSource(byteSource) → FitsImageFile with readRows()/readRows64();
 *              readFitsImage(path); parseHeaderBytes(), imageLayout(), decodePixels() for ranged reads
 * - write.ts:  writeFitsImage(path, image, cards, {bitpix}) (2-D float32/64, temp file + rename)
 * - wcs.ts:    Wcs.fromHeader(header), pixToSky/skyToPix (0-based pixels, CONTRACT.md), sinWcsCards()
 * - beam.ts:   beamFromHeader(header) (BMAJ/BMIN/BPA or the AIPS HISTORY card), requireBeam(), parseBeamOption()
 */
import type { Image } from '../core/image';

export type FitsValue = string | number | boolean | null;

/** One header card. `value` is undefined for commentary cards (HISTORY, COMMENT, blank). */
export interface FitsCard {
  key: string;
  value?: FitsValue;
  comment?: string;
}

/** A parsed header: cards in order, and fast lookup of the last value of a keyword. */
export interface FitsHeader {
  readonly cards: readonly FitsCard[];
  get(key: string): FitsValue | undefined;
  getNumber(key: string): number | undefined;
  getString(key: string): string | undefined;
  has(key: string): boolean;
  /** All HISTORY card texts, in order. */
  history(): string[];
}

/** Restoring beam in degrees (FITS convention, BPA east of north). */
export interface Beam {
  bmajDeg: number;
  bminDeg: number;
  bpaDeg: number;
  /** Where it came from: 'header' (BMAJ/BMIN keywords), 'aips-history' or 'user'. */
  source: 'header' | 'aips-history' | 'user';
}

/** An opened FITS image, read lazily by row ranges (large images depend on this). */
export interface FitsFile {
  readonly path: string;
  readonly header: FitsHeader;
  /** NAXIS1 and NAXIS2; degenerate axes 3 and 4 (length 1) are dropped. */
  readonly width: number;
  readonly height: number;
  /** Rows [y0, y1) as float32, BSCALE/BZERO applied, BLANK → NaN. Does not read the rest. */
  readRows(y0: number, y1: number): Promise<Float32Array>;
  /** The whole image. */
  readImage(): Promise<Image>;
  close(): Promise<void>;
}
