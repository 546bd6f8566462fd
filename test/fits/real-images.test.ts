/**
 * The real images in ../shared/data/real, checked against the facts SOURCES.md and the reference
 * catalogues state about them (not against our own output).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openFits, readFitsImage } from '../../src/fits/read';

const REAL_DIR = path.resolve(__dirname, '../../../shared/data/real');
const real = (name: string) => path.join(REAL_DIR, name);

async function csvRows(name: string): Promise<Record<string, string>[]> {
  const lines = (await fs.readFile(real(name), 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const columns = lines[0].split(',');
  return lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
}

describe('1904-66_SIN.fits (south-pole SIN, reference pixel outside the image)', () => {
  it('shape, blanks, header and beam', async () => {
    const { image, header, beam, wcs } = await readFitsImage(real('1904-66_SIN.fits'));
    expect([image.width, image.height]).toEqual([192, 192]);
    const nan = image.data.filter((v) => Number.isNaN(v)).length;
    expect(nan / image.data.length).toBeGreaterThan(0.38); // "40% of pixels are NaN"
    expect(nan / image.data.length).toBeLessThan(0.42);
    expect(header.getNumber('CRPIX1')).toBeCloseTo(-237.19, 2);
    expect(wcs.params.crval).toEqual([0, -90]);
    expect(beam?.source).toBe('header');
    expect(beam!.bmajDeg * 60).toBeCloseTo(14.4, 3); // "Beam 14.4'"
    expect(header.history()[0]).toBe('Parkes Multibeam continuum map');
  });

  it('the 51 Aegean components land on the catalogue pixel positions (1-based x_pix, y_pix to 3 decimals)', async () => {
    const { wcs } = await readFitsImage(real('1904-66_SIN.fits'));
    const rows = await csvRows('1904_comp.csv');
    expect(rows).toHaveLength(51);
    for (const row of rows) {
      const p = wcs.skyToPix(Number(row.ra), Number(row.dec));
      // ra/dec are float32 in the catalogue (~1e-5 deg), i.e. up to ~2e-4 px at 0.0667 deg per pixel
      expect(Math.abs(p.x + 1 - Number(row.x_pix))).toBeLessThan(1e-3);
      expect(Math.abs(p.y + 1 - Number(row.y_pix))).toBeLessThan(1e-3);
    }
  });
});

describe('GRB120422A-120429.fits (4-D, VOPT 4th axis)', () => {
  it('reads as 512 x 512; the brightest pixel is FITS (267, 260), 0.734 mJy/beam', async () => {
    const f = await openFits(real('GRB120422A-120429.fits'));
    expect(f.layout.axes).toEqual([512, 512, 1, 1]);
    const image = await f.readImage();
    await f.close();
    let best = 0;
    for (let i = 1; i < image.data.length; i++) if (image.data[i] > image.data[best]) best = i;
    expect([(best % 512) + 1, Math.floor(best / 512) + 1]).toEqual([267, 260]);
    expect(image.data[best] * 1e3).toBeCloseTo(0.734, 3);
  });

  it("PySE's fitted source position is within a pixel or so of that brightest pixel", async () => {
    const { wcs, beam } = await readFitsImage(real('GRB120422A-120429.fits'));
    const [gaussian] = await csvRows('reference_source_pyse.csv');
    const p = wcs.skyToPix(Number(gaussian.ra), Number(gaussian.dec));
    expect(Math.hypot(p.x - 266, p.y - 259)).toBeLessThan(1.5);
    // "About 11 px per beam": sqrt(BMAJ*BMIN) / 5" pixels
    expect(Math.sqrt(beam!.bmajDeg * beam!.bminDeg) / (5 / 3600)).toBeGreaterThan(6);
    expect(beam!.bmajDeg / (5 / 3600)).toBeCloseTo(10.85, 1);
  });
});

describe('AIPS_header.fits (beam only in HISTORY)', () => {
  it('beam 45" from the AIPS CLEAN card; 334 exact zeros; values on 0.1 mJy steps', async () => {
    const { image, beam } = await readFitsImage(real('AIPS_header.fits'));
    expect([image.width, image.height]).toEqual([61, 61]);
    expect(beam).toEqual({ bmajDeg: 0.0125, bminDeg: 0.0125, bpaDeg: 0, source: 'aips-history' });
    expect(beam!.bmajDeg * 3600).toBeCloseTo(45, 9);
    expect(image.data.filter((v) => v === 0).length).toBe(334);
    expect(image.data.some((v) => Number.isNaN(v))).toBe(false);
    for (const v of image.data) {
      const steps = v * 1e4;
      // float32 holds these to ~1e-7 relative: a few 1e-6 steps at most
      expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-3);
    }
  });
});
