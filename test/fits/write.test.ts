import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError, UserInputError } from '../../src/core/errors';
import { openFits, readFitsImage } from '../../src/fits/read';
import { encodeFitsImage, writeFitsImage } from '../../src/fits/write';
import { sinWcsCards } from '../../src/fits/wcs';
import { card } from './fitsBytes';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fits-write-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const special = [0, -0, 1, -1.5, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 0.1];

describe('writeFitsImage', () => {
  it('writes the structural cards first, then the given cards, then END, in 2880-byte blocks', () => {
    const bytes = encodeFitsImage({ data: new Float32Array(6), width: 3, height: 2 }, [{ key: 'BUNIT', value: 'Jy/beam' }, { key: 'NAXIS', value: 5 }, { key: 'BSCALE', value: 2 }]);
    expect(bytes.length).toBe(2 * 2880);
    const text = bytes.toString('latin1', 0, 2880);
    const cards = text.match(/.{80}/g)!;
    expect(cards.slice(0, 7).map((c) => c.slice(0, 30))).toEqual([
      card('SIMPLE', 'T').slice(0, 30),
      card('BITPIX', '-32').slice(0, 30),
      card('NAXIS', '2').slice(0, 30),
      card('NAXIS1', '3').slice(0, 30),
      card('NAXIS2', '2').slice(0, 30),
      card('BUNIT', "'Jy/beam '").slice(0, 30),
      'END'.padEnd(30),
    ]);
    // data: 6 zeros then zero padding
    expect(bytes.subarray(2880).every((b) => b === 0)).toBe(true);
  });

  it.each([-32, -64] as const)('round-trips BITPIX %d bit-exactly (NaN, infinities, signed zero, denormals)', async (bitpix) => {
    const data = Float32Array.from(special);
    const file = path.join(dir, `rt${bitpix}.fits`);
    await writeFitsImage(file, { data, width: 5, height: 2 }, sinWcsCards({ raDeg: 50, decDeg: -20, cdeltDeg: 1.5 / 3600, width: 5, height: 2 }), { bitpix });
    const f = await openFits(file);
    expect(f.layout.bitpix).toBe(bitpix);
    const back = await f.readRows(0, 2);
    await f.close();
    expect(Array.from(back)).toEqual(Array.from(data));
    expect(Object.is(back[1], -0)).toBe(true);
  });

  it('writes big-endian IEEE floats (golden bytes)', () => {
    const bytes = encodeFitsImage({ data: Float32Array.from([1, -2]), width: 2, height: 1 }, []);
    expect(Array.from(bytes.subarray(2880, 2888))).toEqual([0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]);
  });

  it('keeps WCS, beam, HISTORY and long strings through a round trip', async () => {
    const file = path.join(dir, 'meta.fits');
    const cards = [
      ...sinWcsCards({ raDeg: 359.5, decDeg: 89, cdeltDeg: 2 / 3600, width: 8, height: 8 }),
      { key: 'BMAJ', value: 1e-3 }, { key: 'BMIN', value: 5e-4 }, { key: 'BPA', value: 45 },
      { key: 'HISTORY', comment: 'first' }, { key: 'HISTORY', comment: 'second' },
      { key: 'PROVENAN', value: 'p'.repeat(200) },
    ];
    await writeFitsImage(file, { data: new Float32Array(64).fill(2), width: 8, height: 8 }, cards);
    const { header, wcs, beam } = await readFitsImage(file);
    expect(header.history()).toEqual(['first', 'second']);
    expect(header.getString('PROVENAN')).toBe('p'.repeat(200));
    expect(beam).toEqual({ bmajDeg: 1e-3, bminDeg: 5e-4, bpaDeg: 45, source: 'header' });
    expect(wcs.pixToSky(3.5, 3.5)).toEqual({ ra: 359.5, dec: 89 });
  });

  it('leaves no temporary file behind, and replaces an existing file', async () => {
    const file = path.join(dir, 'atomic.fits');
    await fs.writeFile(file, 'old');
    await writeFitsImage(file, { data: new Float32Array(1), width: 1, height: 1 }, []);
    expect((await fs.readdir(dir)).filter((n) => n.includes('atomic'))).toEqual(['atomic.fits']);
    expect((await fs.stat(file)).size).toBe(5760);
  });

  it('rejects bad images and unwritable paths with clear errors', async () => {
    await expect(writeFitsImage(path.join(dir, 'x.fits'), { data: new Float32Array(3), width: 2, height: 2 }, [])).rejects.toThrow(FormatError);
    await expect(writeFitsImage(path.join(dir, 'x.fits'), { data: new Float32Array(3), width: 2, height: 2 }, [])).rejects.toThrow(/2x2 and 3 values/);
    await expect(writeFitsImage(path.join(dir, 'x.fits'), { data: new Float32Array(1), width: 1, height: 1 }, [], { bitpix: 16 as unknown as -32 })).rejects.toThrow(/bitpix must be -32 or -64, got 16/);
    const missing = path.join(dir, 'no', 'such', 'dir', 'x.fits');
    await expect(writeFitsImage(missing, { data: new Float32Array(1), width: 1, height: 1 }, [])).rejects.toThrow(UserInputError);
    await expect(writeFitsImage(missing, { data: new Float32Array(1), width: 1, height: 1 }, [])).rejects.toThrow(/cannot write .*x\.fits: ENOENT/);
    expect(await fs.readdir(dir)).not.toContain('x.fits');
  });
});
