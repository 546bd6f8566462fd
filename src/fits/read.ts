/**
 * FITS image reader (FITS Standard 4.0). The header is read block by block until END; pixel rows
 * are read on demand with positional reads, so a row range never touches the rest of the file
 * (large images and the streaming pipeline depend on this). Every BITPIX becomes Float32Array
 * (or Float64Array where asked) here, once (STYLE.md habit 3).
 */
import { promises as fs } from 'node:fs';
import { endianness } from 'node:os';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DeepSourceError, FormatError, UserInputError } from '../core/errors';
import type { Image, Image64 } from '../core/image';
import { beamFromHeader } from './beam';
import { BLOCK_LENGTH, CARD_LENGTH, headerFromCards, parseCards } from './header';
import type { Beam, FitsFile, FitsHeader } from './types';
import { Wcs } from './wcs';

/** The most header blocks we read before calling a file absurd (5.76 MB, 72,000 cards). */
export const MAX_HEADER_BLOCKS = 2000;
/** The largest image we accept: 2^31 pixels (8 GB of float32), far beyond any single radio image we handle. */
export const MAX_PIXELS = 2 ** 31;
const LITTLE_ENDIAN = endianness() === 'LE';
const SUPPORTED_BITPIX = [8, 16, 32, 64, -32, -64] as const;
export type Bitpix = (typeof SUPPORTED_BITPIX)[number];

/**
 * Parses a header from the start of `bytes` (a primary header or an extension header).
 * Returns null when END has not been reached yet (fetch more bytes); `dataOffset` is the byte
 * offset of the data relative to the start of `bytes`.
 */
