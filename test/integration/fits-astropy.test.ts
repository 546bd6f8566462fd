/**
 * Interop with astropy (run for real: python3 + astropy from infra/python/setup.sh).
 * - pix→sky and sky→pix agree with astropy.wcs to 1 milliarcsecond on >= 1000 random pixels of
 *   every image in ../shared/data/real/ and of synthetic headers covering the other WCS forms;
 * - astropy reads the files we write (data, header and WCS equal);
 * - we read integer-BITPIX files with BSCALE/BZERO/BLANK exactly as astropy does.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError } from '../../src/core/errors';
import { Random } from '../../src/core/random';
import { openFits, readFitsImage } from '../../src/fits/read';
import type { FitsCard } from '../../src/fits/types';
import { Wcs } from '../../src/fits/wcs';
import { writeFitsImage } from '../../src/fits/write';
import { card, imageFile } from '../fits/fitsBytes';

const REAL_DIR = path.resolve(__dirname, '../../../shared/data/real');
const MAS_DEG = 1 / 3.6e6;
const PIXELS_PER_IMAGE = 1500;

function python(script: string, input: unknown): any {
  const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** astropy pix2world / world2pix of the celestial part, 0-based; NaN travels as null. */
const WCS_SCRIPT = `
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
warnings.simplefilter('ignore')
req = json.load(sys.stdin)
out = []
for job in req:
    with fits.open(job['path']) as hdul:
        hdu = next(h for h in hdul if h.header.get('NAXIS', 0) >= 2 and not isinstance(h, fits.BinTableHDU))
        w = WCS(hdu.header).celestial
    pix = np.array(job['pixels'], dtype=float)
    world = w.wcs_pix2world(pix, 0)
    good = np.all(np.isfinite(world), axis=1)
    back = np.full_like(world, np.nan)
    back[good] = w.wcs_world2pix(world[good], 0)
    # world columns follow the axes: reorder to (ra, dec) whichever axis carries RA
    sky = world[:, [w.wcs.lng, w.wcs.lat]]
    tolist = lambda a: [[None if not np.isfinite(v) else float(v) for v in row] for row in a]
    out.append({'sky': tolist(sky), 'pix': tolist(back)})
print(json.dumps(out))
`;

function separationDeg(a: { ra: number; dec: number }, b: { ra: number; dec: number }): number {
  const d2r = Math.PI / 180;
  const s = Math.sin(((b.dec - a.dec) * d2r) / 2) ** 2 + Math.cos(a.dec * d2r) * Math.cos(b.dec * d2r) * Math.sin(((b.ra - a.ra) * d2r) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(s)))) / d2r;
}

interface Comparison {
  name: string;
  pixels: number;
  nanBoth: number;
  maxSkyErrMas: number;
  maxPixErrMas: number;
}

