import { borderNoiseStd } from '../../src/sim/noise-stats';

describe('borderNoiseStd', () => {
  it('uses exactly the pixels within `border` of an edge, ignoring blanks', () => {
    // 5 x 4 image, border 1: the 3 x 2 interior (value 100) must not count.
    const w = 5;
    const h = 4;
    const data = new Float64Array(w * h).fill(0);
    for (let y = 1; y < 3; y++) for (let x = 1; x < 4; x++) data[y * w + x] = 100;
    // Border: 14 pixels; make them alternate 1, -1 except one NaN.
    const border: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x === 0 || y === 0 || x === w - 1 || y === h - 1) border.push(y * w + x);
    border.forEach((i, k) => (data[i] = k % 2 === 0 ? 1 : -1));
    data[border[13]] = NaN; // one -1 becomes blank: 7 x (+1), 6 x (-1)
    const mean = 1 / 13;
    const expected = Math.sqrt((7 * (1 - mean) ** 2 + 6 * (-1 - mean) ** 2) / 13);
    expect(borderNoiseStd(data, w, h, 1)).toBeCloseTo(expected, 14);
  });

  it('is NaN when fewer than two border pixels are finite', () => {
    expect(borderNoiseStd(Float64Array.of(NaN, NaN, NaN, NaN), 2, 2, 1)).toBeNaN();
  });
});
