/**
 * Robust statistics over pixel arrays. NaN pixels (blanks) are always ignored.
 */

/** Scale factor turning a median absolute deviation into a Gaussian sigma. */
export const MAD_TO_SIGMA = 1.482602218505602;

/** Finite values of `data` (optionally every `stride`-th one), as a new Float64Array. */
export function finiteValues(data: ArrayLike<number>, stride = 1): Float64Array {
  let n = 0;
  for (let i = 0; i < data.length; i += stride) if (Number.isFinite(data[i])) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (Number.isFinite(v)) out[j++] = v;
  }
  return out;
}

/** Median of finite values; NaN if there are none. Does not modify `data`. */
export function median(data: ArrayLike<number>): number {
  const values = finiteValues(data);
  if (values.length === 0) return NaN;
  return medianInPlace(values);
}

/** Median of a Float64Array that the caller lets us reorder (quickselect). */
export function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  const upper = quickselect(values, mid);
  if (n % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (values[i] > lower) lower = values[i];
  return (lower + upper) / 2;
}

/** k-th smallest element (0-based); reorders `values`. */
export function quickselect(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

/** Robust sigma: 1.4826 × median(|x − median(x)|). NaN if no finite values. */
export function madSigma(data: ArrayLike<number>, stride = 1): number {
  const values = finiteValues(data, stride);
  if (values.length === 0) return NaN;
  const med = medianInPlace(values.slice());
  for (let i = 0; i < values.length; i++) values[i] = Math.abs(values[i] - med);
  return MAD_TO_SIGMA * medianInPlace(values);
}

/** Mean and (population) standard deviation of finite values. */
export function meanStd(data: ArrayLike<number>): { mean: number; std: number; count: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v)) {
      n++;
      sum += v;
    }
  }
  if (n === 0) return { mean: NaN, std: NaN, count: 0 };
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v)) ss += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(ss / n), count: n };
}
