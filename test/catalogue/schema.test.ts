import { DETECTION_COLUMNS, DETECTION_FLAGS, TRUTH_COLUMNS, buildDetectionTable, buildTruthTable, concatTables, emptyDetectionTable, sortTableBy } from '../../src/catalogue/schema';
import { META } from '../../src/catalogue/provenance';
import { healpixAtOrder, healpixNested, healpixNested29, iauName } from '../../src/catalogue/ids';

describe('column definitions', () => {
  test('truth columns follow CONTRACT.md', () => {
    expect(TRUTH_COLUMNS.map((c) => [c.name, c.type])).toEqual([
      ['id', 'int32'], ['x', 'float64'], ['y', 'float64'], ['ra_deg', 'float64'], ['dec_deg', 'float64'], ['flux_jy', 'float64'], ['snr', 'float64'],
    ]);
  });

  test('detection columns include every CONTRACT.md column plus name and _healpix_29', () => {
    const names = DETECTION_COLUMNS.map((c) => c.name);
    for (const c of ['source_id', 'image_id', 'x', 'y', 'ra_deg', 'dec_deg', 'peak_flux', 'local_rms', 'snr', 'cnn_peak', 'area_px', 'tile_id', 'flags', 'name', '_healpix_29']) {
      expect(names).toContain(c);
    }
    expect(DETECTION_COLUMNS.find((c) => c.name === 'flags')!.type).toBe('int32');
    expect(DETECTION_COLUMNS.find((c) => c.name === '_healpix_29')!.type).toBe('int64');
    expect(DETECTION_COLUMNS.find((c) => c.name === 'ra_deg')!.ucd).toBe('pos.eq.ra;meta.main');
    for (const c of DETECTION_COLUMNS) expect(c.description.length).toBeGreaterThan(5);
  });

  test('flag bits are distinct powers of two and documented in the column description', () => {
    const bits = Object.values(DETECTION_FLAGS);
    expect(new Set(bits).size).toBe(bits.length);
    const desc = DETECTION_COLUMNS.find((c) => c.name === 'flags')!.description;
    for (const b of bits) {
      expect(Math.log2(b) % 1).toBe(0);
      expect(desc).toContain(String(b));
    }
  });
});

describe('buildDetectionTable', () => {
  const input = {
    image_id: 'img_000',
    x: [10, 20],
    y: [30, 40],
    ra_deg: [150, 150.01],
    dec_deg: [-30, -30.01],
    peak_flux: [1e-4, 3e-4],
    local_rms: [2e-5, 3e-5],
    cnn_peak: [0.5, 0.75],
    area_px: [4, 9],
  };

  test('derives snr, names, ids, healpix, tile_id and flags; types per schema', () => {
    const t = buildDetectionTable(input, { modelName: 'natural', noiseEstimator: 'border-std' });
    expect(Object.keys(t.columns)).toEqual(DETECTION_COLUMNS.map((c) => c.name));
    expect(Array.from(t.columns.snr as Float64Array)).toEqual([1e-4 / 2e-5, 3e-4 / 3e-5]);
    expect(t.columns.name).toEqual([iauName(150, -30), iauName(150.01, -30.01)]);
    expect((t.columns.source_id as string[])[0]).toMatch(/^img_000:[0-9a-f]{16}$/);
    expect(t.columns.image_id).toEqual(['img_000', 'img_000']);
    expect(Array.from(t.columns.tile_id as Int32Array)).toEqual([-1, -1]);
    expect(Array.from(t.columns.flags as Int32Array)).toEqual([0, 0]);
    expect(t.columns.cnn_peak).toBeInstanceOf(Float32Array);
    expect(t.columns.area_px).toBeInstanceOf(Int32Array);
    expect(t.columns._healpix_29).toBeInstanceOf(BigInt64Array);
    expect(t.info.ra_deg.unit).toBe('deg');
    expect(t.info.peak_flux.unit).toBe('Jy/beam');
    expect(t.metadata[META.catalogue]).toBe('detection');
    expect(t.metadata[META.modelName]).toBe('natural');
    expect(t.metadata[META.noiseEstimator]).toBe('border-std');
    expect(t.metadata[META.softwareVersion]).toMatch(/^deepsource-ts \d+\.\d+\.\d+/);
  });

  test('does not modify its inputs; typed arrays of the schema type are used without copying', () => {
    const x = Float64Array.from([1, 2]);
    const peak = [1e-4, 3e-4];
    const t = buildDetectionTable({ ...input, x, peak_flux: peak });
    expect(Array.from(x)).toEqual([1, 2]);
    expect(peak).toEqual([1e-4, 3e-4]);
    expect(t.columns.x).toBe(x);
  });

  test('rejects columns of different lengths, naming the column', () => {
    expect(() => buildDetectionTable({ ...input, y: [1, 2, 3] })).toThrow(/column y has 3 rows, expected 2/);
  });

  test('an empty table has every column with zero rows', () => {
    const t = emptyDetectionTable();
    expect(Object.keys(t.columns)).toEqual(DETECTION_COLUMNS.map((c) => c.name));
    for (const c of Object.values(t.columns)) expect(c.length).toBe(0);
  });
});

