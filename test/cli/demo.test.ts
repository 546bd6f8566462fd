/**
 * `deepsource demo` end to end (needs `npx tsc -p tsconfig.json`): simulate → detect → evaluate.
 * The shipped models may not exist in a fresh checkout, so the test passes a hand-built smoothing
 * network (test/detect/smoothing-model.ts) with --model, and a small image to keep it quick.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCatalogue } from '../../src/catalogue/read';
import { saveSmoothingModel } from '../detect/smoothing-model';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/deepsource.js');

describe('deepsource demo', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-demo-'));
    saveSmoothingModel(join(dir, 'model'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('simulates, detects, evaluates and writes the catalogue, metrics and plot', async () => {
    const out = join(dir, 'out');
    const res = spawnSync(process.execPath, [BIN, 'demo', '--out', out, '--size', '512', '--seed', '7', '--model', join(dir, 'model'), '--workers', '1', '--quiet'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/S90/);
    expect(res.stdout).toMatch(/^\s+3\s/m); // the SNR 3 row of P, C, PC
    for (const f of ['sim/img_000.fits', 'sim/img_000.truth.parquet', 'catalogue.parquet', 'catalogue.csv', 'catalogue.reg', 'evaluation.json', 'evaluation.png']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(evaluation.images).toBe(1);
    expect(Object.keys(evaluation.purity)).toEqual(expect.arrayContaining(['3', '4', '5']));
    expect(evaluation.bins).toHaveLength(20);
    const truth = await readCatalogue(join(out, 'sim/img_000.truth.parquet'));
    const catalogue = await readCatalogue(join(out, 'catalogue.parquet'));
    expect(evaluation.totals.truth).toBe(truth.columns.x.length);
    expect(evaluation.totals.detections).toBe(catalogue.columns.x.length);
    expect(evaluation.totals.tp + evaluation.totals.fp).toBe(evaluation.totals.detections);
    // simulated image: the SNR uses the border std (CONTRACT.md)
    expect(catalogue.metadata['deepsource.noise_estimator']).toBe('border-std');
    const png = readFileSync(join(out, 'evaluation.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  test('a missing model is a one-line user error', () => {
    const res = spawnSync(process.execPath, [BIN, 'demo', '--out', join(dir, 'x'), '--model', join(dir, 'nope')], { cwd: dir, encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/model ".*nope" not found/);
  });
});
