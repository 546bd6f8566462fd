import { truthWithSnr } from '../../src/eval/finders/common';
import type { ColumnTable } from '../../src/catalogue/table';

// A 4x3 image whose pixel (x, y) holds 10*y + x, so every expected value is written down by hand.
const image = { width: 4, height: 3, data: Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)) };

function truth(): ColumnTable {
  return {
    columns: { x: Float64Array.from([0.2, 2.6, 3.4, -3]), y: Float64Array.from([0, 1.49, 2.2, 1]), snr: Float64Array.from([7, 8, 9, 10]) },
    info: {},
    metadata: { keep: 'me' },
  };
}

describe('truthWithSnr (paper section 2: pixel-flux SNR of true sources)', () => {
  test('pixel: the value of the nearest pixel over the noise; the catalogue value is kept as snr_catalogue', () => {
    const out = truthWithSnr(truth(), image, 2, 'pixel');
    // (0.2,0) -> pixel (0,0) = 0; (2.6,1.49) -> (3,1) = 13; (3.4,2.2) -> (3,2) = 23; x=-3 is outside.
    const snr = Array.from(out.columns.snr as Float64Array);
    expect(snr.slice(0, 3)).toEqual([0, 6.5, 11.5]);
    expect(Number.isNaN(snr[3])).toBe(true);
    expect(Array.from(out.columns.snr_catalogue as Float64Array)).toEqual([7, 8, 9, 10]);
    expect(out.metadata).toEqual({ keep: 'me' });
  });

  test('catalogue: the table is returned unchanged', () => {
    const t = truth();
    expect(truthWithSnr(t, image, 2, 'catalogue')).toBe(t);
  });
});
