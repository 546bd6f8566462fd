/**
 * Whether a blob pixel lies on the image edge or next to a blank (non-finite) pixel, so that the
 * blob's position may be biased (the catalogue's edge flag). Shared by TBD's blob measurement and
 * the deblender's branches.
 */
export function touchesEdgeOrBlank(data: Float32Array, width: number, height: number, x: number, y: number): boolean {
  if (x === 0 || y === 0 || x === width - 1 || y === height - 1) return true;
  const p = y * width + x;
  return !Number.isFinite(data[p - 1]) || !Number.isFinite(data[p + 1]) || !Number.isFinite(data[p - width]) || !Number.isFinite(data[p + width]);
}
