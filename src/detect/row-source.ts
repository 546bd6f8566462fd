/**
 * Whole-image statistics read strip by strip (issue 5: "never read the whole image when a strip
 * will do"). Each function gives exactly the value of its in-memory counterpart — same pixels, same
 * order, same arithmetic — so `detect` on a FITS file (rows read on demand) and on an image in
 * memory (the pipeline) make identical catalogues; test/detect/row-source.test.ts checks it.
 */
import type { Image } from '../core/image';
import { madSigma, meanStd } from '../core/stats';
import type { RowSource } from '../tiling/stitch';

/** Rows per strip read (16384-px rows: 16 MB of float32). */
export const STRIP_ROWS = 256;

/** An image in memory as a RowSource; rows are views, not copies. */
export function imageRowSource(image: Image): RowSource {
  return {
    width: image.width,
    height: image.height,
    readRows: async (y0, y1) => image.data.subarray(y0 * image.width, y1 * image.width),
  };
}

/** Calls visit(rows, y0, y1) for consecutive strips of at most `strip` rows, top to bottom. */
export async function forEachStrip(source: RowSource, visit: (rows: Float32Array, y0: number, y1: number) => void, strip = STRIP_ROWS): Promise<void> {
  for (let y0 = 0; y0 < source.height; y0 += strip) {
    const y1 = Math.min(source.height, y0 + strip);
    visit(await source.readRows(y0, y1), y0, y1);
  }
}

/**
 * Same as estimateNoiseSigma (src/model/normalise.ts) then imageNoiseSigma's zero-padding fallback
 * (detect-image.ts), from strips: the MAD of a strided sample of about 2^20 pixels; when that has no
 * spread, the MAD of all pixels; when that fails too, the MAD of the non-zero pixels; NaN when none
 * has spread. The sample costs one pass over the rows and 4 bytes per sampled pixel. The two
 * fallbacks (images more than half blank-zero, or constant) hold their values in memory, as the
 * in-memory estimate does.
 */
export async function sourceNoiseSigma(source: RowSource): Promise<number> {
  const { width, height } = source;
  const n = width * height;
  // estimateNoiseSigma's sample: every stride-th pixel in raster order (odd stride, ~2^20 samples).
  let stride = Math.max(1, Math.floor(n / (1 << 20)));
  if (stride > 1 && stride % 2 === 0) stride += 1;
  const sample = new Float32Array(Math.ceil(n / stride));
  let taken = 0;
  await forEachStrip(source, (rows, y0) => {
    const first = y0 * width;
    const end = first + rows.length;
    // first multiple of stride at or after `first`
    for (let i = Math.ceil(first / stride) * stride; i < end; i += stride) sample[taken++] = rows[i - first];
  });
  let sigma = madSigma(sample);
  if (!(sigma > 0) && stride > 1) sigma = madSigma((await source.readRows(0, height)) as ArrayLike<number>);
  if (Number.isFinite(sigma) && sigma > 0) return sigma;
  // imageNoiseSigma: the MAD of the non-zero finite pixels (zero-padded images).
  let nonZero = new Float32Array(1 << 16);
  let count = 0;
  await forEachStrip(source, (rows) => {
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i];
      if (v !== 0 && Number.isFinite(v)) {
        if (count === nonZero.length) {
          const grown = new Float32Array(nonZero.length * 2);
          grown.set(nonZero);
          nonZero = grown;
        }
        nonZero[count++] = v;
      }
    }
  });
  const fallback = count > 0 ? madSigma(nonZero.subarray(0, count)) : NaN;
  return fallback > 0 ? fallback : NaN;
}

/** Same as borderNoiseStd (local-rms.ts) from strips: std of the pixels within `border` px of the edge. */
export async function sourceBorderNoiseStd(source: RowSource, border: number): Promise<number> {
  const { width, height } = source;
  const b = Math.max(0, Math.min(Math.floor(border), Math.floor(Math.min(width, height) / 2)));
  if (b === 0) return NaN;
  const values = new Float32Array(width * height - Math.max(0, width - 2 * b) * Math.max(0, height - 2 * b));
  let n = 0;
  const copy = async (y0: number, y1: number, wholeRows: boolean) => {
    for (let s = y0; s < y1; s += STRIP_ROWS) {
      const s1 = Math.min(y1, s + STRIP_ROWS);
      const rows = await source.readRows(s, s1);
      for (let y = 0; y < s1 - s; y++) {
        for (let x = 0; x < width; x++) {
          if (!wholeRows && x >= b && x < width - b) continue;
          values[n++] = rows[y * width + x];
        }
      }
    }
  };
  // Raster order, as borderNoiseStd: top rows, then the left/right edges of the middle rows, then the bottom rows.
  await copy(0, Math.min(b, height), true);
  await copy(b, Math.max(b, height - b), false);
  await copy(Math.max(b, height - b), height, true);
  return meanStd(values.subarray(0, n)).std;
}
