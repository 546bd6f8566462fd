import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tuneTbd, better, type TuneImage, type TuneTrial } from '../../src/eval/tune';
import { thresholdedBlobDetection } from '../../src/detect/tbd';
import { evaluateCatalogues } from '../../src/eval/metrics';
import { pixelValues } from '../../src/eval/finders/common';
import { readCatalogue } from '../../src/catalogue/read';
import type { Image } from '../../src/core/image';
import { writeSyntheticField } from './synthetic-field';

/** A stand-in for the CNN: the image smoothed with a 3x3 box, negatives clipped to 0. */
function fakeCnn(image: Image): Image {
  const { width, height, data } = image;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = Math.min(width - 1, Math.max(0, x + dx));
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        s += data[yy * width + xx];
      }
      out[y * width + x] = Math.max(0, s / 9);
    }
  }
  return { data: out, width, height };
}

describe('tuneTbd', () => {
  let dir: string;
  let images: TuneImage[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tune-'));
    images = [];
    for (let k = 0; k < 2; k++) {
      const f = await writeSyntheticField(dir, `img_00${k}`, { size: 200, sources: 25, snrRange: [1.5, 9], seed: 10 + k, beamArcsec: 7.5 });
      images.push({ imageId: `img_00${k}`, image: f.image, cnn: fakeCnn(f.image), truth: await readCatalogue(f.truthPath), beamArcsec: 7.5, pixelScaleArcsec: 1.5, noise: f.noise });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const grid = { deltaMax: [2, 5, 20], aMin: [0, 3, 8], centre: ['mean', 'peak'] as const, stopRule: ['closest', 'first-exceed'] as const, deblend: [0, 0.01, 0.2] };

  test('tries every grid point and keeps the best PC3', () => {
    const r = tuneTbd(images, { grid: { ...grid, centre: [...grid.centre], stopRule: [...grid.stopRule] } });
    expect(r.images).toBe(2);
    expect(r.trials).toHaveLength(3 * 3 * 2 * 2 * 3);
    for (const t of r.trials) expect(better(t, r.best)).toBe(false);
    expect(r.best.pc3).not.toBeNull();
    expect(r.bestEvaluation.pc['3']).toBe(r.best.pc3);
  });

  test('the fast path agrees with running TBD directly with the chosen parameters', () => {
    const r = tuneTbd(images, { grid: { ...grid, centre: [...grid.centre], stopRule: [...grid.stopRule] } });
    const sampled = [r.best, ...r.trials.filter((_, i) => i % 7 === 3)];
    // deblending must change something on these fields, or this comparison would not test its fast path
    expect(r.trials.some((t, i) => t.deblend > 0 && t.detections !== r.trials[i - (i % 3)].detections)).toBe(true);
    expect(sampled.some((t) => t.deblend > 0)).toBe(true);
    for (const trial of sampled) {
      const inputs = images.map((img) => {
        const blobs = thresholdedBlobDetection(img.cnn, { deltaMax: trial.deltaMax, aMin: trial.aMin, centre: trial.centre, stopRule: trial.stopRule, deblend: trial.deblend }).blobs;
        const x = trial.centre === 'peak' ? Float64Array.from(blobs.peakX) : blobs.x;
        const y = trial.centre === 'peak' ? Float64Array.from(blobs.peakY) : blobs.y;
        const snr = pixelValues(img.image, x, y).map((v) => v / img.noise);
        return { imageId: img.imageId, truth: img.truth, detections: { columns: { x, y, snr }, info: {}, metadata: {} }, beamArcsec: img.beamArcsec, pixelScaleArcsec: img.pixelScaleArcsec };
      });
      const direct = evaluateCatalogues(inputs, { space: 'pixel' });
      expect(trial.detections).toBe(direct.totals.detections);
      expect(trial.pc3).toBe(direct.pc['3']);
      expect(trial.s90).toBe(direct.s90);
    }
  });

  test('bad input is named', () => {
    expect(() => tuneTbd([])).toThrow(/at least one validation image/);
    expect(() => tuneTbd(images, { grid: { aMin: [] } })).toThrow(/grid aMin must list/);
    expect(() => tuneTbd(images, { grid: { deblend: [0, 1.5] } })).toThrow(/deblend contrast must be a number in \[0, 1\)/);
    expect(() => tuneTbd([{ ...images[0], noise: 0 }])).toThrow(/img_000: noise must be > 0/);
  });
});

describe('better', () => {
  const t = (pc3: number | null, cum: number | null, s90: number | null, completeness3: number | null = null): TuneTrial => ({ deltaMax: 1, aMin: 1, centre: 'mean', stopRule: 'closest', deblend: 0, pc3, pc3_cumulative: cum, purity3: null, completeness3, s90, detections: 0 });
  test('PC3 first, then cumulative PC3, then lower S90; null is worst', () => {
    expect(better(t(0.5, 0, 9), t(0.4, 1, 1))).toBe(true);
    expect(better(t(0.5, 0.6, 9), t(0.5, 0.5, 1))).toBe(true);
    expect(better(t(0.5, 0.5, 3), t(0.5, 0.5, 4))).toBe(true);
    expect(better(t(0.5, 0.5, 4), t(0.5, 0.5, null))).toBe(true);
    expect(better(t(null, 1, 1), t(0, 0, null))).toBe(false);
    expect(better(t(0.5, 0.5, 4), t(0.5, 0.5, 4))).toBe(false);
  });
  test('no detection in the SNR-3 bin but true sources there: PC3 counts as 0, and cumulative PC breaks the tie', () => {
    expect(better(t(null, 0.3, 6, 0), t(0, 0.1, 6, 0))).toBe(true);
    expect(better(t(null, 0.3, 6, 0), t(0.01, 0.1, 6, 0.5))).toBe(false);
    expect(better(t(null, 0.9, 6, null), t(0, 0.1, 6, 0))).toBe(false);
  });
});

describe('tuning objective', () => {
  // a wins the SNR-3 bin, b wins everything above SNR 3.
  const a = { pc3: 0.3, pc3_cumulative: 0.2, completeness3: 0.5, s90: 6 };
  const b = { pc3: 0.1, pc3_cumulative: 0.4, completeness3: 0.2, s90: 5 };
  test("'pc3' (paper 4.3) ranks by the bin first, 'pc3-cumulative' by PC over SNR >= 3 first", () => {
    expect(better(a, b)).toBe(true);
    expect(better(a, b, 'pc3')).toBe(true);
    expect(better(b, a, 'pc3')).toBe(false);
    expect(better(b, a, 'pc3-cumulative')).toBe(true);
    expect(better(a, b, 'pc3-cumulative')).toBe(false);
  });
});
