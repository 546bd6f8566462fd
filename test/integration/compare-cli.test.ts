/**
 * `deepsource compare` end to end with SExtractor (needs infra/finders/setup.sh and a built dist/).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticField } from '../eval/synthetic-field';

describe('compare CLI (SExtractor only)', () => {
  test('writes results.json, the figures and report.md', async () => {
    const root = join(__dirname, '../..');
    if (!existsSync(join(root, 'dist/cli/commands/compare.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
    const dir = mkdtempSync(join(tmpdir(), 'compare-cli-'));
    try {
      await writeSyntheticField(dir, 'img_000', { seed: 31, sources: 10 });
      const out = join(dir, 'report');
      const r = spawnSync(process.execPath, [join(root, 'bin/deepsource.js'), 'compare', '--data', dir, '--finders', 'sextractor', '--out', out, '--label', 'synthetic', '--note', 'a note'], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/deepsource:/);
      expect(r.status).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'synthetic', 'results.json'), 'utf8'));
      expect(results.finders.map((f: { name: string }) => f.name)).toEqual(['sextractor']);
      expect(existsSync(join(out, 'synthetic', 'performance.png'))).toBe(true);
      expect(existsSync(join(out, 'synthetic', 'radius.png'))).toBe(true);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('## synthetic: 1 test image(s)');
      expect(md).toContain('- a note');
      const bad = spawnSync(process.execPath, [join(root, 'bin/deepsource.js'), 'compare', '--data', dir, '--finders', 'sextractor,foo'], { encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--finders must list some of deepsource,sextractor,pybdsf, got "foo"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
