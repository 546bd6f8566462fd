/**
 * The external comparison finders (SExtractor, PyBDSF) on a synthetic field with bright known
 * sources. Needs `bash infra/finders/setup.sh` (run by `npm test`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readFitsImage } from '../../src/fits/read';
import { readCatalogue } from '../../src/catalogue/read';
import { runSExtractor } from '../../src/eval/finders/sextractor';
import { runPyBdsf } from '../../src/eval/finders/pybdsf';
import type { FinderImage } from '../../src/eval/finders/common';
import { evaluateCatalogues } from '../../src/eval/metrics';
import { crossmatch } from '../../src/eval/crossmatch';
import { writeSyntheticField, type SyntheticField } from '../eval/synthetic-field';
import type { ColumnTable } from '../../src/catalogue/table';

describe('external finders on a synthetic field', () => {
  let dir: string;
  let field: SyntheticField;
  let target: FinderImage;
  let truth: ColumnTable;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'finders-'));
    field = await writeSyntheticField(dir, 'img_000', { size: 384, sources: 20, snrRange: [12, 40], seed: 5 });
    const { image, wcs } = await readFitsImage(field.imagePath);
    target = { imageId: 'img_000', path: field.imagePath, image, wcs, beamArcsec: 6, pixelScaleArcsec: 1.5, noise: field.noise };
    truth = await readCatalogue(field.truthPath);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function check(detections: ColumnTable): void {
    expect(detections.columns.image_id).toEqual(new Array((detections.columns.x as Float64Array).length).fill('img_000'));
    const e = evaluateCatalogues([{ imageId: 'img_000', truth, detections, beamArcsec: 6 }]);
    // SNR >= 12 point sources, 4 beams apart, on white noise: every one is found.
    expect(e.totals.tp).toBe(field.x.length);
    expect(e.totals.fp).toBeLessThanOrEqual(2);
    // Pixel convention: matched positions agree to well under a pixel (a 1-based slip would be ~1.4 px).
    const dx = detections.columns.x as Float64Array;
    const dy = detections.columns.y as Float64Array;
    const m = crossmatch({ x: field.x, y: field.y }, { x: dx, y: dy }, 3);
    const offsets = Array.from(m.distance).filter(Number.isFinite).sort((a, b) => a - b);
    expect(offsets[Math.floor(offsets.length / 2)]).toBeLessThan(0.5);
    // SNR is the image value at the position over the truth noise, as for the truth itself.
    const snr = detections.columns.snr as Float64Array;
    m.truthToDetection.forEach((j, i) => {
      if (j >= 0) expect(Math.abs(snr[j] - field.snr[i]) / field.snr[i]).toBeLessThan(0.25);
    });
  }

  test('SExtractor with a beam-matched filter', async () => {
    check(await runSExtractor(target, { detectThresh: 3, minArea: 5 }));
  });

  test('PyBDSF at 2 sigma / 2 sigma (paper section 3)', async () => {
    check(await runPyBdsf(target, { threshIsl: 2, threshPix: 2 }));
  }, 300_000);

  test('relative image paths work (the finders run in their own temp directories)', async () => {
    const relativeTarget = { ...target, path: relative(process.cwd(), field.imagePath) };
    expect(relativeTarget.path.startsWith('/')).toBe(false);
    expect((await runSExtractor(relativeTarget, { detectThresh: 3, minArea: 5 })).columns.x.length).toBeGreaterThan(0);
  });

  test('a missing program is a clear error', async () => {
    await expect(runSExtractor(target, { program: 'no-such-source-extractor' })).rejects.toThrow(/no-such-source-extractor is not installed .*infra\/finders\/setup.sh/);
  });
});