test('buildTruthTable numbers sources from 0 and records provenance', () => {
  const t = buildTruthTable({ x: [1, 2], y: [3, 4], ra_deg: [1, 2], dec_deg: [3, 4], flux_jy: [1e-5, 2e-5], snr: [3, 4] }, { imageName: 'img_000.fits' });
  expect(Array.from(t.columns.id as Int32Array)).toEqual([0, 1]);
  expect(t.metadata[META.catalogue]).toBe('truth');
  expect(t.metadata[META.imageName]).toBe('img_000.fits');
  expect(t.info.flux_jy.unit).toBe('Jy');
});

test('concatTables joins columns in order and rejects different schemas', () => {
  const a = buildTruthTable({ x: [1], y: [1], ra_deg: [1], dec_deg: [1], flux_jy: [1], snr: [1] });
  const b = buildTruthTable({ x: [2, 3], y: [2, 3], ra_deg: [2, 3], dec_deg: [2, 3], flux_jy: [2, 3], snr: [2, 3] });
  const c = concatTables([a, b]);
  expect(Array.from(c.columns.x as Float64Array)).toEqual([1, 2, 3]);
  expect(Array.from(c.columns.id as Int32Array)).toEqual([0, 0, 1]);
  const d = emptyDetectionTable();
  expect(() => concatTables([a, d])).toThrow(/column names differ/);
});

test('sortTableBy orders every column by the key (bigint and float, NaN last, stable)', () => {
  const t = {
    columns: {
      h: BigInt64Array.from([5n, 1n, 3n, 1n]),
      f: Float64Array.from([2, NaN, 1, 0.5]),
      s: ['a', 'b', 'c', 'd'],
    },
    info: {},
    metadata: { k: 'v' },
  };
  const byH = sortTableBy(t, 'h');
  expect(Array.from(byH.columns.h as BigInt64Array)).toEqual([1n, 1n, 3n, 5n]);
  expect(byH.columns.s).toEqual(['b', 'd', 'c', 'a']);
  const byF = sortTableBy(t, 'f');
  expect(byF.columns.s).toEqual(['d', 'c', 'a', 'b']);
  expect(byF.metadata).toEqual({ k: 'v' });
  expect(Array.from(t.columns.h)).toEqual([5n, 1n, 3n, 1n]);
  expect(() => sortTableBy(t, 's')).toThrow(/only numeric columns/);
  expect(() => sortTableBy(t, 'zz')).toThrow(/no such column/);
});

test('healpixAtOrder drops two bits per order', () => {
  const h = healpixNested29(150.1, -30.2);
  expect(healpixAtOrder(h, 29)).toBe(h);
  expect(healpixAtOrder(h, 0)).toBe(healpixNested(0, 150.1, -30.2));
  expect(healpixAtOrder(h, 10)).toBe(healpixNested(10, 150.1, -30.2));
  expect(() => healpixAtOrder(h, 30)).toThrow(/0\.\.29, got 30/);
});

test('detections without a sky position get unique pixel-based ids, empty names and healpix -1', () => {
  const t = buildDetectionTable({
    image_id: 'nowcs', x: [1, 2], y: [3, 4], ra_deg: [NaN, NaN], dec_deg: [NaN, NaN], peak_flux: [1, 1], local_rms: [1, 1], cnn_peak: [1, 1], area_px: [1, 1],
  });
  expect(t.columns.source_id).toEqual(['nowcs:pix:1.000,3.000', 'nowcs:pix:2.000,4.000']);
  expect(t.columns.name).toEqual(['', '']);
  expect(Array.from(t.columns._healpix_29 as BigInt64Array)).toEqual([-1n, -1n]);
});
