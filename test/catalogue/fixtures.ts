/** Shared test catalogues: a small detection table with awkward strings, and an empty one. */
import { buildDetectionTable, buildTruthTable, emptyDetectionTable } from '../../src/catalogue/schema';
import type { ColumnTable } from '../../src/catalogue/table';

export const ODD_STRINGS = [
  'plain',
  'comma, "quotes" and \'apostrophes\'',
  'line\nbreak\r\nand\ttab',
  '<xml> & ampersand </TD>',
  'ünïcödé – 東京 🚀',
  'back\\slash and & trailing space ',
  '#hash at start',
  '',
];

export function oddDetectionTable(): ColumnTable {
  const n = ODD_STRINGS.length;
  const ra = Array.from({ length: n }, (_, i) => 150 + i * 0.001);
  const dec = Array.from({ length: n }, (_, i) => -30 - i * 0.001);
  return buildDetectionTable(
    {
      image_id: ODD_STRINGS,
      x: ra.map((_, i) => 100.25 + i),
      y: ra.map((_, i) => 200.5 - i),
      ra_deg: ra,
      dec_deg: dec,
      peak_flux: ra.map((_, i) => (i === 3 ? NaN : 1e-4 * (i + 1) + 1 / 3)),
      local_rms: ra.map(() => 2.5e-5),
      cnn_peak: ra.map((_, i) => 0.1 + i / 10),
      area_px: ra.map((_, i) => 3 + i),
      tile_id: ra.map((_, i) => i % 3),
      flags: ra.map((_, i) => (i === 2 ? 5 : 0)),
    },
    {
      modelName: 'natural',
      modelVersion: '1.0.0',
      tbd: { delta_max: 3, a_min: 4, threshold: 0.55 },
      noiseEstimator: 'mad-local-rms',
      noiseValue: 2.5e-5,
      imageName: 'ïmage "N°1" <b>&\\ \'quoted\'.fits',
      imageSha256: 'ab'.repeat(32),
      beamArcsec: 6.4,
      extra: { 'deepsource.long_note': 'x'.repeat(150) + " it's long, with a quote ' and non-ASCII é", 'deepsource.ampersand': 'R&D&', 'deepsource.spaces': ' padded  ' },
    },
  );
}

export function truthTable(): ColumnTable {
  return buildTruthTable({ x: [1, 2.5], y: [3, 4.25], ra_deg: [10.5, 10.6], dec_deg: [-45, -45.1], flux_jy: [1e-5, 2e-5], snr: [3.5, 7] }, { imageName: 'img_000.fits' });
}

export function emptyTable(): ColumnTable {
  return emptyDetectionTable({ modelName: 'natural', imageName: 'empty.fits', noiseEstimator: 'border-std' });
}
