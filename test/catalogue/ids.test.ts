import fc from 'fast-check';
import { healpixNested, healpixNested29, iauName, sourceId } from '../../src/catalogue/ids';

describe('iauName', () => {
  test('hand-worked designations', () => {
    // 10 deg = 0h40m00s; -30 deg exactly.
    expect(iauName(10, -30)).toBe('DS J004000.00-300000.0');
    // 200.123 deg / 15 = 13.3415333 h = 13h 20m 29.52s; 45.5 deg = +45 30 00.0
    expect(iauName(200.123, 45.5)).toBe('DS J132029.52+453000.0');
    // Small negative declination keeps its sign.
    expect(iauName(0, -0.5)).toBe('DS J000000.00-003000.0');
  });

  test('truncates rather than rounds (IAU convention)', () => {
    // 29.999 s of time: 0.0833330... deg beyond 13h20m29s; truncation keeps .99, rounding would give 30.00.
    const ra = (13 + 20 / 60 + 29.999 / 3600) * 15;
    expect(iauName(ra, 0)).toBe('DS J132029.99+000000.0');
    // 59.99 arcsec of declination stays 59.9.
    expect(iauName(0, -(10 + 59.99 / 3600))).toBe('DS J000000.00-100059.9');
    expect(iauName(359.9999999, 0)).toBe('DS J235959.99+000000.0');
  });

  test('wraps RA into [0, 360)', () => {
    expect(iauName(-350, 10)).toBe(iauName(10, 10));
    expect(iauName(370, 10)).toBe(iauName(10, 10));
  });
});

describe('healpixNested', () => {
  test('order 0 base pixels (Gorski et al. 2005, fig. 4 numbering)', () => {
    // Equatorial faces 4..7 are centred on lon 0, 90, 180, 270 at lat 0.
    expect(healpixNested(0, 0, 0)).toBe(4n);
    expect(healpixNested(0, 90, 0)).toBe(5n);
    expect(healpixNested(0, 180, 0)).toBe(6n);
    expect(healpixNested(0, 270, 0)).toBe(7n);
    // North polar faces 0..3 centred at lon 45, 135, 225, 315; south 8..11.
    expect(healpixNested(0, 45, 60)).toBe(0n);
    expect(healpixNested(0, 135, 60)).toBe(1n);
    expect(healpixNested(0, 315, 60)).toBe(3n);
    expect(healpixNested(0, 45, -60)).toBe(8n);
    expect(healpixNested(0, 315, -60)).toBe(11n);
  });

  test('order 1: the four children of face 4 (centre lon 0, lat 0)', () => {
    // Children are 4*4 + (2*iy + ix): the south corner is 16, the north 19; x runs from the south
    // corner towards the east corner (17), y towards the west corner (18). Same as astropy-healpix.
    expect(healpixNested(1, 0, -25)).toBe(16n);
    expect(healpixNested(1, 30, 0)).toBe(17n);
    expect(healpixNested(1, 330, 0)).toBe(18n);
    expect(healpixNested(1, 0, 25)).toBe(19n);
  });

  test('nested hierarchy: the order-29 index shifted right by 2(29-k) is the order-k index', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 359.999999, noNaN: true }), fc.double({ min: -89.999, max: 89.999, noNaN: true }), fc.integer({ min: 0, max: 20 }), (ra, dec, k) => {
        const fine = healpixNested29(ra, dec);
        return fine >> BigInt(2 * (29 - k)) === healpixNested(k, ra, dec);
      }),
      { numRuns: 300 },
    );
  });

  test('range [0, 12 * 4^29) including the poles', () => {
    const max = 12n * 4n ** 29n;
    for (const [ra, dec] of [[0, 90], [0, -90], [123, 89.9999999], [359.9999999, -89.9999999], [0, 0]]) {
      const p = healpixNested29(ra, dec);
      expect(p >= 0n && p < max).toBe(true);
    }
  });
});

describe('sourceId', () => {
  test('stable for the same image and position, distinct for neighbours and other images', () => {
    const a = sourceId('img_000', 150.000001, -30.5);
    expect(sourceId('img_000', 150.000001, -30.5)).toBe(a);
    // One MeerKAT-like pixel (1.5 arcsec) away.
    expect(sourceId('img_000', 150.000001 + 1.5 / 3600, -30.5)).not.toBe(a);
    expect(sourceId('img_001', 150.000001, -30.5)).not.toBe(a);
    expect(a.startsWith('img_000:')).toBe(true);
  });

  test('unique for detections one pixel apart over a grid', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) ids.add(sourceId('img', 10 + (i * 1.5) / 3600, -30 + (j * 1.5) / 3600));
    expect(ids.size).toBe(2500);
  });
});
