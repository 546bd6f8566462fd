import fc from 'fast-check';
import { FormatError } from '../../src/core/errors';
import { headerFromCards } from '../../src/fits/header';
import type { FitsCard } from '../../src/fits/types';
import { Wcs, sinWcsCards, type Projection } from '../../src/fits/wcs';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

function wcsOf(cards: FitsCard[]): Wcs {
  return Wcs.fromHeader(headerFromCards([{ key: 'NAXIS', value: 2 }, ...cards]));
}

function basic(projection: string, crval: [number, number], extra: FitsCard[] = [], cdelt = 1): FitsCard[] {
  return [
    { key: 'CTYPE1', value: `RA---${projection}` },
    { key: 'CTYPE2', value: `DEC--${projection}` },
    { key: 'CRPIX1', value: 1 },
    { key: 'CRPIX2', value: 1 },
    { key: 'CRVAL1', value: crval[0] },
    { key: 'CRVAL2', value: crval[1] },
    { key: 'CDELT1', value: -cdelt },
    { key: 'CDELT2', value: cdelt },
    ...extra,
  ];
}

/** Great-circle distance in degrees (haversine, exact enough near 0). */
function separation(a: { ra: number; dec: number }, b: { ra: number; dec: number }): number {
  const s = Math.sin(((b.dec - a.dec) * D2R) / 2) ** 2 + Math.cos(a.dec * D2R) * Math.cos(b.dec * D2R) * Math.sin(((b.ra - a.ra) * D2R) / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(s))) * R2D;
}

