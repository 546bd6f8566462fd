/**
 * Detection catalogue rows for one image (CONTRACT.md columns): one row per TBD blob, with the sky
 * position from the WCS, the original image's value at the position, the noise there and the SNR,
 * the CNN output, the blob area, the tile and the flag bits. Built as columns through the catalogue
 * schema (src/catalogue/schema.ts), so every writer sees the same names, types and units.
 */
import type { Image } from '../core/image';
import { UserInputError } from '../core/errors';
import type { ColumnTable } from '../catalogue/table';
import { buildDetectionTable, DETECTION_FLAGS } from '../catalogue/schema';
import type { Provenance } from '../catalogue/provenance';
import type { RowSource } from '../tiling/stitch';
import type { BlobColumns } from './tbd';
import { DEFAULT_LOCAL_RMS_BOX, localMadRms, MIN_LOCAL_RMS_PIXELS } from './local-rms';

/** Converts 0-based pixel positions to sky degrees (a Wcs from src/fits is one). */
export interface PixelToSky {
  pixToSky(x: number, y: number): { ra: number; dec: number };
}

/**
 * Which noise gives `local_rms` (CONTRACT.md, SNR):
 * - 'mad-local-rms': robust MAD rms in a box around each source (real images); where the box has
 *   too few finite pixels, `globalSigma` is used and the GLOBAL_RMS flag is set;
 * - 'border-std' (simulated images) or 'global': one value for the whole image, given as `sigma`.
 */
export type NoiseModel =
  | { estimator: 'mad-local-rms'; globalSigma: number; boxPx?: number }
  | { estimator: 'border-std' | 'global'; sigma: number };

export interface CatalogueRowsInput {
  /** The original image (image units, normally Jy/beam), NaN = blank. */
  image: Image;
  /** The CNN output map the blobs were found in (same size). */
  cnn: Image;
  blobs: BlobColumns;
  imageId: string;
  noise: NoiseModel;
  /** Sky positions; without one, ra_deg/dec_deg are NaN. */
  wcs?: PixelToSky | null;
  /** Tile whose core holds each pixel (from the tile plan); -1 everywhere when not tiled. */
  tileOf?: (x: number, y: number) => number;
  provenance?: Provenance;
}

/** The table for one image. An image with no blobs gives an empty table with the full schema. */
export function catalogueRows(input: CatalogueRowsInput): ColumnTable {
  const { image, cnn, blobs } = input;
  checkRowsInput(input, image.width, image.height);
  const samples = newSamples(blobs.count);
  const all = Array.from({ length: blobs.count }, (_, i) => i);
  sampleBand(image, 0, blobs, all, localRmsBox(input.noise), samples);
  return rowsFromSamples(input, cnn.width, cnn.height, samples);
}

export interface CatalogueRowsSourceInput extends Omit<CatalogueRowsInput, 'image'> {
  /** The original image as rows read on demand (a FitsFile, or imageRowSource of an Image). */
  source: RowSource;
  /** Most rows read at once (besides one local-rms box); default 256. */
  bandRows?: number;
}

/**
 * catalogueRows with the image read by row bands around the detections (issue 5: never the whole
 * image): blobs sorted by row, each band covering the local-rms boxes of the blobs it serves. The
 * values equal catalogueRows' exactly: the same pixels, in the same order, enter each box.
 */
export async function catalogueRowsFromSource(input: CatalogueRowsSourceInput): Promise<ColumnTable> {
  const { source, cnn, blobs } = input;
  checkRowsInput(input, source.width, source.height);
  const { width, height } = source;
  const box = localRmsBox(input.noise);
  const half = Math.floor(box / 2);
  const n = blobs.count;
  // Rows each blob needs: its local-rms box (clipped to the image) and its own pixel.
  const need0 = new Int32Array(n);
  const need1 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cy = Math.round(blobs.y[i]);
    let y0 = height;
    let y1 = 0;
    if (box > 0) {
      y0 = Math.max(0, cy - half);
      y1 = Math.min(height, cy - half + box);
    }
    const px = Math.round(blobs.x[i]);
    if (px >= 0 && px < width && cy >= 0 && cy < height) {
      y0 = Math.min(y0, cy);
      y1 = Math.max(y1, cy + 1);
    }
    need0[i] = y0;
    need1[i] = Math.max(y0, y1);
  }
  const samples = newSamples(n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => need0[a] - need0[b] || a - b);
  const bandRows = Math.max(1, input.bandRows ?? 256);
  for (let k = 0; k < n; ) {
    const bandStart = need0[order[k]];
    let bandEnd = need1[order[k]];
    const members = [order[k++]];
    while (k < n && need1[order[k]] <= bandStart + Math.max(bandRows, box + 1)) {
      bandEnd = Math.max(bandEnd, need1[order[k]]);
      members.push(order[k++]);
    }
    if (bandEnd > bandStart) {
      const rows = await source.readRows(bandStart, bandEnd);
      sampleBand({ data: rows, width, height: bandEnd - bandStart }, bandStart, blobs, members, box, samples);
    } else {
      // Nothing of the image around these blobs (centres far outside): no pixel, no local rms.
      for (const i of members) samples.outside[i] = 1;
    }
  }
  return rowsFromSamples(input, cnn.width, cnn.height, samples);
}

