import { beamFilterText, parseSExtractorAscii } from '../../src/eval/finders/sextractor';
import { parseDriverCsv } from '../../src/eval/finders/pybdsf';
import { detectionsFromPositions, pixelValues } from '../../src/eval/finders/common';
import { Wcs } from '../../src/fits/wcs';
import { headerFromCards } from '../../src/fits/header';
import { sinWcsCards } from '../../src/fits/write';

describe('beamFilterText', () => {
  test('a Gaussian with the beam FWHM: peak 1 at the centre, 0.5 at half the FWHM', () => {
    const lines = beamFilterText(4).trim().split('\n');
    expect(lines[0]).toBe('CONV NORM');
    const rows = lines.filter((l) => !l.startsWith('#') && l !== 'CONV NORM').map((l) => l.split(' ').map(Number));
    const size = rows.length;
    expect(size % 2).toBe(1);
    expect(rows.every((r) => r.length === size)).toBe(true);
    const c = (size - 1) / 2;
    expect(rows[c][c]).toBe(1);
    // FWHM 4 px: at 2 px from the centre the Gaussian is exactly 1/2
    expect(rows[c][c + 2]).toBeCloseTo(0.5, 6);
    expect(rows[c + 2][c]).toBeCloseTo(0.5, 6);
  });

  test('never larger than 31x31 (SExtractor limit)', () => {
    const rows = beamFilterText(60).trim().split('\n').filter((l) => !l.startsWith('#') && l !== 'CONV NORM');
    expect(rows).toHaveLength(31);
  });
});

describe('parsers', () => {
  test('SExtractor ASCII_HEAD', () => {
    const text = '#   1 NUMBER    Running object number\n#   2 X_IMAGE  Object position along x  [pixel]\n#   3 Y_IMAGE\n#   4 ISOAREA_IMAGE\n      1   10.5   20.25  12\n      2  100.0    1.0    7\n';
    expect(parseSExtractorAscii(text, 'a.cat')).toEqual({ NUMBER: [1, 2], X_IMAGE: [10.5, 100], Y_IMAGE: [20.25, 1], ISOAREA_IMAGE: [12, 7] });
    expect(parseSExtractorAscii('#   1 X_IMAGE\n#   2 Y_IMAGE\n', 'e.cat').X_IMAGE).toEqual([]);
    expect(() => parseSExtractorAscii('#   1 X_IMAGE\n#   2 Y_IMAGE\n 1\n', 'bad.cat')).toThrow(/bad.cat: row has 1 fields, expected 2/);
  });

  test('PyBDSF driver CSV', () => {
    expect(parseDriverCsv('ra_deg,dec_deg,peak_flux\n50.5,-30.25,0.001\n', 's.csv')).toEqual({ ra_deg: [50.5], dec_deg: [-30.25], peak_flux: [0.001] });
    expect(parseDriverCsv('ra_deg,dec_deg\n', 's.csv').ra_deg).toEqual([]);
    expect(() => parseDriverCsv('', 'e.csv')).toThrow(/e.csv: empty/);
    expect(() => parseDriverCsv('ra_deg\n1\n', 'm.csv')).toThrow(/missing column dec_deg/);
  });
});

describe('detectionsFromPositions', () => {
  const width = 20;
  const data = new Float32Array(width * width).map((_, i) => i);
  const image = { data, width, height: width };
  const wcs = Wcs.fromHeader(headerFromCards(sinWcsCards({ raDeg: 10, decDeg: 20, cdeltDeg: 1 / 3600, width, height: width })));
  const target = { imageId: 'img_9', path: 'x.fits', image, wcs, beamArcsec: 4, pixelScaleArcsec: 1, noise: 2 };

  test('pixel positions: sky from the WCS, peak at the nearest pixel, SNR over the given noise', () => {
    const t = detectionsFromPositions(target, { x: [3.4, 30], y: [5.6, 1] }, 'test');
    expect(Array.from(t.columns.peak_flux as Float64Array)).toEqual([6 * width + 3, NaN]);
    expect(Array.from(t.columns.snr as Float64Array)).toEqual([(6 * width + 3) / 2, NaN]);
    const sky = wcs.pixToSky(3.4, 5.6);
    expect((t.columns.ra_deg as Float64Array)[0]).toBeCloseTo(sky.ra, 12);
    expect(t.columns.image_id).toEqual(['img_9', 'img_9']);
  });

  test('sky positions: pixels from the WCS', () => {
    const sky = wcs.pixToSky(7, 8);
    const t = detectionsFromPositions(target, { raDeg: [sky.ra], decDeg: [sky.dec] }, 'test');
    expect((t.columns.x as Float64Array)[0]).toBeCloseTo(7, 6);
    expect((t.columns.y as Float64Array)[0]).toBeCloseTo(8, 6);
    expect((t.columns.peak_flux as Float64Array)[0]).toBe(8 * width + 7);
  });

  test('no positions: an empty catalogue', () => {
    const t = detectionsFromPositions(target, { x: [], y: [] }, 'test');
    expect((t.columns.x as Float64Array).length).toBe(0);
  });

  test('pixelValues rounds to the nearest pixel', () => {
    expect(Array.from(pixelValues(image, [0.49, 19.5, -0.6], [0, 0, 0]))).toEqual([0, NaN, NaN]);
  });
});
