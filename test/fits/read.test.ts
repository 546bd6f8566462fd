import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError, UserInputError } from '../../src/core/errors';
import { openFits, openFitsSource, parseHeaderBytes, readFitsImage, type FitsByteSource } from '../../src/fits/read';
import { card, headerBytes, imageFile, padData, rawData } from './fitsBytes';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fits-read-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
}

async function readAll64(file: string): Promise<number[]> {
  const f = await openFits(file);
  try {
    return Array.from(await f.readRows64(0, f.height));
  } finally {
    await f.close();
  }
}

describe('BITPIX, BSCALE/BZERO and BLANK (hand-worked values)', () => {
  it('BITPIX 8: unsigned bytes, BZERO -128 makes them signed, BLANK → NaN', async () => {
    const file = await put('b8.fits', imageFile(8, [4, 1], [0, 1, 255, 7], [card('BZERO', '-128'), card('BLANK', '7')]));
    expect(await readAll64(file)).toEqual([-128, -127, 127, NaN]);
  });

  it('BITPIX 16 with BSCALE 2, BZERO 10, BLANK -32768', async () => {
    const file = await put('b16.fits', imageFile(16, [3, 2], [-32768, -1, 0, 1, 32767, 1234], [card('BSCALE', '2.0'), card('BZERO', '10.0'), card('BLANK', '-32768')]));
    expect(await readAll64(file)).toEqual([NaN, 8, 10, 12, 65544, 2478]);
  });

  it('BITPIX 32 unsigned convention (BZERO 2^31)', async () => {
    const file = await put('b32.fits', imageFile(32, [3, 1], [-2147483648, 0, 2147483647], [card('BZERO', '2147483648')]));
    expect(await readAll64(file)).toEqual([0, 2147483648, 4294967295]);
    // float32 view of the same data is the float32 rounding of the exact values
    const f = await openFits(file);
    expect(Array.from(await f.readRows(0, 1))).toEqual([0, Math.fround(2147483648), Math.fround(4294967295)]);
    await f.close();
  });

  it('BITPIX 64 with BLANK and BSCALE 0.5', async () => {
    const file = await put('b64.fits', imageFile(64, [4, 1], [-9007199254740991n, 3n, -9223372036854775808n, 1n << 40n], [card('BSCALE', '0.5'), card('BLANK', '-9223372036854775808')]));
    expect(await readAll64(file)).toEqual([-9007199254740991 / 2, 1.5, NaN, 2 ** 39]);
  });

  it('BITPIX -32 keeps NaN and infinities; BLANK is ignored for floats', async () => {
    const file = await put('f32.fits', imageFile(-32, [5, 1], [1.5, NaN, -Infinity, 1e-40, -0], [card('BLANK', '1')]));
    const values = await readAll64(file);
    expect(values.slice(0, 4)).toEqual([1.5, NaN, -Infinity, Math.fround(1e-40)]);
    expect(Object.is(values[4], -0)).toBe(true);
  });

  it('BITPIX -64 with BSCALE/BZERO, full double precision through readRows64', async () => {
    const file = await put('f64.fits', imageFile(-64, [3, 1], [0.1, 1 / 3, NaN], [card('BSCALE', '2.0'), card('BZERO', '1.0')]));
    expect(await readAll64(file)).toEqual([1 + 2 * 0.1, 1 + 2 / 3, NaN]);
  });
});

