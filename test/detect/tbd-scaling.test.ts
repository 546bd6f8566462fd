/**
 * Transferable tuned TBD parameters: tbd.json records the tuning reference (image and beam area in
 * px) and detect rescales Amin by beam area and Δmax by image area (src/detect/tbd-params.ts).
 * Expected values are worked by hand in the comments.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError } from '../../src/core/errors';
import { beamAreaPx, parseTunedTbd, readTunedTbd, scaleTunedTbd, TBD_PARAMS_FILE } from '../../src/detect/tbd-params';
import { tbdOptionsFor } from '../../src/cli/commands/detect';

const REF = { imageAreaPx: 1024 * 1024, beamAreaPx: 250 };

describe('beam area in pixels', () => {
  test('Gaussian beam: π·BMAJ·BMIN/(4 ln 2) over the pixel area', () => {
    // 10" × 5" beam, 1"/px: π·50/(4·0.693147) = 1.133090·50 = 56.6545 px
    expect(beamAreaPx({ bmajDeg: 10 / 3600, bminDeg: 5 / 3600, bpaDeg: 0, source: 'header' }, { x: 1 / 3600, y: 1 / 3600 })).toBeCloseTo(56.6545, 3);
    // same beam, 2" × 1" pixels (negative CDELT1 sign does not matter): 56.6545 / 2 = 28.327
    expect(beamAreaPx({ bmajDeg: 10 / 3600, bminDeg: 5 / 3600, bpaDeg: 0, source: 'header' }, { x: -2 / 3600, y: 1 / 3600 })).toBeCloseTo(28.3272, 3);
  });
});

describe('scaleTunedTbd', () => {
  test('Amin scales with beam area, Δmax with image area', () => {
    // 512² image (a quarter of 1024²) with a 50-px beam (a fifth of 250): Amin 100 → 20, Δmax 200 → 50
    const { options, record } = scaleTunedTbd({ aMin: 100, deltaMax: 200, centre: 'mean' }, { reference: REF, aMin: true, deltaMax: true }, { imageAreaPx: 512 * 512, beamAreaPx: 50 });
    expect(options).toEqual({ aMin: 20, deltaMax: 50, centre: 'mean' });
    expect(record).toMatchObject({ tuned_a_min: 100, a_min_scale: 0.2, tuned_delta_max: 200, delta_max_scale: 0.25, image_area_px: 262144, beam_area_px: 50 });
  });

  test('rounds to the nearest integer, never below 1', () => {
    // reference beam 250 px: Amin 10·142.5/250 = 5.7 → 6; Δmax 100·(300·300)/1048576 = 8.58 → 9
    expect(scaleTunedTbd({ aMin: 10, deltaMax: 100 }, { reference: REF, aMin: true, deltaMax: true }, { imageAreaPx: 300 * 300, beamAreaPx: 142.5 }).options).toEqual({ aMin: 6, deltaMax: 9 });
    // Amin 3·10/250 = 0.12 → 1; Δmax 3·100/1048576 ≈ 0.0003 → 1
    expect(scaleTunedTbd({ aMin: 3, deltaMax: 3 }, { reference: REF, aMin: true, deltaMax: true }, { imageAreaPx: 100, beamAreaPx: 10 }).options).toEqual({ aMin: 1, deltaMax: 1 });
  });

  test('values given explicitly are used as given', () => {
    const { options, record } = scaleTunedTbd({ aMin: 10, deltaMax: 200 }, { reference: REF, aMin: false, deltaMax: true }, { imageAreaPx: 512 * 512, beamAreaPx: 50 });
    expect(options).toEqual({ aMin: 10, deltaMax: 50 });
    expect(record.a_min_scale).toBeUndefined();
    expect(scaleTunedTbd({ aMin: 100, deltaMax: 7 }, { reference: REF, aMin: true, deltaMax: false }, { imageAreaPx: 512 * 512, beamAreaPx: 50 }).options).toEqual({ aMin: 20, deltaMax: 7 });
  });

  test('unknown image beam: Amin unscaled and the reason recorded; Δmax still scaled', () => {
    const { options, record } = scaleTunedTbd({ aMin: 100, deltaMax: 200 }, { reference: REF, aMin: true, deltaMax: true }, { imageAreaPx: 2048 * 2048 });
    expect(options).toEqual({ aMin: 100, deltaMax: 800 });
    expect(record.a_min_scale).toMatch(/none/);
  });
});

describe('tbd.json tuning reference', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ds-tbdscale-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('old files without the reference parse as before and get no scaling', () => {
    const text = '{"deltaMax": 200, "aMin": 100, "pc3": 0.2}';
    expect(parseTunedTbd(text, 'f')).toEqual({ options: { deltaMax: 200, aMin: 100 } });
    writeFileSync(join(dir, TBD_PARAMS_FILE), text);
    const tbd = tbdOptionsFor(dir, {});
    expect(tbd.scaling).toBeUndefined();
    expect(tbd.options).toEqual({ deltaMax: 200, aMin: 100 });
  });

  test('the reference is read; command-line Amin/Δmax are not scaled', () => {
    writeFileSync(join(dir, TBD_PARAMS_FILE), '{"deltaMax": 200, "aMin": 100, "referenceImageAreaPx": 1048576, "referenceBeamAreaPx": 250}');
    expect(readTunedTbd(dir)?.reference).toEqual(REF);
    expect(tbdOptionsFor(dir, {}).scaling).toEqual({ reference: REF, aMin: true, deltaMax: true });
    const cli = tbdOptionsFor(dir, { aMin: 10 });
    expect(cli.options).toMatchObject({ aMin: 10, deltaMax: 200 });
    expect(cli.scaling).toEqual({ reference: REF, aMin: false, deltaMax: true });
    expect(tbdOptionsFor(dir, { aMin: 10, deltaMax: 30 }).scaling).toMatchObject({ aMin: false, deltaMax: false });
  });

  test('a bad or half reference is a format error naming the file and field', () => {
    expect(() => parseTunedTbd('{"referenceImageAreaPx": 1048576}', 'x.json')).toThrow(FormatError);
    expect(() => parseTunedTbd('{"referenceImageAreaPx": 1048576}', 'x.json')).toThrow(/x\.json: referenceBeamAreaPx must be a positive number/);
    expect(() => parseTunedTbd('{"referenceImageAreaPx": -1, "referenceBeamAreaPx": 3}', 'x.json')).toThrow(/referenceImageAreaPx/);
  });

  test('shipped models record their 1024² tuning images', () => {
    for (const name of ['natural', 'uniform']) {
      const path = resolve(__dirname, '../../models', name, TBD_PARAMS_FILE);
      const tuned = parseTunedTbd(readFileSync(path, 'utf8'), path);
      expect(tuned.reference?.imageAreaPx).toBe(1024 * 1024);
      // natural beam 22–28" at 1.5"/px: 1.133·(22/1.5)² ≈ 244 to 1.133·(28/1.5)² ≈ 395 px; uniform ≈ 7" → ≈ 25 px
      expect(tuned.reference?.beamAreaPx).toBeGreaterThan(name === 'natural' ? 200 : 15);
      expect(tuned.reference?.beamAreaPx).toBeLessThan(name === 'natural' ? 400 : 50);
    }
  });
});
