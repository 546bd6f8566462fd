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
  const { image, cnn, blobs, noise } = input;
  if (cnn.width !== image.width || cnn.height !== image.height) {
    throw new UserInputError(`CNN map is ${cnn.width}×${cnn.height} but image ${input.imageId} is ${image.width}×${image.height}`);
  }
  if (noise.estimator === 'mad-local-rms') {
    if (!(noise.globalSigma > 0)) throw new UserInputError(`global noise sigma must be > 0, got ${noise.globalSigma}`);
  } else if (!(noise.sigma > 0)) {
    throw new UserInputError(`${noise.estimator} noise sigma must be > 0, got ${noise.sigma}`);
  }
  const n = blobs.count;
  const { width, height } = image;
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  const peakFlux = new Float64Array(n);
  const localRms = new Float64Array(n);
  const cnnValue = new Float32Array(n);
  const tileId = new Int32Array(n).fill(-1);
  const flags = new Int32Array(n);
  const box = noise.estimator === 'mad-local-rms' ? (noise.boxPx ?? DEFAULT_LOCAL_RMS_BOX) : 0;
  const scratch = box > 0 ? new Float64Array(box * box) : undefined;

  for (let i = 0; i < n; i++) {
    const x = blobs.x[i];
    const y = blobs.y[i];
    // "The image pixel value at a position" (CONTRACT.md, SNR): the nearest pixel.
    const px = Math.round(x);
    const py = Math.round(y);
    let flag = blobs.touchesEdge[i] ? DETECTION_FLAGS.EDGE : 0;
    if (px < 0 || py < 0 || px >= width || py >= height) {
      flag |= DETECTION_FLAGS.CENTRE_OUTSIDE;
      peakFlux[i] = NaN;
      cnnValue[i] = NaN;
    } else {
      peakFlux[i] = image.data[py * width + px];
      cnnValue[i] = cnn.data[py * width + px];
      if (!Number.isFinite(peakFlux[i])) flag |= DETECTION_FLAGS.BAD_PIXEL;
      if (input.tileOf) tileId[i] = input.tileOf(px, py);
    }
    if (noise.estimator === 'mad-local-rms') {
      const rms = localMadRms(image, x, y, box, Math.min(MIN_LOCAL_RMS_PIXELS, box * box), scratch);
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