describe('degenerate cubes and row ranges', () => {
  it('reads 4-D cubes with length-1 STOKES/FREQ axes in either order as 2-D', async () => {
    for (const order of [['STOKES', 'FREQ'], ['FREQ', 'STOKES'], ['STOKES', 'VOPT']]) {
      const extra = [card('CTYPE3', `'${order[0].padEnd(8)}'`), card('CTYPE4', `'${order[1].padEnd(8)}'`)];
      const file = await put(`cube-${order.join('-')}.fits`, imageFile(-32, [2, 3, 1, 1], [1, 2, 3, 4, 5, 6], extra));
      const f = await openFits(file);
      expect([f.width, f.height]).toEqual([2, 3]);
      expect(Array.from((await f.readImage()).data)).toEqual([1, 2, 3, 4, 5, 6]);
      await f.close();
    }
  });

  it('rejects a real cube (an extra axis longer than 1) with a clear message', async () => {
    const file = await put('cube3.fits', imageFile(-32, [2, 2, 3], new Array(12).fill(0), [card('CTYPE3', "'FREQ    '")]));
    await expect(openFits(file)).rejects.toThrow(/cube3\.fits: axis 3 \(FREQ\) has 3 planes/);
  });

  it('a row range equals the same rows of the full read', async () => {
    const width = 37;
    const height = 29;
    const values = Array.from({ length: width * height }, (_, i) => (i * 7919) % 65536 - 32768);
    const file = await put('rows.fits', imageFile(16, [width, height], values, [card('BSCALE', '0.25'), card('BZERO', '3.0')]));
    const f = await openFits(file);
    const full = await f.readRows(0, height);
    for (const [y0, y1] of [[0, 1], [5, 17], [28, 29], [0, 29], [10, 10]]) {
      expect(Array.from(await f.readRows(y0, y1))).toEqual(Array.from(full.subarray(y0 * width, y1 * width)));
    }
    await expect(f.readRows(20, 30)).rejects.toThrow(/row range \[20, 30\) must lie within \[0, 29\]/);
    await f.close();
  });

  it('reads only the requested rows from disk', async () => {
    const width = 100;
    const height = 100;
    const file = await put('lazy.fits', imageFile(-64, [width, height], new Array(width * height).fill(1)));
    const f = await openFits(file);
    // FileHandle is not exported by node:fs; spy on the prototype of a real handle.
    const probe = await fs.open(file, 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
    await probe.close();
    const spy = jest.spyOn(proto, 'read');
    try {
      await f.readRows(40, 43);
      const bytes = spy.mock.results.length === 0 ? 0 : (await Promise.all(spy.mock.results.map((r) => r.value as Promise<{ bytesRead: number }>))).reduce((s, r) => s + r.bytesRead, 0);
      expect(bytes).toBe(3 * width * 8);
    } finally {
      spy.mockRestore();
      await f.close();
    }
  });

  it('openFitsSource reads the header and rows through ranged reads only', async () => {
    const width = 50;
    const height = 40;
    const bytes = imageFile(32, [width, height], Array.from({ length: width * height }, (_, i) => i), [card('BZERO', '0.5'), ...Array.from({ length: 50 }, (_, i) => card(`HISTORY ${i}`))]);
    const reads: [number, number][] = [];
    const source: FitsByteSource = {
      size: bytes.length,
      read: async (offset, length) => {
        reads.push([offset, length]);
        return bytes.subarray(offset, Math.min(bytes.length, offset + length));
      },
    };
    const f = await openFitsSource(source, 's3://bucket/key.fits');
    expect(f.dataOffset).toBe(2 * 2880);
    reads.length = 0;
    const rows = await f.readRows(10, 12);
    expect(reads).toEqual([[2 * 2880 + 10 * width * 4, 2 * width * 4]]);
    expect(Array.from(rows.subarray(0, 3))).toEqual([500.5, 501.5, 502.5]);
    await f.close();
    await expect(openFitsSource({ size: 20, read: async () => Buffer.from('not fits at all.....') }, 's3://b/x')).rejects.toThrow(/^s3:\/\/b\/x: not a FITS file/);
  });

  it('readFitsImage returns image, header, WCS and beam, and honours rows', async () => {
    const extra = [
      card('CTYPE1', "'RA---SIN'"), card('CTYPE2', "'DEC--SIN'"), card('CRPIX1', '2.0'), card('CRPIX2', '2.0'),
      card('CRVAL1', '50.0'), card('CRVAL2', '-20.0'), card('CDELT1', '-0.001'), card('CDELT2', '0.001'),
      card('BMAJ', '0.002'), card('BMIN', '0.001'), card('BPA', '30.0'),
    ];
    const file = await put('wcs.fits', imageFile(-32, [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9], extra));
    const { image, wcs, beam, header } = await readFitsImage(file);
    expect(Array.from(image.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(header.getNumber('CRVAL1')).toBe(50);
    expect(wcs.pixToSky(1, 1)).toEqual({ ra: 50, dec: -20 });
    expect(beam).toEqual({ bmajDeg: 0.002, bminDeg: 0.001, bpaDeg: 30, source: 'header' });
    const part = await readFitsImage(file, { rows: [1, 3] });
    expect(part.image).toEqual({ data: Float32Array.from([4, 5, 6, 7, 8, 9]), width: 3, height: 2 });
  });

  it('finds the first IMAGE extension when the primary HDU is empty', async () => {
    const primary = headerBytes([card('SIMPLE', 'T'), card('BITPIX', '8'), card('NAXIS', '0'), card('EXTEND', 'T')]);
    const table = Buffer.concat([
      headerBytes([card('XTENSION', "'BINTABLE'"), card('BITPIX', '8'), card('NAXIS', '2'), card('NAXIS1', '4'), card('NAXIS2', '3'), card('PCOUNT', '0'), card('GCOUNT', '1'), card('TFIELDS', '1'), card('TFORM1', "'1J      '")]),
      padData(Buffer.alloc(12, 0x41)),
    ]);
    const image = Buffer.concat([
      headerBytes([card('XTENSION', "'IMAGE   '"), card('BITPIX', '16'), card('NAXIS', '2'), card('NAXIS1', '2'), card('NAXIS2', '1'), card('PCOUNT', '0'), card('GCOUNT', '1')]),
      padData(rawData(16, [-5, 5])),
    ]);
    const file = await put('ext.fits', Buffer.concat([primary, table, image]));
    const f = await openFits(file);
    expect(Array.from(await f.readRows(0, 1))).toEqual([-5, 5]);
    await f.close();
    const noImage = await put('noimage.fits', Buffer.concat([primary, table]));
    await expect(openFits(noImage)).rejects.toThrow(/noimage\.fits: no image data/);
  });

  it('reads .fits.gz (inflated in memory) and rejects corrupt gzip', async () => {
    const bytes = imageFile(-32, [2, 2], [1, 2, 3, 4]);
    const file = await put('small.fits.gz', gzipSync(bytes));
    const f = await openFits(file);
    expect(Array.from(await f.readRows(1, 2))).toEqual([3, 4]);
    await f.close();
    const bad = await put('bad.fits.gz', gzipSync(bytes).subarray(0, 40));
    await expect(openFits(bad)).rejects.toThrow(/bad\.fits\.gz: corrupt or too large gzip-compressed file/);
  });

  it('says tile-compressed images are not supported', async () => {
    const primary = headerBytes([card('SIMPLE', 'T'), card('BITPIX', '8'), card('NAXIS', '0'), card('EXTEND', 'T')]);
    const table = Buffer.concat([
      headerBytes([card('XTENSION', "'BINTABLE'"), card('BITPIX', '8'), card('NAXIS', '2'), card('NAXIS1', '8'), card('NAXIS2', '1'), card('PCOUNT', '0'), card('GCOUNT', '1'), card('TFIELDS', '1'), card('ZIMAGE', 'T')]),
      padData(Buffer.alloc(8)),
    ]);
    const file = await put('fpack.fits', Buffer.concat([primary, table]));
    await expect(openFits(file)).rejects.toThrow(/fpack\.fits \(HDU 2\): tile-compressed images are not supported/);
  });

  it('accepts a last data block without its padding', async () => {
    const bytes = imageFile(-32, [2, 2], [1, 2, 3, 4]);
    const file = await put('unpadded.fits', bytes.subarray(0, 2880 + 16));
    const f = await openFits(file);
    expect(Array.from(await f.readRows(0, 2))).toEqual([1, 2, 3, 4]);
    await f.close();
  });
});

describe('bad input: one FormatError naming the file and the problem', () => {
  const good = () => imageFile(-32, [4, 4], new Array(16).fill(1));
  const cases: [string, () => Buffer, RegExp][] = [
    ['truncated data', () => good().subarray(0, 2880 + 20), /file truncated: the header describes 64 bytes of data \(4 x 4, BITPIX -32\) but only 20 follow/],
    ['truncated header', () => good().subarray(0, 1000), /file truncated inside the header/],
    ['empty file', () => Buffer.alloc(0), /empty file/],
    ['non-FITS', () => Buffer.from('PK\u0003\u0004 this is a zip file'.padEnd(4000, 'x')), /not a FITS file/],
    ['plain text', () => Buffer.from('hello world\n'), /not a FITS file/],
    ['SIMPLE = F', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('SIMPLE', 'F')), 0, 80), /SIMPLE is not T/],
    ['bad header card', () => Buffer.concat([headerBytes([card('SIMPLE', 'T'), card('BITPIX', '-32'), card('NAXIS', '2'), card('NAXIS1', "'four'x"), card('NAXIS2', '1')]), padData(Buffer.alloc(16))]), /bad header card 4/],
    ['unsupported BITPIX', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('BITPIX', '24')), 80, 160), /unsupported BITPIX 24 \(expected one of 8, 16, 32, 64, -32, -64\)/],
    ['missing BITPIX', () => Buffer.concat([headerBytes([card('SIMPLE', 'T'), card('NAXIS', '2'), card('NAXIS1', '1'), card('NAXIS2', '1')]), padData(Buffer.alloc(4))]), /missing required keyword BITPIX/],
    ['absurd NAXIS', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('NAXIS', '1000')), 160, 240), /absurd NAXIS = 1000/],
    ['negative NAXIS1', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('NAXIS1', '-5')), 240, 320), /absurd NAXIS1 = -5/],
    ['huge NAXIS1', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('NAXIS1', '99999999999999')), 240, 320), /absurd NAXIS1 = 99999999999999/],
    ['huge image', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('NAXIS1', '2000000000')), 240, 320).fill(Buffer.from(card('NAXIS2', '2000000000')), 320, 400), /absurd image size/],
    ['non-integer NAXIS2', () => imageFile(-32, [1, 1], [0]).fill(Buffer.from(card('NAXIS2', '1.5')), 320, 400), /NAXIS2 must be an integer, got 1.5/],
    ['1-D data', () => imageFile(-32, [4], [1, 2, 3, 4]), /not a 2-D image \(NAXIS = 1\)/],
    ['BSCALE zero', () => imageFile(16, [1, 1], [0], [card('BSCALE', '0')]), /BSCALE must be a non-zero number/],
    ['no END', () => Buffer.from(card('SIMPLE', 'T').repeat(36 * 3), 'latin1'), /file truncated inside the header \(no END card/],
  ];
  it.each(cases)('%s', async (name, bytes, pattern) => {
    const file = await put(`bad-${name.replace(/\W+/g, '_')}.fits`, bytes());
    const error = await openFits(file).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(FormatError);
    expect((error as Error).message.startsWith(file)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
  });

  it('a directory is a user error naming it', async () => {
    await expect(openFits(dir)).rejects.toThrow(/not a regular file/);
  });

  it('a missing file is a user error naming it', async () => {
    await expect(openFits(path.join(dir, 'nope.fits'))).rejects.toThrow(UserInputError);
    await expect(openFits(path.join(dir, 'nope.fits'))).rejects.toThrow(/nope\.fits: no such file/);
  });

  it('readFitsImage without a celestial WCS says so', async () => {
    const file = await put('nowcs.fits', imageFile(-32, [1, 1], [0]));
    await expect(readFitsImage(file)).rejects.toThrow(/nowcs\.fits: no RA\/DEC celestial axes/);
  });
});

describe('parseHeaderBytes (for ranged reads)', () => {
  const cards = [card('SIMPLE', 'T'), card('BITPIX', '-32'), card('NAXIS', '2'), card('NAXIS1', '3'), card('NAXIS2', '3')];
  it('asks for more bytes until END, then gives the data offset', () => {
    const many = [...cards, ...Array.from({ length: 40 }, (_, i) => card(`HISTORY line ${i}`))];
    const bytes = headerBytes(many);
    expect(bytes.length).toBe(5760);
    expect(parseHeaderBytes(bytes.subarray(0, 2880))).toBeNull();
    expect(parseHeaderBytes(bytes.subarray(0, 5000))).toBeNull();
    const parsed = parseHeaderBytes(bytes);
    expect(parsed?.dataOffset).toBe(5760);
    expect(parsed?.header.history()).toHaveLength(40);
  });

  it('rejects non-FITS bytes at once, even from a short prefix', () => {
    expect(() => parseHeaderBytes(Buffer.from('GIF89a'), 's3://b/k')).toThrow(/^s3:\/\/b\/k: not a FITS file/);
    expect(parseHeaderBytes(Buffer.from('SIMP'))).toBeNull();
  });
});