describe('Wcs hand-worked values', () => {
  it('reference pixel maps to CRVAL, 0-based (CRPIX 1 is pixel 0)', () => {
    const wcs = wcsOf(basic('SIN', [150, 30]));
    expect(wcs.pixToSky(0, 0)).toEqual({ ra: 150, dec: 30 });
    expect(wcs.skyToPix(150, 30)).toEqual({ x: 0, y: 0 });
  });

  it('SIN at (0, 0): along the meridian y = sin(dec) rad; along the equator x = -sin(ra) rad', () => {
    const wcs = wcsOf(basic('SIN', [0, 0]));
    const north = wcs.skyToPix(0, 10);
    expect(north.x).toBeCloseTo(0, 12);
    expect(north.y).toBeCloseTo(Math.sin(10 * D2R) * R2D, 10);
    const east = wcs.skyToPix(10, 0);
    expect(east.x).toBeCloseTo(-Math.sin(10 * D2R) * R2D, 10); // CDELT1 < 0: east is to the left
    expect(east.y).toBeCloseTo(0, 12);
    const back = wcs.pixToSky(0, Math.sin(10 * D2R) * R2D);
    expect(back.ra).toBeCloseTo(0, 10);
    expect(back.dec).toBeCloseTo(10, 10);
  });

  it('TAN at (0, 0): y = tan(dec) rad on the meridian', () => {
    const wcs = wcsOf(basic('TAN', [0, 0]));
    expect(wcs.skyToPix(0, 30).y).toBeCloseTo(Math.tan(30 * D2R) * R2D, 10);
    expect(wcs.pixToSky(0, Math.tan(30 * D2R) * R2D).dec).toBeCloseTo(30, 10);
    expect(wcs.skyToPix(0, -90)).toEqual({ x: NaN, y: NaN }); // 90 degrees away: outside TAN
  });

  it('SIN beyond the horizon is NaN both ways', () => {
    const wcs = wcsOf(basic('SIN', [0, 0]));
    expect(wcs.pixToSky(70, 0)).toEqual({ ra: NaN, dec: NaN }); // |x| > 57.3 deg
    expect(wcs.skyToPix(180, 0)).toEqual({ x: NaN, y: NaN });
  });

  it('SIN centred on the south pole: pixels on the meridian ra = 0 run toward dec -90', () => {
    // CRVAL (0, -90), LONPOLE 180 (as in 1904-66_SIN.fits): moving "up" (+y) from the pole goes along ra = 0.
    const wcs = wcsOf(basic('SIN', [0, -90], [{ key: 'LONPOLE', value: 180 }]));
    const sky = wcs.pixToSky(0, Math.sin(20 * D2R) * R2D);
    expect(sky.dec).toBeCloseTo(-70, 10);
    expect(sky.ra).toBeCloseTo(0, 10);
  });

  it('NCP equals SIN with PV2_2 = cot(dec0)', () => {
    const dec0 = 40;
    const ncp = wcsOf(basic('NCP', [120, dec0], [], 0.01));
    const sin = wcsOf(basic('SIN', [120, dec0], [{ key: 'PV2_1', value: 0 }, { key: 'PV2_2', value: 1 / Math.tan(dec0 * D2R) }], 0.01));
    for (const [x, y] of [[100, -50], [-300, 400], [0, 0]]) {
      const a = ncp.pixToSky(x, y);
      const b = sin.pixToSky(x, y);
      expect(a.ra).toBeCloseTo(b.ra, 12);
      expect(a.dec).toBeCloseTo(b.dec, 12);
    }
    // NCP: a point at the same RA as the centre maps to y = (cos(dec0) - cos(dec)) / sin(dec0), the classical NCP formula
    const dec = 45;
    const expectedY = ((Math.cos(dec0 * D2R) - Math.cos(dec * D2R)) / Math.sin(dec0 * D2R)) * R2D / 0.01;
    expect(ncp.skyToPix(120, dec).y).toBeCloseTo(expectedY, 8);
  });

  it('CROTA2, PC and CD forms of the same rotation agree', () => {
    const rho = 30;
    const c = Math.cos(rho * D2R);
    const s = Math.sin(rho * D2R);
    const [cd1, cd2] = [-0.002, 0.001];
    const common: FitsCard[] = basic('TAN', [10, 20]).filter((card) => !card.key.startsWith('CDELT'));
    const withCrota = wcsOf([...common, { key: 'CDELT1', value: cd1 }, { key: 'CDELT2', value: cd2 }, { key: 'CROTA2', value: rho }]);
    const withCd = wcsOf([...common, { key: 'CD1_1', value: cd1 * c }, { key: 'CD1_2', value: -cd2 * s }, { key: 'CD2_1', value: cd1 * s }, { key: 'CD2_2', value: cd2 * c }]);
    const withPc = wcsOf([
      ...common, { key: 'CDELT1', value: cd1 }, { key: 'CDELT2', value: cd2 },
      { key: 'PC1_1', value: c }, { key: 'PC1_2', value: (-cd2 / cd1) * s }, { key: 'PC2_1', value: (cd1 / cd2) * s }, { key: 'PC2_2', value: c },
    ]);
    const withOldPc = wcsOf([
      ...common, { key: 'CDELT1', value: cd1 }, { key: 'CDELT2', value: cd2 },
      { key: 'PC001001', value: c }, { key: 'PC001002', value: (-cd2 / cd1) * s }, { key: 'PC002001', value: (cd1 / cd2) * s }, { key: 'PC002002', value: c },
    ]);
    for (const [x, y] of [[17, -3], [250, 400]]) {
      const ref = withCd.pixToSky(x, y);
      for (const other of [withCrota, withPc, withOldPc]) expect(separation(ref, other.pixToSky(x, y))).toBeLessThan(1e-12);
    }
  });

  it('reads RA on the second axis (transposed images)', () => {
    const normal = wcsOf(basic('SIN', [30, 60], [], 0.01));
    const swapped = wcsOf([
      { key: 'CTYPE1', value: 'DEC--SIN' }, { key: 'CTYPE2', value: 'RA---SIN' },
      { key: 'CRPIX1', value: 1 }, { key: 'CRPIX2', value: 1 }, { key: 'CRVAL1', value: 60 }, { key: 'CRVAL2', value: 30 },
      { key: 'CDELT1', value: 0.01 }, { key: 'CDELT2', value: -0.01 },
    ]);
    const a = normal.pixToSky(5, 9);
    const b = swapped.pixToSky(9, 5);
    expect(separation(a, b)).toBeLessThan(1e-12);
    const p = swapped.skyToPix(a.ra, a.dec);
    expect(p.x).toBeCloseTo(9, 9);
    expect(p.y).toBeCloseTo(5, 9);
  });

  it('sinWcsCards puts the reference pixel at the image centre (0-based (w-1)/2)', () => {
    const cards = sinWcsCards({ raDeg: 50, decDeg: -20, cdeltDeg: 1.5 / 3600, width: 4096, height: 2048 });
    const get = (key: string) => cards.find((c) => c.key === key)?.value;
    expect([get('CTYPE1'), get('CTYPE2'), get('CRPIX1'), get('CRPIX2'), get('RADESYS'), get('EQUINOX')]).toEqual(['RA---SIN', 'DEC--SIN', 2048.5, 1024.5, 'ICRS', 2000]);
    expect(get('CDELT1')).toBe(-1.5 / 3600);
    const wcs = wcsOf(cards);
    expect(wcs.pixToSky(2047.5, 1023.5)).toEqual({ ra: 50, dec: -20 });
    // one pixel east (RA increasing) is one pixel to the left
    expect(wcs.skyToPix(50 + 1.5 / 3600 / Math.cos(20 * D2R), -20).x).toBeCloseTo(2046.5, 3);
    expect(() => sinWcsCards({ raDeg: 0, decDeg: 100, cdeltDeg: 1, width: 1, height: 1 })).toThrow(/invalid centre/);
    expect(() => sinWcsCards({ raDeg: 0, decDeg: 0, cdeltDeg: -1, width: 1, height: 1 })).toThrow(/cdeltDeg must be > 0/);
  });

  it('round-trips through its own cards', () => {
    const wcs = wcsOf(basic('SIN', [200, -45], [{ key: 'PV2_1', value: 0.1 }, { key: 'PV2_2', value: -0.2 }, { key: 'CROTA2', value: 12 }], 0.001));
    const again = wcsOf(wcs.toCards());
    for (const [x, y] of [[0, 0], [123, -456]]) expect(separation(wcs.pixToSky(x, y), again.pixToSky(x, y))).toBeLessThan(1e-12);
  });
});