export function parseHeaderBytes(bytes: Uint8Array, where = 'FITS data'): { header: FitsHeader; dataOffset: number } | null {
  const prefixLength = Math.min(bytes.length, 9);
  const prefix = latin1(bytes, 0, prefixLength);
  if (prefix !== 'SIMPLE  ='.slice(0, prefixLength) && prefix !== 'XTENSION='.slice(0, prefixLength)) {
    throw new FormatError(`${where}: not a FITS file (it does not start with 'SIMPLE  =')`);
  }
  const cardTexts: string[] = [];
  for (let block = 0; (block + 1) * BLOCK_LENGTH <= bytes.length; block++) {
    if (block >= MAX_HEADER_BLOCKS) throw new FormatError(`${where}: no END card in the first ${MAX_HEADER_BLOCKS} header blocks`);
    for (let card = 0; card < BLOCK_LENGTH / CARD_LENGTH; card++) {
      const start = block * BLOCK_LENGTH + card * CARD_LENGTH;
      const text = latin1(bytes, start, start + CARD_LENGTH);
      if (text.startsWith('END') && text.slice(3).trim() === '') {
        const cards = parseCards(cardTexts, where);
        return { header: headerFromCards(cards), dataOffset: (block + 1) * BLOCK_LENGTH };
      }
      cardTexts.push(text);
    }
  }
  return null;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end && i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Everything needed to find and decode pixel rows (usable with ranged reads from any store). */
export interface ImageLayout {
  bitpix: Bitpix;
  /** All NAXISn, in order. */
  axes: number[];
  width: number;
  height: number;
  bytesPerPixel: number;
  rowBytes: number;
  dataBytes: number;
  bscale: number;
  bzero: number;
  /** BLANK for integer BITPIX (raw value), else undefined. */
  blank: number | undefined;
}

function integerKeyword(header: FitsHeader, key: string, where: string, required: boolean): number | undefined {
  const value = header.get(key);
  if (value === undefined || value === null) {
    if (required) throw new FormatError(`${where}: missing required keyword ${key}`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FormatError(`${where}: ${key} must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** Size in bytes of an HDU's data (without padding), for skipping HDUs. */
function hduDataBytes(header: FitsHeader, where: string): number {
  const bitpix = integerKeyword(header, 'BITPIX', where, true) as number;
  if (!(SUPPORTED_BITPIX as readonly number[]).includes(bitpix)) throw new FormatError(`${where}: unsupported BITPIX ${bitpix} (expected one of ${SUPPORTED_BITPIX.join(', ')})`);
  const naxis = integerKeyword(header, 'NAXIS', where, true) as number;
  if (naxis < 0 || naxis > 999) throw new FormatError(`${where}: absurd NAXIS = ${naxis} (expected 0 to 999)`);
  if (naxis === 0) return 0;
  let count = 1;
  for (let i = 1; i <= naxis; i++) {
    const n = integerKeyword(header, `NAXIS${i}`, where, true) as number;
    if (n < 0) throw new FormatError(`${where}: absurd NAXIS${i} = ${n} (must be >= 0)`);
    count *= n;
  }
  const pcount = integerKeyword(header, 'PCOUNT', where, false) ?? 0;
  const gcount = integerKeyword(header, 'GCOUNT', where, false) ?? 1;
  if (pcount < 0 || gcount < 0) throw new FormatError(`${where}: absurd PCOUNT/GCOUNT = ${pcount}/${gcount}`);
  const total = (Math.abs(bitpix) / 8) * gcount * (pcount + count);
  if (!Number.isSafeInteger(total)) throw new FormatError(`${where}: absurd data size (${total} bytes)`);
  return total;
}

/** Validates an image header and describes its pixel layout. */
export function imageLayout(header: FitsHeader, where: string): ImageLayout {
  const bitpix = integerKeyword(header, 'BITPIX', where, true) as number;
  if (!(SUPPORTED_BITPIX as readonly number[]).includes(bitpix)) throw new FormatError(`${where}: unsupported BITPIX ${bitpix} (expected one of ${SUPPORTED_BITPIX.join(', ')})`);
  const naxis = integerKeyword(header, 'NAXIS', where, true) as number;
  if (naxis < 0 || naxis > 999) throw new FormatError(`${where}: absurd NAXIS = ${naxis} (expected 0 to 999)`);
  if (naxis < 2) throw new FormatError(`${where}: not a 2-D image (NAXIS = ${naxis})`);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const n = integerKeyword(header, `NAXIS${i}`, where, true) as number;
    if (n < 0 || n > MAX_PIXELS) throw new FormatError(`${where}: absurd NAXIS${i} = ${n}`);
    axes.push(n);
  }
  const [width, height] = axes;
  if (width < 1 || height < 1) throw new FormatError(`${where}: empty image (NAXIS1 = ${width}, NAXIS2 = ${height})`);
  if (width * height > MAX_PIXELS) throw new FormatError(`${where}: absurd image size ${width} x ${height} (more than ${MAX_PIXELS} pixels)`);
  axes.slice(2).forEach((n, i) => {
    if (n !== 1) {
      const ctype = header.getString(`CTYPE${i + 3}`) ?? '?';
      throw new FormatError(`${where}: axis ${i + 3} (${ctype.trim()}) has ${n} planes; only 2-D images and cubes whose extra axes have length 1 are supported`);
    }
  });
  const bscale = header.get('BSCALE') ?? 1;
  const bzero = header.get('BZERO') ?? 0;
  if (typeof bscale !== 'number' || !Number.isFinite(bscale) || bscale === 0) throw new FormatError(`${where}: BSCALE must be a non-zero number, got ${JSON.stringify(bscale)}`);
  if (typeof bzero !== 'number' || !Number.isFinite(bzero)) throw new FormatError(`${where}: BZERO must be a number, got ${JSON.stringify(bzero)}`);
  const blank = bitpix > 0 ? integerKeyword(header, 'BLANK', where, false) : undefined;
  const bytesPerPixel = Math.abs(bitpix) / 8;
  return {
    bitpix: bitpix as Bitpix,
    axes,
    width,
    height,
    bytesPerPixel,
    rowBytes: width * bytesPerPixel,
    dataBytes: width * height * bytesPerPixel,
    bscale,
    bzero,
    blank,
  };
}

/**
 * Decodes big-endian raw pixels into `out` (Float32Array or Float64Array): BLANK → NaN for
 * integer data, then physical = BZERO + BSCALE * raw (FITS Standard 5.3).
 */
export function decodePixels(bytes: Uint8Array, layout: ImageLayout, out: Float32Array | Float64Array): void {
  const count = out.length;
  if (bytes.length < count * layout.bytesPerPixel) throw new DeepSourceError(`decodePixels: ${bytes.length} bytes for ${count} pixels of BITPIX ${layout.bitpix}`);
  const { bitpix, bscale, bzero, blank } = layout;
  const scaled = bscale !== 1 || bzero !== 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * layout.bytesPerPixel);
  switch (bitpix) {
    case -32:
      if (LITTLE_ENDIAN) {
        // Native byte swap (Buffer.swap32) is several times faster than DataView per value.
        const swapped = out instanceof Float32Array ? out : new Float32Array(count);
        const target = Buffer.from(swapped.buffer, swapped.byteOffset, count * 4);
        target.set(bytes.subarray(0, count * 4));
        target.swap32();
        if (swapped !== out) out.set(swapped);
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, false);
      }
      break;
    case -64:
      if (LITTLE_ENDIAN) {
        const swapped = out instanceof Float64Array ? out : new Float64Array(count);
        const target = Buffer.from(swapped.buffer, swapped.byteOffset, count * 8);
        target.set(bytes.subarray(0, count * 8));
        target.swap64();
        if (swapped !== out) out.set(swapped);
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, false);
      }
      break;
    case 8:
      for (let i = 0; i < count; i++) {
        const raw = bytes[i];
        out[i] = raw === blank ? NaN : bzero + bscale * raw;
      }
      return;
    case 16:
      for (let i = 0; i < count; i++) {
        const raw = view.getInt16(i * 2, false);
        out[i] = raw === blank ? NaN : bzero + bscale * raw;
      }
      return;
    case 32:
      for (let i = 0; i < count; i++) {
        const raw = view.getInt32(i * 4, false);
        out[i] = raw === blank ? NaN : bzero + bscale * raw;
      }
      return;
    case 64: {
      const blankBig = blank === undefined ? undefined : BigInt(blank);
      for (let i = 0; i < count; i++) {
        const raw = view.getBigInt64(i * 8, false);
        out[i] = raw === blankBig ? NaN : bzero + bscale * Number(raw);
      }
      return;
    }
  }
  if (scaled) for (let i = 0; i < count; i++) out[i] = bzero + bscale * out[i];
}

/** An opened FITS image with row-range reads; adds float64 reads and the layout to FitsFile. */
export interface FitsImageFile extends FitsFile {
  readonly layout: ImageLayout;
  /** Byte offset of the first pixel in the file. */
  readonly dataOffset: number;
  readRows64(y0: number, y1: number): Promise<Float64Array>;
  readImage64(): Promise<Image64>;
}

/**
 * Random-access bytes: a local file, or an object in a store read with ranged GETs (the streaming
 * pipeline wraps its S3 adapter in one of these; src/fits never imports an SDK).
 */
export interface FitsByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length), shorter only where the source ends. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A local file as a FitsByteSource, read with positional reads. */
export async function fileByteSource(path: string): Promise<FitsByteSource> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserInputError(`cannot open ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    const size = stat.size;
    if (!stat.isFile()) throw new UserInputError(`cannot open ${path}: not a regular file`);
    return {
      size,
      async read(offset: number, length: number): Promise<Uint8Array> {
        const buffer = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        let done = 0;
        while (done < buffer.length) {
          const { bytesRead } = await handle.read(buffer, done, buffer.length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === buffer.length ? buffer : buffer.subarray(0, done);
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** Index of the block holding the END card, searching blocks [fromBlock, ...) only; -1 if none. */
function findEndBlock(bytes: Uint8Array, fromBlock: number): number {
  for (let block = fromBlock; (block + 1) * BLOCK_LENGTH <= bytes.length; block++) {
    for (let at = block * BLOCK_LENGTH; at < (block + 1) * BLOCK_LENGTH; at += CARD_LENGTH) {
      // 'END' followed by blanks
      if (bytes[at] === 0x45 && bytes[at + 1] === 0x4e && bytes[at + 2] === 0x44) {
        let blank = true;
        for (let i = at + 3; i < at + CARD_LENGTH; i++) if (bytes[i] !== 0x20) { blank = false; break; }
        if (blank) return block;
      }
    }
  }
  return -1;
}

/** Reads an HDU header starting at `start`; null at a clean end. Reads 8 blocks at a time until END (linear, not quadratic). */
async function readHeaderAt(source: FitsByteSource, start: number, where: string): Promise<{ header: FitsHeader; dataStart: number } | null> {
  if (start >= source.size) return null;
  const chunkLength = 8 * BLOCK_LENGTH;
  let bytes: Uint8Array = new Uint8Array(0);
  for (;;) {
    const chunk = await source.read(start + bytes.length, chunkLength);
    if (chunk.length === 0 && bytes.length === 0) return null;
    const searchFrom = bytes.length / BLOCK_LENGTH;
    bytes = concat(bytes, chunk);
    if (searchFrom === 0) parseHeaderBytes(bytes.subarray(0, Math.min(bytes.length, 80)), where); // not FITS → error at once
    const endBlock = findEndBlock(bytes, searchFrom);
    if (endBlock >= 0) {
      const parsed = parseHeaderBytes(bytes.subarray(0, (endBlock + 1) * BLOCK_LENGTH), where);
      if (!parsed) throw new DeepSourceError(`${where}: END card found but not parsed`);
      return { header: parsed.header, dataStart: start + parsed.dataOffset };
    }
    if (chunk.length < chunkLength) {
      throw new FormatError(`${where}: file truncated inside the header (no END card in ${bytes.length} bytes)`);
    }
    if (bytes.length >= MAX_HEADER_BLOCKS * BLOCK_LENGTH) throw new FormatError(`${where}: no END card in the first ${MAX_HEADER_BLOCKS} header blocks`);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Opens a FITS file and reads the header of its image: the primary HDU, or the first IMAGE
 * extension when the primary HDU has no data (NAXIS = 0). Pixels are read later, by rows.
 */
export async function openFits(path: string): Promise<FitsImageFile> {
  const source = await fileByteSource(path);
  const magic = await source.read(0, 2);
  if (magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    // .fits.gz: no random access into gzip, so inflate the whole file into memory once.
    const compressed = await source.read(0, source.size);
    await source.close?.();
    let inflated: Buffer;
    try {
      inflated = await gunzipAsync(compressed, { maxOutputLength: MAX_GUNZIP_BYTES });
    } catch (err) {
      throw new FormatError(`${path}: corrupt or too large gzip-compressed file (${(err as Error).message})`, { cause: err });
    }
    return openFitsSource(memoryByteSource(inflated), path);
  }
  return openFitsSource(source, path);
}

/** The largest inflated .fits.gz we accept in memory (2 GB). */
const MAX_GUNZIP_BYTES = 2 ** 31;
const gunzipAsync = promisify(gunzip);

/** Bytes in memory as a FitsByteSource (tests, inflated .fits.gz, objects already fetched). */
export function memoryByteSource(bytes: Uint8Array): FitsByteSource {
  return {
    size: bytes.length,
    read: async (offset: number, length: number) => bytes.subarray(Math.min(offset, bytes.length), Math.min(bytes.length, offset + length)),
  };
}

/** openFits over any byte source (`name` is used in messages and as `path`). Closes the source on error. */
export async function openFitsSource(source: FitsByteSource, name: string): Promise<FitsImageFile> {
  try {
    if (source.size === 0) throw new FormatError(`${name}: empty file, not FITS`);
    let located: { header: FitsHeader; dataStart: number } | null = await readHeaderAt(source, 0, name);
    if (!located) throw new FormatError(`${name}: empty file, not FITS`);
    if (located.header.get('SIMPLE') !== true) throw new FormatError(`${name}: not a FITS file (SIMPLE is not T)`);
    let hdu = 0;
    while ((located.header.getNumber('NAXIS') ?? 0) === 0 || (hdu > 0 && located.header.getString('XTENSION')?.trim() !== 'IMAGE')) {
      const where = `${name} (HDU ${hdu + 1})`;
      if (located.header.get('ZIMAGE') === true) throw new FormatError(`${where}: tile-compressed images are not supported; decompress it first (e.g. funpack)`);
      const next = located.dataStart + Math.ceil(hduDataBytes(located.header, where) / BLOCK_LENGTH) * BLOCK_LENGTH;
      hdu++;
      if (hdu > 1000) throw new FormatError(`${name}: no image in the first 1000 HDUs`);
      const following: { header: FitsHeader; dataStart: number } | null = await readHeaderAt(source, next, `${name} (HDU ${hdu + 1})`);
      if (!following) throw new FormatError(`${name}: no image data (the primary HDU has NAXIS = 0 and there is no IMAGE extension)`);
      located = following;
    }
    const where = hdu === 0 ? name : `${name} (HDU ${hdu + 1})`;
    const layout = imageLayout(located.header, where);
    const available = source.size - located.dataStart;
    if (available < layout.dataBytes) {
      throw new FormatError(`${where}: file truncated: the header describes ${layout.dataBytes} bytes of data (${layout.axes.join(' x ')}, BITPIX ${layout.bitpix}) but only ${Math.max(0, available)} follow`);
    }
    return new FitsFileImpl(name, source, located.header, layout, located.dataStart);
  } catch (err) {
    await source.close?.().catch(() => undefined);
    throw err;
  }
}

class FitsFileImpl implements FitsImageFile {
  readonly width: number;
  readonly height: number;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly source: FitsByteSource,
    readonly header: FitsHeader,
    readonly layout: ImageLayout,
    readonly dataOffset: number,
  ) {
    this.width = layout.width;
    this.height = layout.height;
  }

  private checkRange(y0: number, y1: number): void {
    if (this.closed) throw new DeepSourceError(`${this.path}: readRows after close`);
    if (!Number.isInteger(y0) || !Number.isInteger(y1) || y0 < 0 || y1 > this.height || y0 > y1) {
      throw new UserInputError(`${this.path}: row range [${y0}, ${y1}) must lie within [0, ${this.height}]`);
    }
  }

  private async readRaw(y0: number, y1: number): Promise<Uint8Array> {
    const length = (y1 - y0) * this.layout.rowBytes;
    const bytes = await this.source.read(this.dataOffset + y0 * this.layout.rowBytes, length);
    if (bytes.length < length) throw new FormatError(`${this.path}: file truncated while reading rows ${y0} to ${y1}`);
    return bytes;
  }

  async readRows(y0: number, y1: number): Promise<Float32Array> {
    this.checkRange(y0, y1);
    const out = new Float32Array((y1 - y0) * this.width);
    decodePixels(await this.readRaw(y0, y1), this.layout, out);
    return out;
  }

  async readRows64(y0: number, y1: number): Promise<Float64Array> {
    this.checkRange(y0, y1);
    const out = new Float64Array((y1 - y0) * this.width);
    decodePixels(await this.readRaw(y0, y1), this.layout, out);
    return out;
  }

  async readImage(): Promise<Image> {
    return { data: await this.readRows(0, this.height), width: this.width, height: this.height };
  }

  async readImage64(): Promise<Image64> {
    return { data: await this.readRows64(0, this.height), width: this.width, height: this.height };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close?.();
  }
}

export interface ReadFitsImageOptions {
  /** Read only rows [y0, y1) (the header, WCS and beam are still those of the whole image). */
  rows?: [number, number];
}

/** Reads a whole image (or a row range) with its header, WCS and beam (null when the header has none). */
export async function readFitsImage(path: string, options: ReadFitsImageOptions = {}): Promise<{ image: Image; header: FitsHeader; wcs: Wcs; beam: Beam | null }> {
  const file = await openFits(path);
  try {
    const wcs = Wcs.fromHeader(file.header, path);
    const [y0, y1] = options.rows ?? [0, file.height];
    const data = await file.readRows(y0, y1);
    return { image: { data, width: file.width, height: y1 - y0 }, header: file.header, wcs, beam: beamFromHeader(file.header) };
  } finally {
    await file.close();
  }
}
