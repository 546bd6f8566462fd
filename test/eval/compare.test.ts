import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectCatalogues, compareFinders, findCompareImages, selectBestRunner, type FinderRunner } from '../../src/eval/compare';
import { detectionsFromPositions, type FinderImage } from '../../src/eval/finders/common';
import { renderReport, targetLines, binComparison, PAPER_RESULTS } from '../../src/eval/report';
import { writeSyntheticField, type SyntheticField } from './synthetic-field';

/** A fake finder that reports the true positions of a fraction of the sources (plus an offset). */
function oracle(name: string, fields: Map<string, SyntheticField>, keepEvery: number, params: Record<string, unknown> = {}): FinderRunner & { calls: number } {
  const runner = {
    name,
    params: { keepEvery, ...params },
    calls: 0,
    async run(target: FinderImage) {
      runner.calls++;
      const f = fields.get(target.imageId)!;
      const x: number[] = [];
      const y: number[] = [];
      f.x.forEach((v, i) => {
        if (i % keepEvery === 0) {
          x.push(v + 0.4);
          y.push(f.y[i]);
        }
      });
      return detectionsFromPositions(target, { x, y }, name);
    },
  };
  return runner;
}

describe('compare core', () => {
  let dir: string;
  const fields = new Map<string, SyntheticField>();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'compare-'));
    for (let k = 0; k < 2; k++) fields.set(`img_00${k}`, await writeSyntheticField(dir, `img_00${k}`, { seed: 20 + k, sources: 10 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('finds the images with truth, honours the limit', () => {
    expect(findCompareImages(dir).ids).toEqual(['img_000', 'img_001']);
    expect(findCompareImages(dir, 1).ids).toEqual(['img_000']);
  });

  test('evaluates every finder with the same code and caches catalogues by parameters', async () => {
    const set = findCompareImages(dir);
    const cache = join(dir, 'cache');
    const all = oracle('all', fields, 1);
    const half = oracle('half', fields, 2);
    const first = await collectCatalogues(set, [all, half], { cacheDir: cache });
    expect([all.calls, half.calls]).toEqual([2, 2]);
    expect(readdirSync(join(cache, 'all')).sort()).toEqual(['img_000.json', 'img_000.parquet', 'img_001.json', 'img_001.parquet']);
    const result = compareFinders('test', dir, set, first);
    const byName = Object.fromEntries(result.finders.map((f) => [f.name, f]));
    expect(byName.all.evaluation.totals).toMatchObject({ truth: 20, tp: 20, fp: 0, fn: 0 });
    expect(byName.half.evaluation.totals).toMatchObject({ truth: 20, tp: 10, fp: 0, fn: 10 });
    expect(Object.keys(byName.all.radius).sort()).toEqual(['1', '1/3', '2/3']);
    expect(result.images).toBe(2);
    expect(result.beam_arcsec).toBeCloseTo(6, 9);

    // Same parameters: reused. Changed parameters: rerun.
    const again = oracle('all', fields, 1);
    const second = await collectCatalogues(set, [again], { cacheDir: cache });
    expect(again.calls).toBe(0);
    expect(second.stats.get('all')!.cached).toBe(2);
    const changed = oracle('all', fields, 1, { other: true });
    await collectCatalogues(set, [changed], { cacheDir: cache });
    expect(changed.calls).toBe(2);
  });

  test('selectBestRunner keeps the best PC3 candidate', async () => {
    const set = findCompareImages(dir);
    // Sources here are bright (SNR 5..40): PC3 is undefined for both; the cumulative PC decides.
    const { best, scores } = await selectBestRunner(set, [oracle('half', fields, 2), oracle('all', fields, 1)]);
    expect(best.name).toBe('all');
    expect(scores.map((s) => s.name)).toEqual(['half', 'all']);
  });
});

describe('report', () => {
  const evaluation = (pc3: number | null, s90: number | null) => ({
    images: 1, radius_arcsec: 4, radius_beams: 2 / 3, match_space: 'sky' as const,
    bins: Array.from({ length: 20 }, (_, k) => ({ snr_lo: k / 2, snr_hi: (k + 1) / 2, tp: 1, fp: 0, tp_true: 1, fn: 0, purity: 1, completeness: k === 6 ? pc3 : 1, pc: k === 6 ? pc3 : 1 })),
    purity: { '3': 1, '4': 1, '5': 1 }, completeness: { '3': pc3, '4': 1, '5': 1 }, pc: { '3': pc3, '4': 1, '5': 1 },
    purity_cumulative: { '3': 1, '4': 1, '5': 1 }, completeness_cumulative: { '3': 1, '4': 1, '5': 1 }, pc_cumulative: { '3': 1, '4': 1, '5': 1 },
    s90, counts_above_s90: 10, tp_above_s90: 10, totals: { truth: 1, detections: 1, tp: 1, fp: 0, fn: 0 },
  });
  const finder = (name: string, pc3: number | null, s90: number | null) => ({
    name, params: {}, seconds_per_image: 1, seconds_total: 1, cached_images: 0, evaluation: evaluation(pc3, s90),
    radius: { '1': evaluation(pc3, s90), '1/3': evaluation(pc3, s90), '2/3': evaluation(pc3, s90) },
  });

  test('targets: PC3 ratio >= 1.4 and S90 at least 0.4 lower', () => {
    expect(targetLines(finder('deepsource', 0.7, 3.2), finder('pybdsf', 0.5, 3.6)).join('\n')).toMatch(/ratio 1\.40 .*\*\*met\*\*[\s\S]*lower by 0\.40 .*\*\*met\*\*/);
    expect(targetLines(finder('deepsource', 0.6, 3.3), finder('pybdsf', 0.5, 3.6)).join('\n')).toMatch(/ratio 1\.20 .*\*\*not met\*\*[\s\S]*lower by 0\.30 .*\*\*not met\*\*/);
  });

  test('bin comparison names the side DeepSource is behind on', () => {
    const lines = binComparison(finder('deepsource', 0.5, 4), finder('pybdsf', 0.9, 4));
    expect(lines.find((l) => l.startsWith('| [3, 3.5)'))).toMatch(/completeness \|$/);
    expect(lines.find((l) => l.startsWith('| [4, 4.5)'))).toMatch(/\| - \|$/);
  });

  test('the markdown has our rows next to the paper rows, radii in order', () => {
    const md = renderReport({
      results: [{ label: 'natural', data: 'd', images: 2, image_ids: ['img_000', 'img_001'], image_size: '64x64', weighting: 'natural', beam_arcsec: 6, snr_noise: 'border-std', truth_snr: 'pixel', finders: [finder('deepsource', 0.5, 3.5), finder('pybdsf', 0.3, 4.1)] }],
      notes: ['two images only'],
    });
    expect(md).toContain('| DeepSource (ours) | 1.00 | 1.00 | 1.00 | 0.50 |');
    expect(md).toContain(`| DeepSource (paper) | ${PAPER_RESULTS.natural.deepsource.P[3].toFixed(2)} |`);
    expect(md).toContain('| PyBDSF (paper) | 4.30 | 50545 |');
    expect(md).toContain('- two images only');
    expect(md).toContain('true-source SNR: image value at the true position over the same noise (pixel-flux SNR, paper section 2)');
    const radiusStart = md.indexOf('### Crossmatch radius');
    const radiusSection = md.slice(radiusStart, md.indexOf('### Finder settings', radiusStart));
    const radiusRows = radiusSection.split('\n').filter((l) => l.startsWith('| DeepSource | '));
    expect(radiusRows.map((l) => l.split(' | ')[1])).toEqual(['1/3', '2/3', '1']);
  });
});