interface PixelSamples {
  /** The image pixel nearest each blob's position (NaN when outside). */
  peakFlux: Float64Array;
  /** localMadRms around it (NaN when too few finite pixels, or not measured). */
  rms: Float64Array;
  /** 1 when the nearest pixel lies outside the image. */
  outside: Uint8Array;
}

function newSamples(n: number): PixelSamples {
  return { peakFlux: new Float64Array(n).fill(NaN), rms: new Float64Array(n).fill(NaN), outside: new Uint8Array(n) };
}

function localRmsBox(noise: NoiseModel): number {
  return noise.estimator === 'mad-local-rms' ? (noise.boxPx ?? DEFAULT_LOCAL_RMS_BOX) : 0;
}

function checkRowsInput(input: Omit<CatalogueRowsInput, 'image'>, width: number, height: number): void {
  const { cnn, noise } = input;
  if (cnn.width !== width || cnn.height !== height) {
    throw new UserInputError(`CNN map is ${cnn.width}×${cnn.height} but image ${input.imageId} is ${width}×${height}`);
  }
  if (noise.estimator === 'mad-local-rms') {
    if (!(noise.globalSigma > 0)) throw new UserInputError(`global noise sigma must be > 0, got ${noise.globalSigma}`);
  } else if (!(noise.sigma > 0)) {
    throw new UserInputError(`${noise.estimator} noise sigma must be > 0, got ${noise.sigma}`);
  }
}

/**
 * Nearest pixel and local rms of the blobs `members`, from `band`: image rows y0.. (the whole image
 * when y0 = 0 and band.height = height). The band must hold each member's clipped rms box and pixel.
 */
function sampleBand(band: Image, y0: number, blobs: BlobColumns, members: readonly number[], box: number, out: PixelSamples): void {
  const { width } = band;
  const scratch = box > 0 ? new Float64Array(box * box) : undefined;
  for (const i of members) {
    const x = blobs.x[i];
    const y = blobs.y[i];
    // "The image pixel value at a position" (CONTRACT.md, SNR): the nearest pixel.
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || px >= width || py < y0 || py >= y0 + band.height) {
      out.outside[i] = 1;
    } else {
      out.peakFlux[i] = band.data[(py - y0) * width + px];
    }
    // y − y0 is exact (y0 is an integer no larger than y's box start), so the box is the same.
    if (box > 0) out.rms[i] = localMadRms(band, x, y - y0, box, Math.min(MIN_LOCAL_RMS_PIXELS, box * box), scratch);
  }
}

/** The catalogue columns from the sampled pixel values. */
function rowsFromSamples(input: Omit<CatalogueRowsInput, 'image'>, width: number, height: number, samples: PixelSamples): ColumnTable {
  const { cnn, blobs, noise } = input;
  const n = blobs.count;
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  const peakFlux = new Float64Array(n);
  const localRms = new Float64Array(n);
  const cnnValue = new Float32Array(n);
  const tileId = new Int32Array(n).fill(-1);
  const flags = new Int32Array(n);
  const box = localRmsBox(noise);

  for (let i = 0; i < n; i++) {
    const x = blobs.x[i];
    const y = blobs.y[i];
    const px = Math.round(x);
    const py = Math.round(y);
    let flag = blobs.touchesEdge[i] ? DETECTION_FLAGS.EDGE : 0;
    if (px < 0 || py < 0 || px >= width || py >= height) {
      flag |= DETECTION_FLAGS.CENTRE_OUTSIDE;
      peakFlux[i] = NaN;
      cnnValue[i] = NaN;
    } else {
      peakFlux[i] = samples.peakFlux[i];
      cnnValue[i] = cnn.data[py * width + px];
      if (!Number.isFinite(peakFlux[i])) flag |= DETECTION_FLAGS.BAD_PIXEL;
      if (input.tileOf) tileId[i] = input.tileOf(px, py);
    }
    if (noise.estimator === 'mad-local-rms') {
      const rms = samples.rms[i];
      if (rms > 0) localRms[i] = rms;
      else {
        localRms[i] = noise.globalSigma;
        flag |= DETECTION_FLAGS.GLOBAL_RMS;
      }
    } else {
      localRms[i] = noise.sigma;
    }
    if (input.wcs) {
      const sky = input.wcs.pixToSky(x, y);
      ra[i] = sky.ra;
      dec[i] = sky.dec;
    } else {
      ra[i] = NaN;
      dec[i] = NaN;
    }
    flags[i] = flag;
  }
  const snr = peakFlux.map((p, i) => p / localRms[i]);
  const provenance: Provenance = {
    ...input.provenance,
    noiseEstimator: noise.estimator,
    noiseValue: noise.estimator === 'mad-local-rms' ? noise.globalSigma : noise.sigma,
    extra: {
      ...input.provenance?.extra,
      ...(noise.estimator === 'mad-local-rms' ? { 'deepsource.local_rms_box_px': String(box) } : {}),
    },
  };
  return buildDetectionTable(
    {
      image_id: input.imageId,
      x: blobs.x,
      y: blobs.y,
      ra_deg: ra,
      dec_deg: dec,
      peak_flux: peakFlux,
      local_rms: localRms,
      snr,
      cnn_peak: cnnValue,
      area_px: blobs.area,
      tile_id: tileId,
      flags,
    },
    provenance,
  );
}
