/** `deepsource pipeline run --config` end to end through the built CLI (embedded adapters, no servers). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testFitsImage, testModelDir } from './fixtures';

jest.setTimeout(120_000);
const CLI = path.resolve(__dirname, '..', '..', 'bin', 'deepsource.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 100_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('pipeline run on a local directory writes catalogues and reports; failures give exit 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-cli-'));
  fs.mkdirSync(path.join(dir, 'data', 'images'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'images', 'one.fits'), testFitsImage(51, 200, 180, 6));
  fs.writeFileSync(path.join(dir, 'data', 'images', 'two.fits'), testFitsImage(52, 150, 150, 4));
  const config = [
    'name: cli-test', 'storage: { kind: local, root: data }', 'queue: { kind: memory }',
    'input: { bucket: images }', 'output: { bucket: results, prefix: ds }', `model: ${JSON.stringify(testModelDir())}`,
    'tiling: { tile: 128, overlap: 16 }', 'worker: { threads: 2 }', 'progressIntervalSec: 0',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'cfg.yaml'), config);
  const ok = run(['pipeline', 'run', '--config', path.join(dir, 'cfg.yaml'), '--quiet']);
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  const report = JSON.parse(ok.stdout);
  expect(report).toMatchObject({ images: 2, ok: 2, failed: 0 });
  for (const id of ['one', 'two']) {
    expect(fs.existsSync(path.join(dir, 'data', 'results', 'ds', 'cli-test', 'catalogues', `${id}.parquet`))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'data', 'results', 'ds', 'cli-test', 'catalogues', `${id}.arrow`))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'data', 'results', 'ds', 'cli-test', 'metrics', `${id}.tiles.parquet`))).toBe(true);
  }

  fs.writeFileSync(path.join(dir, 'data', 'images', 'three.fits'), Buffer.alloc(100, 0x41));
  const bad = run(['pipeline', 'run', '--config', path.join(dir, 'cfg.yaml')]);
  expect(bad.status).toBe(1);
  expect(JSON.parse(bad.stdout)).toMatchObject({ images: 3, failed: 1 });
  expect(bad.stderr).toMatch(/failed: three: corrupt-fits: FormatError: images\/three\.fits: not a FITS file/);
});

test('user errors are one line with exit 2', () => {
  const r = run(['pipeline', 'run', '--config', '/nonexistent/cfg.yaml']);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('deepsource: --config /nonexistent/cfg.yaml: cannot read the file\n');
  const m = run(['pipeline', 'stream', '--config', 'x.yaml']);
  expect(m.status).toBe(2);
  expect(m.stderr).toMatch(/^deepsource: pipeline mode must be one of run\|ingest\|worker\|assemble, got "stream"\n$/);
});
