import type { Image } from '../../src/core/image';
import { UserInputError } from '../../src/core/errors';
import { DETECTION_COLUMNS, DETECTION_FLAGS } from '../../src/catalogue/schema';
import { META } from '../../src/catalogue/provenance';
import { catalogueRows } from '../../src/detect/catalogue-rows';
import type { BlobColumns } from '../../src/detect/tbd';
import { MAD_TO_SIGMA } from '../../src/core/stats';

function blobs(rows: { x: number; y: number; area: number; edge?: number }[]): BlobColumns {
  return {
    count: rows.length,
    x: Float64Array.from(rows, (r) => r.x),
    y: Float64Array.from(rows, (r) => r.y),
    area: Int32Array.from(rows, (r) => r.area),
    cnnPeak: new Float32Array(rows.length),
    peakX: Int32Array.from(rows, (r) => Math.round(r.x)),
    peakY: Int32Array.from(rows, (r) => Math.round(r.y)),
    touchesEdge: Uint8Array.from(rows, (r) => r.edge ?? 0),
  };
}

// 6×4 image: value = 10·y + x; pixel (3, 2) = 23 and one blank at (5, 0).
const image: Image = { data: Float32Array.from({ length: 24 }, (_, i) => (i === 5 ? NaN : 10 * Math.floor(i / 6) + (i % 6))), width: 6, height: 4 };
const cnn: Image = { data: Float32Array.from({ length: 24 }, (_, i) => i / 100), width: 6, height: 4 };
const wcs = { pixToSky: (x: number, y: number) => ({ ra: 150 + x / 1000, dec: 2 + y / 1000 }) };

describe('catalogueRows', () => {
  test('one row per blob with the CONTRACT.md columns, values from the image and the CNN at the position', () => {
    const table = catalogueRows({
      image,
      cnn,
      blobs: blobs([
        { x: 2.6, y: 1.7, area: 12 },
        { x: 5, y: 0, area: 3, edge: 1 },
      ]),
      imageId: 'img_007',
      noise: { estimator: 'border-std', sigma: 2 },
      wcs,
      tileOf: (x, y) => (x < 3 ? 0 : 1) + 2 * (y < 2 ? 0 : 1),
      provenance: { modelName: 'natural', tbd: { delta_max: 100 } },
    });
    for (const spec of DETECTION_COLUMNS) expect(table.columns).toHaveProperty(spec.name);
    const c = table.columns;
    expect(c.image_id).toEqual(['img_007', 'img_007']);
    expect(Array.from(c.x as Float64Array)).toEqual([2.6, 5]);
    expect(c.ra_deg[0]).toBeCloseTo(150.0026, 12);
    expect(c.dec_deg[0]).toBeCloseTo(2.0017, 12);
    // nearest pixel of (2.6, 1.7) is (3, 2): image 23, CNN 15/100
    expect(c.peak_flux[0]).toBe(23);
    expect(c.cnn_peak[0]).toBeCloseTo(0.15, 6);
    expect(c.local_rms[0]).toBe(2);
    expect(c.snr[0]).toBe(11.5);
    expect(Array.from(c.area_px as Int32Array)).toEqual([12, 3]);
    expect(Array.from(c.tile_id as Int32Array)).toEqual([3, 1]);
    // the second blob sits on a blank pixel at the edge
    expect(c.peak_flux[1]).toBeNaN();
    expect(c.flags[1]).toBe(DETECTION_FLAGS.EDGE | DETECTION_FLAGS.BAD_PIXEL);
    expect(c.flags[0]).toBe(0);
    expect(table.metadata[META.noiseEstimator]).toBe('border-std');
    expect(table.metadata[META.noiseValue]).toBe('2');
    expect(table.metadata[META.modelName]).toBe('natural');
    expect(JSON.parse(table.metadata[META.tbd])).toEqual({ delta_max: 100 });
  });

  test('MAD local rms per source, with the global value and a flag where the box is too blank', () => {
    const table = catalogueRows({
      image,
      cnn,
      blobs: blobs([{ x: 2, y: 2, area: 10 }]),
      imageId: 'a',
      noise: { estimator: 'mad-local-rms', globalSigma: 7, boxPx: 3 },
    });
    // box 3 at (2,2): 11,12,13,21,22,23,31,32,33 → median 22, |dev| 11,10,9,1,0,1,9,10,11 → MAD 9
    expect(table.columns.local_rms[0]).toBeCloseTo(MAD_TO_SIGMA * 9, 12);
    expect(table.columns.snr[0]).toBeCloseTo(22 / (MAD_TO_SIGMA * 9), 12);
    expect(table.metadata[META.noiseEstimator]).toBe('mad-local-rms');
    // without a WCS the sky columns are NaN
    expect(table.columns.ra_deg[0]).toBeNaN();

    const blank: Image = { data: new Float32Array(24).fill(NaN), width: 6, height: 4 };
    const fallback = catalogueRows({ image: blank, cnn, blobs: blobs([{ x: 2, y: 2, area: 10 }]), imageId: 'b', noise: { estimator: 'mad-local-rms', globalSigma: 7, boxPx: 3 } });
    expect(fallback.columns.local_rms[0]).toBe(7);
    expect((fallback.columns.flags as Int32Array)[0] & DETECTION_FLAGS.GLOBAL_RMS).toBe(DETECTION_FLAGS.GLOBAL_RMS);
  });

  test('no blobs: an empty table with the full schema', () => {
    const table = catalogueRows({ image, cnn, blobs: blobs([]), imageId: 'e', noise: { estimator: 'global', sigma: 1 } });
    expect(table.columns.x.length).toBe(0);
    expect(Object.keys(table.columns)).toEqual(DETECTION_COLUMNS.map((s) => s.name));
  });

  test('rejects a CNN map of another size and a non-positive noise', () => {
    const small: Image = { data: new Float32Array(4), width: 2, height: 2 };
    expect(() => catalogueRows({ image, cnn: small, blobs: blobs([]), imageId: 'z', noise: { estimator: 'global', sigma: 1 } })).toThrow(
      /CNN map is 2×2 but image z is 6×4/,
    );
    expect(() => catalogueRows({ image, cnn, blobs: blobs([]), imageId: 'z', noise: { estimator: 'border-std', sigma: 0 } })).toThrow(UserInputError);
  });

  test('the inputs are not modified', () => {
    const before = [image.data.slice(), cnn.data.slice()];
    catalogueRows({ image, cnn, blobs: blobs([{ x: 1, y: 1, area: 1 }]), imageId: 'u', noise: { estimator: 'mad-local-rms', globalSigma: 1 } });
    expect(image.data).toEqual(before[0]);
    expect(cnn.data).toEqual(before[1]);
  });
});
