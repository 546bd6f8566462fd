/**
 * 2-D float image writer (FITS Standard 4.0). The structural keywords come first and are written
 * here; the caller's cards (WCS, BMAJ/BMIN/BPA, BUNIT, HISTORY...) follow. Written to a temporary
 * name in the same directory, then renamed, so readers never see half a file (CONTRACT.md).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { FormatError, UserInputError } from '../core/errors';
import type { Image } from '../core/image';
import { BLOCK_LENGTH, formatHeaderBlocks } from './header';
import type { FitsCard } from './types';

export interface WriteFitsOptions {
  /** -32 (default) writes float32, -64 float64. */
  bitpix?: -32 | -64;
}

export const DEFAULT_WRITE_FITS_OPTIONS: Readonly<Required<WriteFitsOptions>> = Object.freeze({ bitpix: -32 });

/** Keywords the writer owns: given cards with these names are dropped (the data are written as plain floats). */
const STRUCTURAL = /^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|END|BSCALE|BZERO|BLANK|PCOUNT|GCOUNT|XTENSION)$/;

/** Header cards + big-endian data + zero padding, as one buffer. */
export function encodeFitsImage(image: Image, cards: readonly FitsCard[], options: WriteFitsOptions = {}): Buffer {
  const bitpix = options.bitpix ?? DEFAULT_WRITE_FITS_OPTIONS.bitpix;
  if (bitpix !== -32 && bitpix !== -64) throw new FormatError(`writeFitsImage: bitpix must be -32 or -64, got ${String(bitpix)}`);
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height) {
    throw new FormatError(`writeFitsImage: image must be width x height = data.length with positive sizes, got ${width}x${height} and ${data.length} values`);
  }
  const header = formatHeaderBlocks([
    { key: 'SIMPLE', value: true, comment: 'conforms to FITS standard' },
    { key: 'BITPIX', value: bitpix, comment: bitpix === -32 ? 'IEEE 32-bit float' : 'IEEE 64-bit float' },
    { key: 'NAXIS', value: 2 },
    { key: 'NAXIS1', value: width },
    { key: 'NAXIS2', value: height },
    ...cards.filter((card) => !STRUCTURAL.test(card.key.toUpperCase())),
  ]);
  const bytesPerValue = bitpix === -32 ? 4 : 8;
  const dataBytes = data.length * bytesPerValue;
  const padded = Math.ceil(dataBytes / BLOCK_LENGTH) * BLOCK_LENGTH;
  const out = Buffer.alloc(header.length + padded);
  header.copy(out, 0);
  if (endianness() === 'LE') {
    // Copy as native floats, then one native byte swap (much faster than DataView per value).
    const values = bitpix === -32 ? new Float32Array(data) : Float64Array.from(data);
    const target = out.subarray(header.length, header.length + dataBytes);
    target.set(new Uint8Array(values.buffer, values.byteOffset, dataBytes));
    if (bitpix === -32) target.swap32();
    else target.swap64();
  } else {
    const view = new DataView(out.buffer, out.byteOffset + header.length, dataBytes);
    if (bitpix === -32) for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], false);
    else for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], false);
  }
  return out;
}

/** Writes bytes to `target` through a temporary file in the same directory, then renames. */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(temp, bytes);
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new UserInputError(`cannot write ${target}: ${code}`, { cause: err });
    }
    throw err;
  }
}

export async function writeFitsImage(target: string, image: Image, cards: readonly FitsCard[], options: WriteFitsOptions = {}): Promise<void> {
  await writeFileAtomic(target, encodeFitsImage(image, cards, options));
}

export { sinWcsCards } from './wcs';
