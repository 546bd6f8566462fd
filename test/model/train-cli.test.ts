/**
 * `deepsource train` end to end through the built CLI (run `npx tsc -p tsconfig.json` first):
 * a tiny run on FITS + truth CSV files laid out like `deepsource simulate` output, --resume, and
 * one-line user errors with exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFitsImage } from '../../src/fits/write';
import { resolveModelDir } from '../../src/model/registry';
import { syntheticSky } from './synthetic';

const repo = resolve(__dirname, '..', '..');
const cli = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'deepsource.js'), ...args], { encoding: 'utf8', timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const built = existsSync(join(repo, 'dist', 'cli', 'commands', 'train.js'));
const maybe = built ? describe : describe.skip;

maybe('deepsource train (CLI)', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ds-train-cli-'));
    const data = join(root, 'data');
    mkdirSync(data);
    for (let i = 0; i < 3; i++) {
      const { image, sources } = syntheticSky(64, 64, 40 + i, 6);
      const name = `img_${String(i).padStart(3, '0')}`;
      await writeFitsImage(join(data, `${name}.fits`), image, [{ key: 'BUNIT', value: 'JY/BEAM' }]);
      const rows = sources.map((s, id) => `${id},${s.x},${s.y},0,0,1,5`);
      writeFileSync(join(data, `${name}.truth.csv`), ['# meta: {"key":"test"}', 'id,x,y,ra_deg,dec_deg,flux_jy,snr', ...rows].join('\n') + '\n');
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('trains, writes a loadable model, and resumes to more steps', () => {
    const out = join(root, 'model');
    const base = ['train', '--data', join(root, 'data'), '--out', out, '--patch', '32', '--batch', '2', '--backend', 'wasm', '--quiet', '--val-patches', '2'];
    const first = cli([...base, '--steps', '3']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^model written to .*model: 3 steps, loss [\d.e-]+, validation loss [\d.e-]+/);
    expect(resolveModelDir(out)).toBe(out);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(meta.training.trainImages).toEqual(['img_000.fits', 'img_001.fits']); // last 20 % held out
    expect(meta.training.valImages).toEqual(['img_002.fits']);
    const resumed = cli([...base, '--steps', '5', '--resume']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training.steps).toBe(5);
  });

  it('reports bad input as one line with exit code 2', () => {
    const badPatch = cli(['train', '--data', join(root, 'data'), '--out', join(root, 'x'), '--patch', '8']);
    expect(badPatch.status).toBe(2);
    expect(badPatch.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPatch.stderr).toMatch(/--patch must be >= 16, got 8/);
    const missing = cli(['train', '--data', join(root, 'nope'), '--out', join(root, 'x'), '--quiet']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^deepsource: training data directory .*nope does not exist\n$/);
    const noCheckpoint = cli(['train', '--data', join(root, 'data'), '--out', join(root, 'fresh'), '--resume', '--quiet', '--patch', '32']);
    expect(noCheckpoint.status).toBe(2);
    expect(noCheckpoint.stderr).toMatch(/--resume: no checkpoint in/);
    const tooBig = cli(['train', '--data', join(root, 'data'), '--out', join(root, 'x'), '--patch', '128', '--quiet']);
    expect(tooBig.status).toBe(2);
    expect(tooBig.stderr).toMatch(/--patch 128 is larger than image img_000\.fits \(64x64\)/);
  });
});
