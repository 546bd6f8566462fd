/**
 * `deepsource simulate` end to end (needs `npx tsc -p tsconfig.json`): files per CONTRACT.md,
 * byte-identical reruns, and one-line exit-2 errors that leave nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCatalogue } from '../../src/catalogue/read';
import { readFitsImage } from '../../src/fits/read';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/deepsource.js');

/** The default border: 10% of the size (CONTRACT.md leaves it to the simulator; manifest records it). */
function manifestBorder(size: number): number {
  return Math.round(0.1 * size);
}

function simulate(args: string[], cwd: string) {
  return spawnSync(process.execPath, [BIN, 'simulate', ...args], { cwd, encoding: 'utf8' });
}

describe('deepsource simulate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-sim-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes FITS, truth Parquet and CSV per image plus manifest.json, and reruns byte-identically', async () => {
    const args = ['--count', '2', '--size', '256', '--weighting', 'uniform', '--seed', '11', '--quiet'];
    const a = simulate(['--out', join(dir, 'a'), ...args], dir);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const files = readdirSync(join(dir, 'a')).sort();
    expect(files).toEqual(['img_000.fits', 'img_000.truth.csv', 'img_000.truth.parquet', 'img_001.fits', 'img_001.truth.csv', 'img_001.truth.parquet', 'manifest.json']);
    const b = simulate(['--out', join(dir, 'b'), ...args], dir);
    expect(b.status).toBe(0);
    for (const f of files) expect(readFileSync(join(dir, 'a', f)).equals(readFileSync(join(dir, 'b', f)))).toBe(true);
    const c = simulate(['--out', join(dir, 'c'), ...args.slice(0, -2), '12', '--quiet'], dir);
    expect(c.status).toBe(0);
    expect(readFileSync(join(dir, 'a', 'img_000.fits')).equals(readFileSync(join(dir, 'c', 'img_000.fits')))).toBe(false);

    const fits = await readFitsImage(join(dir, 'a', 'img_000.fits'));
    const h = fits.header;
    expect(h.getString('BUNIT')).toBe('JY/BEAM');
    expect(h.getString('CTYPE1')).toBe('RA---SIN');
    const bmaj = h.getNumber('BMAJ') as number;
    const bmin = h.getNumber('BMIN') as number;
    expect(bmaj * 3600).toBeGreaterThan(3);
    expect(bmaj * 3600).toBeLessThan(15);
    expect(bmin).toBeLessThanOrEqual(bmaj);
    expect(fits.image.width).toBe(256);
    expect(fits.beam?.bmajDeg).toBeCloseTo(bmaj, 15);

    const truth = await readCatalogue(join(dir, 'a', 'img_000.truth.parquet'));
    const csv = await readCatalogue(join(dir, 'a', 'img_000.truth.csv'));
    expect(Object.keys(truth.columns)).toEqual(['id', 'x', 'y', 'ra_deg', 'dec_deg', 'flux_jy', 'snr', 'snr_flux', 'snr_injected', 'snr_measured']);
    // snr is the image value at the nearest pixel over the border std of the written image (paper section 2,
    // CONTRACT.md); snr_flux is the flux over that std. Both measured here independently from the FITS file.
    const data = fits.image.data;
    const border = manifestBorder(256);
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        if (x >= border && x < 256 - border && y >= border && y < 256 - border) continue;
        n++;
        sum += data[y * 256 + x];
        sum2 += data[y * 256 + x] ** 2;
      }
    }
    const borderStd = Math.sqrt(sum2 / n - (sum / n) ** 2);
    const flux = truth.columns.flux_jy as Float64Array;
    const snr = truth.columns.snr as Float64Array;
    const snrFlux = truth.columns.snr_flux as Float64Array;
    const tx = truth.columns.x as Float64Array;
    const ty = truth.columns.y as Float64Array;
    expect(flux.length).toBeGreaterThan(0);
    for (let i = 0; i < flux.length; i++) {
      expect(Math.abs(snrFlux[i] / (flux[i] / borderStd) - 1)).toBeLessThan(1e-5);
      const pixel = data[Math.round(ty[i]) * 256 + Math.round(tx[i])] / borderStd;
      expect(Math.abs(snr[i] - pixel)).toBeLessThan(1e-4);
    }
    expect(Array.from(truth.columns.snr_measured as Float64Array)).toEqual(Array.from(snr));
    expect(truth.columns.id).toBeInstanceOf(Int32Array);
    expect(Array.from(csv.columns.x as Float64Array)).toEqual(Array.from(truth.columns.x as Float64Array));
    expect(truth.metadata['deepsource.noise_estimator']).toBe('border-std');
    // Truth positions agree with the image WCS.
    const wcs = fits.wcs;
    const x = truth.columns.x as Float64Array;
    const ra = truth.columns.ra_deg as Float64Array;
    const dec = truth.columns.dec_deg as Float64Array;
    for (let i = 0; i < x.length; i++) expect(Math.abs(wcs.skyToPix(ra[i], dec[i]).x - x[i])).toBeLessThan(1e-6);

    const manifest = JSON.parse(readFileSync(join(dir, 'a', 'manifest.json'), 'utf8'));
    expect(manifest.seed).toBe(11);
    expect(manifest.count).toBe(2);
    expect(manifest.parameters).toMatchObject({ size: 256, pixel_scale_arcsec: 1.5, weighting: 'uniform', field: 'different', clean: true, clean_iterations: 10000 });
    expect(manifest.images).toHaveLength(2);
    expect(manifest.images[0].fits).toBe('img_000.fits');
  });

  test('--no-clean writes the dirty image', async () => {
    const res = simulate(['--out', join(dir, 'dirty'), '--size', '128', '--no-clean', '--quiet', '--weighting', 'briggs:0.5'], dir);
    expect(res.status).toBe(0);
    const image = await readFitsImage(join(dir, 'dirty', 'img_000.fits'));
    expect(image.header.get('CLEANED')).toBe(false);
    expect(image.header.getString('WEIGHTNG')).toBe('briggs:0.5');
  });

  const bad: [string, string[], RegExp][] = [
    ['an unknown flag', ['--bogus'], /unknown option/],
    ['a negative size', ['--size', '-5'], /--size must be >= 32, got -5/],
    ['a bad weighting', ['--weighting', 'robust'], /--weighting must be natural, uniform or briggs:R/],
    ['a bad field', ['--field', 'other'], /--field must be different or same/],
    ['an impossible separation', ['--size', '256', '--sources-per-deg2', '100000'], /cannot place \d+ sources/],
    ['a border too wide', ['--size', '256', '--border', '200'], /border must be an integer from 1 to 127/],
    ['a missing antenna file', ['--size', '64', '--antennas', '/nonexistent/ants.txt'], /cannot read antenna file \/nonexistent\/ants.txt/],
  ];
  test.each(bad)('%s: one line on stderr, exit 2, nothing written', (_name, extra, pattern) => {
    const out = join(dir, `bad-${_name.replace(/\W+/g, '-')}`);
    const res = simulate(['--out', out, '--quiet', ...extra], dir);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(pattern);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  test('an unwritable --out: one line, exit 2', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const res = simulate(['--out', join(file, 'sub'), '--size', '64', '--quiet'], dir);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--out .*not-a-dir\/sub is not writable/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    if (process.getuid && process.getuid() !== 0) {
      const ro = join(dir, 'readonly');
      rmSync(ro, { recursive: true, force: true });
      require('node:fs').mkdirSync(ro);
      chmodSync(ro, 0o500);
      const r2 = simulate(['--out', ro, '--size', '64', '--quiet'], dir);
      expect(r2.status).toBe(2);
      chmodSync(ro, 0o700);
    }
  });
});
