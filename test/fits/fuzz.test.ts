/**
 * Property tests: random and corrupted bytes and headers. The reader must either return a valid
 * result or throw FormatError — never another error, a crash or a hang.
 */
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError } from '../../src/core/errors';
import { headerFromCards, parseCards } from '../../src/fits/header';
import { openFits, parseHeaderBytes } from '../../src/fits/read';
import { Wcs } from '../../src/fits/wcs';
import { card, imageFile } from './fitsBytes';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fits-fuzz-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function expectFormatErrorOrResult(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
  }
}

const validFile = (): Buffer =>
  imageFile(16, [6, 5, 1, 1], Array.from({ length: 30 }, (_, i) => i * 100 - 1500), [
    card('BSCALE', '0.5'), card('BZERO', '1.0'), card('BLANK', '-1500'),
    card('CTYPE1', "'RA---SIN'"), card('CTYPE2', "'DEC--SIN'"), card('CTYPE3', "'FREQ    '"), card('CTYPE4', "'STOKES  '"),
    card('CRPIX1', '3.0'), card('CRPIX2', '3.0'), card('CRVAL1', '10.0'), card('CRVAL2', '-30.0'),
    card('CDELT1', '-0.001'), card('CDELT2', '0.001'), card('BMAJ', '0.003'), card('BMIN', '0.002'),
    "LONGSTR = 'a long string that goes on&'".padEnd(80), "CONTINUE  'and on'".padEnd(80),
    card('HISTORY some history'),
  ]);

let counter = 0;
async function openBytes(bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, `f${counter++}.fits`);
  await fs.writeFile(file, bytes);
  try {
    const f = await openFits(file);
    try {
      const image = await f.readImage();
      expect(image.data.length).toBe(f.width * f.height);
      expectFormatErrorOrResult(() => Wcs.fromHeader(f.header, file).pixToSky(0, 0));
    } finally {
      await f.close();
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    expect(err.message.startsWith(file)).toBe(true);
  } finally {
    await fs.rm(file, { force: true });
  }
}

describe('random bytes', () => {
  it('parseHeaderBytes returns null, a header, or throws FormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => expectFormatErrorOrResult(() => parseHeaderBytes(bytes, 'fuzz'))),
      { numRuns: 300 },
    );
  });

  it('parseHeaderBytes on a SIMPLE prefix followed by random printable cards', () => {
    const printableCard = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 80, maxLength: 80 });
    fc.assert(
      fc.property(fc.array(printableCard, { maxLength: 80 }), fc.boolean(), (cards, withEnd) => {
        const all = [card('SIMPLE', 'T'), ...cards, ...(withEnd ? ['END'.padEnd(80)] : [])];
        const text = all.join('');
        const bytes = Buffer.from(text.padEnd(Math.ceil(text.length / 2880) * 2880, ' '), 'latin1');
        expectFormatErrorOrResult(() => parseHeaderBytes(bytes, 'fuzz'));
      }),
      { numRuns: 300 },
    );
  });

  it('parseCards + Wcs.fromHeader on random WCS-like cards', () => {
    const keys = ['CTYPE1', 'CTYPE2', 'CRPIX1', 'CRPIX2', 'CRVAL1', 'CRVAL2', 'CDELT1', 'CDELT2', 'CD1_1', 'CD2_2', 'CD1_2', 'PC1_1', 'CROTA2', 'PV2_1', 'PV2_2', 'LONPOLE', 'LATPOLE', 'CUNIT1'];
    const values = fc.oneof(
      fc.constantFrom("'RA---SIN'", "'DEC--SIN'", "'RA---TAN'", "'DEC--NCP'", "'RA---NCP'", "'DEC--CAR'", "'GLON-SIN'", "'deg'", "'arcsec'", 'T', "'", "''"),
      fc.double().map((v) => (Number.isFinite(v) ? v.toExponential() : String(v))),
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...keys), values), { maxLength: 20 }), fc.double({ min: -1e6, max: 1e6 }), fc.double({ min: -1e6, max: 1e6 }), (pairs, x, y) => {
        expectFormatErrorOrResult(() => {
          const header = headerFromCards(parseCards(pairs.map(([k, v]) => card(k, v)), 'fuzz'));
          const wcs = Wcs.fromHeader(header, 'fuzz');
          const sky = wcs.pixToSky(x, y);
          if (!Number.isNaN(sky.ra)) {
            expect(sky.dec).toBeGreaterThanOrEqual(-90);
            expect(sky.dec).toBeLessThanOrEqual(90);
            wcs.skyToPix(sky.ra, sky.dec);
          }
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('corrupted files', () => {
  it('the unmodified file reads', async () => {
    const file = path.join(dir, 'valid.fits');
    await fs.writeFile(file, validFile());
    const f = await openFits(file);
    expect(Array.from((await f.readRows(0, 1)).subarray(0, 3))).toEqual([NaN, -699, -649]);
    await f.close();
  });

  it('random byte changes in the header', async () => {
    const headerLength = 2880;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: headerLength - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }), async (edits) => {
        const bytes = validFile();
        for (const [at, value] of edits) bytes[at] = value;
        await openBytes(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('printable changes in header values (digits, signs, quotes, letters)', async () => {
    const text = validFile();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: 10, max: 79 }), fc.constantFrom(...'0123456789-+.E \'TFX&/='.split(''))), { minLength: 1, maxLength: 10 }), async (edits) => {
        const bytes = Buffer.from(text);
        for (const [cardIndex, column, char] of edits) bytes[cardIndex * 80 + column] = char.charCodeAt(0);
        await openBytes(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('random NAXIS/BITPIX values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'NAXIS3', 'NAXIS4'),
        fc.oneof(fc.integer({ min: -100, max: 100 }), fc.integer(), fc.constantFrom(2 ** 31, 2 ** 53, 1e300, -0)).map(String),
        async (key, value) => {
          const bytes = validFile();
          const cards = bytes.toString('latin1', 0, 2880);
          const index = cards.indexOf(key.padEnd(8, ' ') + '=');
          bytes.write(card(key, value), index, 'latin1');
          await openBytes(bytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('truncation at any length', async () => {
    const full = validFile();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length }), async (length) => {
        await openBytes(full.subarray(0, length));
      }),
      { numRuns: 150 },
    );
  });
});