/** Compares our Wcs with astropy on random pixels of each file; every mismatch is collected, not just the first. */
function compareWithAstropy(jobs: { name: string; path: string; wcs: Wcs; width: number; height: number; seed: number }[]): Comparison[] {
  const pixelSets = jobs.map((job) => {
    const random = new Random(job.seed);
    const pixels: [number, number][] = [[0, 0], [job.width - 1, job.height - 1], [-0.5, -0.5], [job.width - 0.5, job.height - 0.5]];
    while (pixels.length < PIXELS_PER_IMAGE) pixels.push([random.range(-0.5, job.width - 0.5), random.range(-0.5, job.height - 0.5)]);
    return pixels;
  });
  const results = python(WCS_SCRIPT, jobs.map((job, i) => ({ path: job.path, pixels: pixelSets[i] }))) as { sky: (number | null)[][]; pix: (number | null)[][] }[];
  return jobs.map((job, j) => {
    const scale = job.wcs.pixelScaleDeg();
    const pixScaleDeg = Math.max(scale.x, scale.y);
    let maxSky = 0;
    let maxPix = 0;
    let nanBoth = 0;
    const problems: string[] = [];
    pixelSets[j].forEach(([x, y], i) => {
      const [ra, dec] = results[j].sky[i];
      const ours = job.wcs.pixToSky(x, y);
      if (ra === null || dec === null) {
        if (!Number.isNaN(ours.ra)) problems.push(`pixel (${x}, ${y}): astropy gives NaN, we give (${ours.ra}, ${ours.dec})`);
        else nanBoth++;
        return;
      }
      if (Number.isNaN(ours.ra) || Number.isNaN(ours.dec)) {
        problems.push(`pixel (${x}, ${y}): we give NaN, astropy (${ra}, ${dec})`);
        return;
      }
      const skyErr = separationDeg(ours, { ra, dec });
      maxSky = Math.max(maxSky, skyErr);
      const [ax, ay] = results[j].pix[i];
      const back = job.wcs.skyToPix(ra, dec);
      if (ax === null || ay === null) {
        problems.push(`sky (${ra}, ${dec}): astropy world2pix gives NaN`);
        return;
      }
      const pixErr = Math.hypot(back.x - ax, back.y - ay) * pixScaleDeg;
      maxPix = Math.max(maxPix, Number.isNaN(pixErr) ? Infinity : pixErr);
    });
    expect(problems.slice(0, 5)).toEqual([]);
    return { name: job.name, pixels: pixelSets[j].length, nanBoth, maxSkyErrMas: maxSky / MAS_DEG, maxPixErrMas: maxPix / MAS_DEG };
  });
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fits-astropy-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('WCS agrees with astropy to 1 mas', () => {
  it('on every image in shared/data/real', async () => {
    const names = (await fs.readdir(REAL_DIR)).filter((n) => /\.fits?$/i.test(n)).sort();
    expect(names.length).toBeGreaterThanOrEqual(4);
    // Which files hold an image, according to astropy (not to us).
    const kinds = python(
      `import json, sys\nfrom astropy.io import fits\nout = {}\nfor p in json.load(sys.stdin):\n    with fits.open(p) as h:\n        out[p] = any(x.header.get('NAXIS', 0) >= 2 and not isinstance(x, fits.BinTableHDU) for x in h)\nprint(json.dumps(out))`,
      names.map((n) => path.join(REAL_DIR, n)),
    ) as Record<string, boolean>;
    const jobs = [];
    for (const [index, name] of names.entries()) {
      const file = path.join(REAL_DIR, name);
      if (!kinds[file]) {
        // e.g. 1904_comp.fits, a binary-table catalogue: we must say there is no image, not crash.
        await expect(openFits(file)).rejects.toThrow(FormatError);
        await expect(openFits(file)).rejects.toThrow(/no image data/);
        continue;
      }
      const { wcs, image } = await readFitsImage(file);
      jobs.push({ name, path: file, wcs, width: image.width, height: image.height, seed: 1000 + index });
    }
    expect(jobs.map((j) => j.name)).toEqual(expect.arrayContaining(['1904-66_SIN.fits', 'GRB120422A-120429.fits', 'AIPS_header.fits']));
    const comparisons = compareWithAstropy(jobs);
    console.log(JSON.stringify({ wcsVsAstropy: comparisons }));
    for (const c of comparisons) {
      expect(c.pixels - c.nanBoth).toBeGreaterThanOrEqual(1000);
      expect(c.maxSkyErrMas).toBeLessThan(1);
      expect(c.maxPixErrMas).toBeLessThan(1);
    }
  });

  it('on synthetic headers: TAN/CD rotation, NCP, SIN with PV, CROTA2, ARC, STG, CAR with LONPOLE/LATPOLE, far reference pixels', async () => {
    const base = (ctype: string, crval: [number, number], crpix: [number, number], cdelt: number): FitsCard[] => [
      { key: 'CTYPE1', value: `RA---${ctype}` }, { key: 'CTYPE2', value: `DEC--${ctype}` },
      { key: 'CRVAL1', value: crval[0] }, { key: 'CRVAL2', value: crval[1] },
      { key: 'CRPIX1', value: crpix[0] }, { key: 'CRPIX2', value: crpix[1] },
    ].concat(cdelt ? [{ key: 'CDELT1', value: -cdelt }, { key: 'CDELT2', value: cdelt }] : []);
    const rot = (deg: number, c1: number, c2: number): FitsCard[] => {
      const r = (deg * Math.PI) / 180;
      return [
        { key: 'CD1_1', value: c1 * Math.cos(r) }, { key: 'CD1_2', value: -c2 * Math.sin(r) },
        { key: 'CD2_1', value: c1 * Math.sin(r) }, { key: 'CD2_2', value: c2 * Math.cos(r) },
      ];
    };
    const cases: Record<string, FitsCard[]> = {
      'tan-cd-rotated': [...base('TAN', [210.5, 54.3], [100.5, 80.25], 0), ...rot(37, -2e-4, 2.5e-4)],
      'tan-far-refpix': [...base('TAN', [10, -30], [-5000, 12000], 1e-3)],
      'ncp-dec30': [...base('NCP', [83.8, 30], [64, 64], 5e-3)],
      'ncp-south': [...base('NCP', [300, -60], [1, 200], 2e-2)],
      'sin-pv': [...base('SIN', [45, 10], [50, 50], 1e-2), { key: 'PV2_1', value: 0.12 }, { key: 'PV2_2', value: -0.31 }],
      'sin-crota2': [...base('SIN', [359.9, 89.5], [30, 40], 4e-3), { key: 'CROTA2', value: -63 }],
      // CROTA on the longitude axis is ignored by WCSLIB; CROTA2 with unequal CDELTs
      'tan-crota1-crota2': [...base('TAN', [200, -10], [64, 64], 0), { key: 'CDELT1', value: -2e-3 }, { key: 'CDELT2', value: 3e-3 }, { key: 'CROTA1', value: 50 }, { key: 'CROTA2', value: 20 }],
      // PC and CD both present: PC wins; CROTA2 with PC: PC wins
      'tan-pc-cd-crota': [...base('TAN', [5, 5], [10, 10], 1e-2), { key: 'PC1_1', value: 0.5 }, { key: 'PC2_2', value: 0.7 }, { key: 'CD1_1', value: -0.02 }, { key: 'CD2_2', value: 0.02 }, { key: 'CROTA2', value: 30 }],
      'sin-swapped-axes-crota': [
        { key: 'CTYPE1', value: 'DEC--SIN' }, { key: 'CTYPE2', value: 'RA---SIN' }, { key: 'CRVAL1', value: -35 }, { key: 'CRVAL2', value: 77 },
        { key: 'CRPIX1', value: 70 }, { key: 'CRPIX2', value: 50 }, { key: 'CDELT1', value: 3e-3 }, { key: 'CDELT2', value: -2e-3 }, { key: 'CROTA1', value: 25 },
      ],
      'tan-cd-crota': [...base('TAN', [5, 5], [10, 10], 1e-2), { key: 'CD1_1', value: -0.02 }, { key: 'CD2_2', value: 0.02 }, { key: 'CD1_2', value: 0.001 }, { key: 'CROTA2', value: 30 }],
      'sin-north-pole': [...base('SIN', [0, 90], [-100, 64], 0.05)],
      'sin-pc-lonpole': [...base('SIN', [120, -45], [64, 64], 1e-2), { key: 'PC1_1', value: 0.9 }, { key: 'PC1_2', value: 0.2 }, { key: 'PC2_1', value: -0.1 }, { key: 'PC2_2', value: 1.1 }, { key: 'LONPOLE', value: 150 }],
      'arc': [...base('ARC', [150, 2], [64, 64], 0.5)],
      'stg': [...base('STG', [20, -80], [0, 0], 0.3)],
      'car-latpole': [...base('CAR', [30, 20], [64, 64], 0.2), { key: 'LONPOLE', value: 0 }, { key: 'LATPOLE', value: 70 }],
      'car-default': [...base('CAR', [0, 0], [64.5, 64.5], 0.5)],
      // 1 deg pixels: the corners lie beyond the SIN horizon (57.3 deg), where both must give NaN
      'sin-beyond-horizon': [...base('SIN', [100, 10], [64.5, 64.5], 0.9)],
    };
    const jobs = [];
    let seed = 1;
    for (const [name, cards] of Object.entries(cases)) {
      const file = path.join(dir, `${name}.fits`);
      const width = 128;
      const height = 128;
      await writeFitsImage(file, { data: new Float32Array(width * height), width, height }, cards);
      const { wcs } = await readFitsImage(file);
      jobs.push({ name, path: file, wcs, width, height, seed: seed++ });
    }
    const comparisons = compareWithAstropy(jobs);
    console.log(JSON.stringify({ syntheticWcsVsAstropy: comparisons }));
    for (const c of comparisons) {
      expect(c.pixels - c.nanBoth).toBeGreaterThanOrEqual(c.name === 'sin-beyond-horizon' ? 500 : 1000);
      expect(c.maxSkyErrMas).toBeLessThan(1);
      expect(c.maxPixErrMas).toBeLessThan(1);
    }
    expect(comparisons.find((c) => c.name === 'sin-beyond-horizon')?.nanBoth).toBeGreaterThan(100);
  });
});

describe('astropy reads what we write', () => {
  it.each([-32, -64] as const)('BITPIX %d: data bit-exact, header keywords and WCS equal', async (bitpix) => {
    const width = 67;
    const height = 45;
    const random = new Random(bitpix === -32 ? 7 : 8);
    const data = Float32Array.from({ length: width * height }, () => (random.uniform() < 0.05 ? NaN : random.gaussian() * 1e-3));
    const file = path.join(dir, `ours${bitpix}.fits`);
    const longHistory = 'simulated with DeepSource-TS; ' + 'a long provenance line that needs more than one card '.repeat(3).trimEnd();
    const cards: FitsCard[] = [
      { key: 'CTYPE1', value: 'RA---SIN' }, { key: 'CTYPE2', value: 'DEC--SIN' },
      { key: 'CRPIX1', value: (width + 1) / 2 }, { key: 'CRPIX2', value: (height + 1) / 2 },
      { key: 'CRVAL1', value: 50 }, { key: 'CRVAL2', value: -20 },
      { key: 'CDELT1', value: -1.5 / 3600 }, { key: 'CDELT2', value: 1.5 / 3600 },
      { key: 'CUNIT1', value: 'deg' }, { key: 'CUNIT2', value: 'deg' },
      { key: 'RADESYS', value: 'ICRS' }, { key: 'EQUINOX', value: 2000 },
      { key: 'BUNIT', value: 'Jy/beam' },
      { key: 'BMAJ', value: 6 / 3600, comment: 'deg' }, { key: 'BMIN', value: 5.5 / 3600 }, { key: 'BPA', value: -12.25 },
      { key: 'ORIGIN', value: "DeepSource-TS 'test' " + 'x'.repeat(120) },
      { key: 'HISTORY', comment: longHistory },
    ];
    await writeFitsImage(file, { data, width, height }, cards, { bitpix });
    const rawFile = path.join(dir, `astropy${bitpix}.f64`);
    const pixels = [[0, 0], [10.5, 20.25], [width - 1, height - 1], [-3, 100]];
    const info = python(
      `import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
req = json.load(sys.stdin)
with warnings.catch_warnings():
    warnings.simplefilter('error')
    hdul = fits.open(req['path'])
    hdul.verify('exception')
h = hdul[0].header
hdul[0].data.astype('<f8').tofile(req['raw'])
w = WCS(h)
print(json.dumps({'shape': list(hdul[0].data.shape), 'dtype': str(hdul[0].data.dtype), 'bmaj': h['BMAJ'], 'bmin': h['BMIN'], 'bpa': h['BPA'], 'bunit': h['BUNIT'],
  'origin': h['ORIGIN'], 'history': ' '.join(str(x) for x in h['HISTORY']), 'sky': w.wcs_pix2world(np.array(req['pixels'], dtype=float), 0).tolist()}))`,
      { path: file, raw: rawFile, pixels },
    );
    expect(info.shape).toEqual([height, width]);
    expect(info.dtype).toBe(bitpix === -32 ? '>f4' : '>f8');
    expect([info.bmaj, info.bmin, info.bpa, info.bunit]).toEqual([6 / 3600, 5.5 / 3600, -12.25, 'Jy/beam']);
    expect(info.origin).toBe("DeepSource-TS 'test' " + 'x'.repeat(120));
    expect(info.history).toBe(longHistory);
    const theirs = new Float64Array((await fs.readFile(rawFile)).buffer.slice(0));
    expect(theirs.length).toBe(data.length);
    for (let i = 0; i < data.length; i++) {
      if (Number.isNaN(data[i])) expect(theirs[i]).toBeNaN();
      else expect(theirs[i]).toBe(data[i]);
    }
    const wcs = (await readFitsImage(file)).wcs;
    pixels.forEach(([x, y], i) => {
      expect(separationDeg(wcs.pixToSky(x, y), { ra: info.sky[i][0], dec: info.sky[i][1] }) / MAS_DEG).toBeLessThan(1e-3);
    });
  });
});

describe('we read integer images as astropy does', () => {
  it.each([
    // (astropy cannot combine BZERO = -128 with BLANK on BITPIX 8, so those two are separate cases)
    [8, [0, 1, 127, 128, 255, 9], [card('BZERO', '-128')]],
    [8, [0, 1, 127, 128, 255, 9], [card('BSCALE', '0.5'), card('BZERO', '3.0'), card('BLANK', '9')]],
    [16, [-32768, -1, 0, 1, 32767, 5], [card('BSCALE', '0.001'), card('BZERO', '-3.5'), card('BLANK', '5')]],
    [16, [-32768, -1, 0, 1, 32767, 5], [card('BZERO', '32768')]],
    [32, [-2147483648, -1, 0, 1, 2147483647, 42], [card('BSCALE', '1.5E-6'), card('BLANK', '-2147483648')]],
    [64, [-(2n ** 63n), -1n, 0n, 1n, 2n ** 53n + 2n, 2n ** 62n], [card('BSCALE', '2.0'), card('BZERO', '1.0'), card('BLANK', '1')]],
  ] as [number, (number | bigint)[], string[]][])('BITPIX %d', async (bitpix, values, extra) => {
    const file = path.join(dir, `int${bitpix}-${extra.join('').replace(/\W+/g, '')}.fits`);
    await fs.writeFile(file, imageFile(bitpix, [3, 2], values, extra));
    const rawFile = `${file}.f64`;
    python(
      `import json, sys\nfrom astropy.io import fits\nreq = json.load(sys.stdin)\nwith fits.open(req['path']) as h:\n    h[0].data.astype('<f8').tofile(req['raw'])\nprint('{}')`,
      { path: file, raw: rawFile },
    );
    const theirs = Array.from(new Float64Array((await fs.readFile(rawFile)).buffer.slice(0)));
    const f = await openFits(file);
    const ours64 = Array.from(await f.readRows64(0, 2));
    const ours32 = Array.from(await f.readRows(0, 2));
    await f.close();
    if (bitpix > 16) {
      // astropy scales 32- and 64-bit integers in float64, as we do: exact
      expect(ours64).toEqual(theirs);
    } else {
      // astropy scales 8- and 16-bit integers in float32 arithmetic (each step rounded); we compute in
      // float64 and round once, so the two may differ by float32 rounding: 2 ulp of 2^-23 relative.
      ours32.forEach((value, i) => {
        if (Number.isNaN(theirs[i])) expect(value).toBeNaN();
        else expect(Math.abs(value - theirs[i])).toBeLessThanOrEqual(2 * 2 ** -23 * Math.max(Math.abs(theirs[i]), 1e-30));
      });
    }
  });
});
