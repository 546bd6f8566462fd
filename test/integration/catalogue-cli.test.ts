/** `deepsource catalogue convert|info` through the built CLI (npx tsc -p tsconfig.json first). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCatalogue } from '../../src/catalogue/read';
import { writeCatalogue } from '../../src/catalogue/write';
import { oddDetectionTable, ODD_STRINGS } from '../catalogue/fixtures';

const repo = path.resolve(__dirname, '../..');
const cli = path.join(repo, 'bin/deepsource.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const built = fs.existsSync(path.join(repo, 'dist/cli/commands/catalogue.js'));
const maybe = built ? test : test.skip;

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-cat-cli-'));
  await writeCatalogue(path.join(dir, 'in.parquet'), oddDetectionTable(), 'parquet');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

maybe('convert Parquet to every format by extension; the readable ones read back equal', async () => {
  for (const ext of ['csv', 'arrow', 'fits', 'vot', 'reg']) {
    const out = path.join(dir, `out.${ext}`);
    const res = run(['catalogue', 'convert', path.join(dir, 'in.parquet'), out]);
    expect([ext, res.status, res.stderr]).toEqual([ext, 0, '']);
    expect(res.stdout).toMatch(new RegExp(`wrote ${ODD_STRINGS.length} rows`));
    if (ext !== 'reg') {
      const back = await readCatalogue(out);
      expect(back.columns.image_id).toEqual(ODD_STRINGS);
      expect(back.metadata).toEqual(oddDetectionTable().metadata);
    }
  }
});

maybe('info prints rows, columns with units and provenance as JSON', () => {
  const res = run(['catalogue', 'info', path.join(dir, 'in.parquet')]);
  expect(res.status).toBe(0);
  const info = JSON.parse(res.stdout);
  expect(info.rows).toBe(ODD_STRINGS.length);
  expect(info.columns.find((c: { name: string }) => c.name === 'ra_deg')).toMatchObject({ type: 'float64', unit: 'deg', ucd: 'pos.eq.ra;meta.main' });
  expect(info.metadata['deepsource.model_name']).toBe('natural');
});

maybe('bad format and unknown extension are one-line user errors (exit 2)', () => {
  const a = run(['catalogue', 'convert', path.join(dir, 'in.parquet'), path.join(dir, 'x.out'), '--format', 'xlsx']);
  expect(a.status).toBe(2);
  expect(a.stderr).toMatch(/^deepsource: --format must be one of parquet\|csv\|arrow\|fits\|votable\|reg, got "xlsx"\n$/);
  const b = run(['catalogue', 'convert', path.join(dir, 'in.parquet'), path.join(dir, 'x.out')]);
  expect(b.status).toBe(2);
  expect(b.stderr).toMatch(/cannot tell the format of .*x\.out from its extension; pass --format/);
  expect(fs.existsSync(path.join(dir, 'x.out'))).toBe(false);
});
