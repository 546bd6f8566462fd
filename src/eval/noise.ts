/**
 * The noise that turns a detection's pixel value into its SNR during evaluation (paper section 2:
 * "the noise of the image ... is calculated from a source-free region of the image border").
 * Every finder's detections get their SNR from this one number per image, so they are binned on
 * the same scale.
 *
 * Order of preference:
 * 1. simulated images (header BORDERPX): the std of the source-free border of the image itself;
 * 2. a NOISESTD header card (the simulator's noise-only border std, which defines the truth SNR);
 * 3. otherwise the robust MAD sigma of the whole image.
 */
import type { Image } from '../core/image';
import type { FitsHeader } from '../fits/types';
import { borderNoiseStd } from '../detect/local-rms';
import { imageNoiseSigma } from '../detect/detect-image';

export type SnrNoiseSource = 'border-std' | 'header-noisestd' | 'mad-global';

export function snrNoise(image: Image, header: FitsHeader): { sigma: number; source: SnrNoiseSource } {
  const border = header.getNumber('BORDERPX');
  if (border !== undefined && border >= 1) {
    const sigma = borderNoiseStd(image, border);
    if (sigma > 0) return { sigma, source: 'border-std' };
  }
  const noiseStd = header.getNumber('NOISESTD');
  if (noiseStd !== undefined && noiseStd > 0) return { sigma: noiseStd, source: 'header-noisestd' };
  return { sigma: imageNoiseSigma(image), source: 'mad-global' };
}
