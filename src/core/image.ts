/**
 * The one image type every kernel takes and returns (STYLE.md habit 1).
 * Row-major, x along NAXIS1 (fastest), y along NAXIS2; pixel (x, y) is data[y * width + x].
 * NaN marks blank pixels.
 */
export interface Image {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Same layout in double precision, for numerics that need it (FFT, CLEAN). */
export interface Image64 {
  readonly data: Float64Array;
  readonly width: number;
  readonly height: number;
}

export function createImage(width: number, height: number, fill = 0): Image {
  const data = new Float32Array(width * height);
  if (fill !== 0) data.fill(fill);
  return { data, width, height };
}

/** Copies rows [y0, y1) and columns [x0, x1) into a new image. */
export function cropImage(image: Image, x0: number, y0: number, x1: number, y1: number): Image {
  const width = x1 - x0;
  const height = y1 - y0;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const src = (y + y0) * image.width + x0;
    out.set(image.data.subarray(src, src + width), y * width);
  }
  return { data: out, width, height };
}