describe('Wcs frames', () => {
  it('defaults: no EQUINOX → ICRS, EQUINOX/EPOCH 2000 → FK5, RADESYS wins', () => {
    expect(wcsOf(basic('SIN', [0, 0])).params.radesys).toBe('ICRS');
    expect(wcsOf([...basic('SIN', [0, 0]), { key: 'EPOCH', value: 2000 }]).params.radesys).toBe('FK5');
    expect(wcsOf([...basic('SIN', [0, 0]), { key: 'EQUINOX', value: 2000 }, { key: 'RADESYS', value: 'ICRS' }]).params.radesys).toBe('ICRS');
  });
});

describe('Wcs header errors', () => {
  it.each([
    ['no celestial axes', [{ key: 'CTYPE1', value: 'FREQ' }], /no RA\/DEC celestial axes/],
    ['galactic', [{ key: 'CTYPE1', value: 'GLON-SIN' }, { key: 'CTYPE2', value: 'GLAT-SIN' }], /only equatorial/],
    ['unsupported projection', basic('AIT', [0, 0]), /unsupported projection AIT/],
    ['mixed projections', [{ key: 'CTYPE1', value: 'RA---SIN' }, { key: 'CTYPE2', value: 'DEC--TAN' }], /projections of RA---SIN and DEC--TAN differ/],
    ['singular CD', [...basic('SIN', [0, 0]), { key: 'CD1_1', value: 0 }, { key: 'CD2_2', value: 0 }].filter((c) => !c.key.startsWith('CDELT')), /singular/],
    ['non-numeric CRVAL', [...basic('SIN', [0, 0]), { key: 'CRVAL1', value: 'ten' }], /CRVAL1 must be a number/],
    ['SIP distortion', [{ key: 'CTYPE1', value: 'RA---TAN-SIP' }, { key: 'CTYPE2', value: 'DEC--TAN-SIP' }], /distortion conventions \(-SIP\) are not supported/],
    ['B1950 by EQUINOX', [...basic('SIN', [0, 0]), { key: 'EQUINOX', value: 1950 }], /B1950 coordinates .* not supported/],
    ['B1950 by RADESYS', [...basic('SIN', [0, 0]), { key: 'RADESYS', value: 'FK4' }], /B1950 coordinates \(RADESYS FK4, EQUINOX 1950\)/],
    ['galactic frame name', [...basic('SIN', [0, 0]), { key: 'RADESYS', value: 'GAPPT' }], /unsupported celestial frame RADESYS = "GAPPT"/],
    ['arcsec units', [...basic('SIN', [0, 0]), { key: 'CUNIT1', value: 'arcsec' }], /CUNIT1 must be degrees/],
  ] as [string, FitsCard[], RegExp][])('%s', (_name, cards, pattern) => {
    expect(() => wcsOf(cards)).toThrow(FormatError);
    expect(() => wcsOf(cards)).toThrow(pattern);
  });
});

describe('Wcs round trip (property)', () => {
  it('skyToPix(pixToSky(p)) = p for random projections, rotations, centres (poles included) and PV terms', () => {
    const projections: Projection[] = ['SIN', 'TAN', 'ARC', 'STG', 'CAR'];
    fc.assert(
      fc.property(
        fc.constantFrom(...projections),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constantFrom(-90, 90, 0)),
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: 1e-5, max: 0.05, noNaN: true }),
        fc.double({ min: -0.3, max: 0.3, noNaN: true }),
        fc.double({ min: -0.3, max: 0.3, noNaN: true }),
        fc.double({ min: -1500, max: 1500, noNaN: true }),
        fc.double({ min: -1500, max: 1500, noNaN: true }),
        (projection, ra0, dec0, rho, cdelt, xi, eta, x, y) => {
          const extra: FitsCard[] = [{ key: 'CROTA2', value: rho }, { key: 'CRPIX1', value: 300.5 }, { key: 'CRPIX2', value: -20 }];
          if (projection === 'SIN') extra.push({ key: 'PV2_1', value: xi }, { key: 'PV2_2', value: eta });
          const wcs = wcsOf(basic(projection, [ra0, dec0], extra, cdelt));
          const sky = wcs.pixToSky(x, y);
          if (Number.isNaN(sky.ra)) return; // outside the projection's domain
          expect(sky.dec).toBeGreaterThanOrEqual(-90);
          expect(sky.dec).toBeLessThanOrEqual(90);
          const back = wcs.skyToPix(sky.ra, sky.dec);
          // Doubles hold angles to ~1e-13 deg; allow 1e-9 deg (3.6 microarcsec), 300 times below the 1 mas goal.
          expect(Math.hypot(back.x - x, back.y - y) * cdelt).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
