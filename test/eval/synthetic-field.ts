/**
 * Test helper: a small simulated field with known point sources, written like `simulate --out`
 * (img_NNN.fits with beam and SIN WCS, img_NNN.truth.parquet and .csv), without the simulator.
 * Sources are Gaussian beams (FWHM = beam) on white Gaussian noise, kept out of a border strip;
 * the truth SNR is the image value at the source pixel over the border's standard deviation
 * (paper section 2).
 */
import { join } from 'node:path';
import { Random } from '../../src/core/random';
import { writeFitsImage, sinWcsCards } from '../../src/fits/write';
import { Wcs } from '../../src/fits/wcs';
import { headerFromCards } from '../../src/fits/header';
import { buildTruthTable } from '../../src/catalogue/schema';
import { writeCatalogue } from '../../src/catalogue/write';
import type { Image } from '../../src/core/image';

export interface SyntheticFieldOptions {
  size?: number;
  pixelArcsec?: number;
  beamArcsec?: number;
  sources?: number;
  border?: number;
  noiseJy?: number;
  snrRange?: [number, number];
  seed?: number;
  raDeg?: number;
  decDeg?: number;
}

export interface SyntheticField {
  imagePath: string;
  truthPath: string;
  image: Image;
  wcs: Wcs;
  x: Float64Array;
  y: Float64Array;
  ra: Float64Array;
  dec: Float64Array;
  snr: Float64Array;
  noise: number;
}

export async function writeSyntheticField(dir: string, name: string, options: SyntheticFieldOptions = {}): Promise<SyntheticField> {
  const size = options.size ?? 256;
  const pixelArcsec = options.pixelArcsec ?? 1.5;
  const beamArcsec = options.beamArcsec ?? 6;
  const nSources = options.sources ?? 20;
  const border = options.border ?? 24;
  const noiseJy = options.noiseJy ?? 1e-5;
  const [snrLo, snrHi] = options.snrRange ?? [5, 40];
  const rng = new Random(options.seed ?? 1);
  const sigmaPx = beamArcsec / pixelArcsec / (2 * Math.sqrt(2 * Math.log(2)));

  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = noiseJy * rng.gaussian();
  const xs: number[] = [];
  const ys: number[] = [];
  const minSep = 4 * beamArcsec / pixelArcsec;
  let tries = 0;
  while (xs.length < nSources && tries++ < 100000) {
    const x = rng.range(border + 4, size - border - 4);
    const y = rng.range(border + 4, size - border - 4);
    if (xs.some((ox, k) => Math.hypot(ox - x, ys[k] - y) < minSep)) continue;
    xs.push(x);
    ys.push(y);
  }
  const peaks = xs.map(() => rng.range(snrLo, snrHi) * noiseJy);
  const r = Math.ceil(5 * sigmaPx);
  xs.forEach((sx, k) => {
    for (let py = Math.max(0, Math.floor(ys[k]) - r); py <= Math.min(size - 1, Math.floor(ys[k]) + r); py++) {
      for (let px = Math.max(0, Math.floor(sx) - r); px <= Math.min(size - 1, Math.floor(sx) + r); px++) {
        const d2 = (px - sx) ** 2 + (py - ys[k]) ** 2;
        data[py * size + px] += peaks[k] * Math.exp(-d2 / (2 * sigmaPx * sigmaPx));
      }
    }
  });
  // Border noise: the std of the source-free strip.
  let sum = 0;
  let sum2 = 0;
  let n = 0;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      if (px >= border && px < size - border && py >= border && py < size - border) continue;
      const v = data[py * size + px];
      sum += v;
      sum2 += v * v;
      n++;
    }
  }
  const noise = Math.sqrt(sum2 / n - (sum / n) ** 2);
  const snr = xs.map((sx, k) => data[Math.round(ys[k]) * size + Math.round(sx)] / noise);

  const cards = [
    ...sinWcsCards({ raDeg: options.raDeg ?? 50, decDeg: options.decDeg ?? -30, cdeltDeg: pixelArcsec / 3600, width: size, height: size }),
    { key: 'BMAJ', value: beamArcsec / 3600 },
    { key: 'BMIN', value: beamArcsec / 3600 },
    { key: 'BPA', value: 0 },
    { key: 'BUNIT', value: 'JY/BEAM' },
  ];
  const wcs = Wcs.fromHeader(headerFromCards(cards), name);
  const ra = new Float64Array(xs.length);
  const dec = new Float64Array(xs.length);
  xs.forEach((sx, k) => {
    const sky = wcs.pixToSky(sx, ys[k]);
    ra[k] = sky.ra;
    dec[k] = sky.dec;
  });
  const image = { data, width: size, height: size };
  const imagePath = join(dir, `${name}.fits`);
  await writeFitsImage(imagePath, image, cards);
  const truth = buildTruthTable({ x: xs, y: ys, ra_deg: ra, dec_deg: dec, flux_jy: peaks, snr }, { noiseEstimator: 'border-std', noiseValue: noise, beamArcsec });
  const truthPath = join(dir, `${name}.truth.parquet`);
  await writeCatalogue(truthPath, truth, 'parquet');
  await writeCatalogue(join(dir, `${name}.truth.csv`), truth, 'csv');
  return { imagePath, truthPath, image, wcs, x: Float64Array.from(xs), y: Float64Array.from(ys), ra, dec, snr: Float64Array.from(snr), noise };
}
