/**
 * `deepsource evaluate` end to end through bin/deepsource.js (needs `npx tsc -p tsconfig.json`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDetectionTable } from '../../src/catalogue/schema';
import { writeCatalogue } from '../../src/catalogue/write';
import { writeSyntheticField, type SyntheticField } from './synthetic-field';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/deepsource.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
}

function detectionsFrom(field: SyntheticField, imageId: string, keep: (k: number) => boolean, extra: Array<[number, number]>) {
  const xs: number[] = [];
  const ys: number[] = [];
  field.x.forEach((x, k) => {
    if (keep(k)) {
      xs.push(x + 0.5);
      ys.push(field.y[k] - 0.3);
    }
  });
  for (const [x, y] of extra) {
    xs.push(x);
    ys.push(y);
  }
  const sky = xs.map((x, k) => field.wcs.pixToSky(x, ys[k]));
  const n = xs.length;
  return buildDetectionTable({
    image_id: imageId,
    x: xs,
    y: ys,
    ra_deg: sky.map((s) => s.ra),
    dec_deg: sky.map((s) => s.dec),
    peak_flux: xs.map((x, k) => field.image.data[Math.round(ys[k]) * field.image.width + Math.round(x)]),
    local_rms: new Float64Array(n).fill(field.noise),
    cnn_peak: new Float64Array(n).fill(1),
    area_px: new Int32Array(n).fill(12),
  });
}

describe('deepsource evaluate', () => {
  let dir: string;
  let fields: SyntheticField[];
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/commands/evaluate.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
    dir = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));
    fields = [await writeSyntheticField(dir, 'img_000', { seed: 1, sources: 12 }), await writeSyntheticField(dir, 'img_001', { seed: 2, sources: 12 })];
    mkdirSync(join(dir, 'cat'));
    await writeCatalogue(join(dir, 'cat', 'img_000.parquet'), detectionsFrom(fields[0], 'img_000', () => true, []), 'parquet');
    // img_001: the first two sources missed, one false detection far from every source.
    await writeCatalogue(join(dir, 'cat', 'img_001.csv'), detectionsFrom(fields[1], 'img_001', (k) => k >= 2, [[5, 5]]), 'csv');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('directories of truth and catalogues: totals, radius from the header beam, JSON and PNG', () => {
    const json = join(dir, 'eval.json');
    const png = join(dir, 'eval.png');
    const r = run(['evaluate', '--truth', dir, '--catalogue', join(dir, 'cat'), '--json', json, '--plot', png]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/S90/);
    const e = JSON.parse(readFileSync(json, 'utf8'));
    const n0 = fields[0].x.length;
    const n1 = fields[1].x.length;
    expect(e.images).toBe(2);
    expect(e.radius_arcsec).toBeCloseTo(4, 9); // 2/3 of a 6" beam
    expect(e.totals).toEqual({ truth: n0 + n1, detections: n0 + n1 - 2 + 1, tp: n0 + n1 - 2, fp: 1, fn: 2 });
    expect(e.bins).toHaveLength(20);
    for (const key of ['purity', 'completeness', 'pc']) expect(Object.keys(e[key]).sort()).toEqual(['3', '4', '5']);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('pixel matching and a one-third-beam radius given as a fraction', () => {
    const json = join(dir, 'pix.json');
    const r = run(['evaluate', '--truth', dir, '--catalogue', join(dir, 'cat'), '--match', 'pixel', '--radius-beams', '1/3', '--json', json]);
    expect(r.status).toBe(0);
    const e = JSON.parse(readFileSync(json, 'utf8'));
    expect(e.radius_arcsec).toBeCloseTo(2, 9);
    expect(e.match_space).toBe('pixel');
    // offsets of hypot(0.5, 0.3) px = 0.87" are inside 2"
    expect(e.totals.tp).toBe(fields[0].x.length + fields[1].x.length - 2);
  });

  test('single files pair directly', () => {
    const json = join(dir, 'one.json');
    const r = run(['evaluate', '--truth', fields[1].truthPath, '--catalogue', join(dir, 'cat', 'img_001.csv'), '--json', json]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).totals.fp).toBe(1);
  });

  test('user errors: one line, exit 2', () => {
    const missing = run(['evaluate', '--truth', dir, '--catalogue', join(dir, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/--catalogue: .*nope does not exist/);
    const radius = run(['evaluate', '--truth', dir, '--catalogue', join(dir, 'cat'), '--radius-beams', '-1']);
    expect(radius.status).toBe(2);
    expect(radius.stderr).toMatch(/--radius-beams must be a number > 0/);
    const noBeam = run(['evaluate', '--truth', fields[0].truthPath, '--catalogue', join(dir, 'cat', 'img_000.parquet'), '--images', join(dir, 'cat')]);
    expect(noBeam.status).toBe(2);
    expect(noBeam.stderr).toMatch(/no image img_000\.fits .* --beam/);
  });
});
