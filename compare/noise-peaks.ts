/**
 * How many noise peaks compete with the true sources at each SNR (issue 4 diagnostic, not a test).
 *
 * A finder that reports local maxima sees, at SNR s, the true sources whose pixel-flux SNR is s
 * (paper section 2) and the noise's own local maxima of height s·σ. This counts both per SNR bin on
 * simulated images: noise maxima (8-neighbour local maxima) in the source-free border (BORDERPX),
 * scaled to the area of the source region, against true sources binned by their pixel-flux SNR.
 * The ratio bounds how pure any finder can be at that SNR unless it tells a source from a noise
 * peak by something other than height (shape, context) — which is what the CNN is for.
 *
 * Run:
 *   npx tsc --outDir tmp/noise-peaks-build --module node16 --moduleResolution node16 --target es2022 \
 *     --strict --skipLibCheck --types node compare/noise-peaks.ts && \
 *   node tmp/noise-peaks-build/compare/noise-peaks.js tmp/eval/natural/test [LIMIT]
 * Prints one JSON object: per bin, noise peaks and true sources per image, and their ratio.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFitsImage } from '../src/fits/read';
import { readCatalogue } from '../src/catalogue/read';
import { snrNoise } from '../src/eval/noise';
import { truthWithSnr } from '../src/eval/finders/common';

const EDGES = [2, 2.5, 3, 3.5, 4, 4.5, 5, 6, Infinity];

function binOf(snr: number): number {
  for (let b = 0; b < EDGES.length - 1; b++) if (snr >= EDGES[b] && snr < EDGES[b + 1]) return b;
  return -1;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node noise-peaks.js SIMDIR [LIMIT]');
  const limit = Number(process.argv[3] ?? Infinity);
  const ids = readdirSync(dir)
    .filter((f) => /^img_\d+\.fits$/.test(f))
    .sort()
    .slice(0, limit)
    .map((f) => f.replace(/\.fits$/, ''));
  const bins = EDGES.length - 1;
  const noisePeaks = new Float64Array(bins);
  const trueSources = new Float64Array(bins);
  for (const id of ids) {
    const { image, header } = await readFitsImage(join(dir, `${id}.fits`));
    const border = header.getNumber('BORDERPX');
    if (!border) throw new Error(`${id}: no BORDERPX, not a DeepSource simulation`);
    const { sigma } = snrNoise(image, header);
    const { data, width, height } = image;
    const inBorder = (x: number, y: number) => x < border || y < border || x >= width - border || y >= height - border;
    const borderPeaks = new Float64Array(bins);
    let borderArea = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!inBorder(x, y)) continue;
        borderArea++;
        if (x === 0 || y === 0 || x === width - 1 || y === height - 1) continue;
        const v = data[y * width + x];
        let peak = true;
        for (let dy = -1; dy <= 1 && peak; dy++) for (let dx = -1; dx <= 1; dx++) if ((dx || dy) && data[(y + dy) * width + x + dx] >= v) peak = false;
        if (!peak) continue;
        const b = binOf(v / sigma);
        if (b >= 0) borderPeaks[b]++;
      }
    }
    const sourceArea = width * height - borderArea;
    for (let b = 0; b < bins; b++) noisePeaks[b] += (borderPeaks[b] * sourceArea) / borderArea;
    const truth = truthWithSnr(await readCatalogue(join(dir, `${id}.truth.parquet`)), image, sigma, 'pixel');
    const snr = truth.columns.snr as ArrayLike<number>;
    for (let i = 0; i < snr.length; i++) {
      const b = binOf(snr[i]);
      if (b >= 0) trueSources[b]++;
    }
  }
  const rows = Array.from({ length: bins }, (_, b) => ({
    bin: `[${EDGES[b]}, ${EDGES[b + 1]})`,
    noise_peaks_per_image: +(noisePeaks[b] / ids.length).toFixed(2),
    true_sources_per_image: +(trueSources[b] / ids.length).toFixed(2),
    noise_peaks_per_true_source: trueSources[b] > 0 ? +(noisePeaks[b] / trueSources[b]).toFixed(2) : null,
  }));
  process.stdout.write(JSON.stringify({ data: dir, images: ids.length, rows }, null, 1) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`noise-peaks: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
