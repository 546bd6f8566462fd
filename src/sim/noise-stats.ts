/**
 * Noise of a simulated image (paper section 2): the standard deviation of the source-free border,
 * i.e. all pixels closer than `border` pixels to an edge. Non-finite pixels are skipped.
 */
export function borderNoiseStd(data: ArrayLike<number>, width: number, height: number, border: number): number {
  let n = 0;
  let sum = 0;
  let sum2 = 0;
  for (let y = 0; y < height; y++) {
    const inBand = y < border || y >= height - border;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!inBand && x >= border && x < width - border) {
        x = width - border - 1;
        continue;
      }
      const v = data[row + x];
      if (v - v !== 0) continue; // NaN or infinite (blank)
      n++;
      sum += v;
      sum2 += v * v;
    }
  }
  if (n < 2) return NaN;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sum2 / n - mean * mean));
}
