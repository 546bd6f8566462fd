import { snrNoise } from '../../src/eval/noise';
import { headerFromCards } from '../../src/fits/header';

// 10x10 image: border (2 px) alternates +-1 (std 1), core holds 100 (a "source" that must not count).
const size = 10;
const data = new Float32Array(size * size);
for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
  const border = x < 2 || y < 2 || x >= size - 2 || y >= size - 2;
  data[y * size + x] = border ? ((x + y) % 2 === 0 ? 1 : -1) : 100;
}
const image = { data, width: size, height: size };

describe('snrNoise', () => {
  test('simulated image: std of the BORDERPX border', () => {
    const r = snrNoise(image, headerFromCards([{ key: 'BORDERPX', value: 2 }, { key: 'NOISESTD', value: 5 }]));
    expect(r.source).toBe('border-std');
    expect(r.sigma).toBeCloseTo(1, 6);
  });

  test('NOISESTD without BORDERPX', () => {
    expect(snrNoise(image, headerFromCards([{ key: 'NOISESTD', value: 5 }]))).toEqual({ sigma: 5, source: 'header-noisestd' });
  });

  test('otherwise a robust whole-image sigma', () => {
    const r = snrNoise(image, headerFromCards([]));
    expect(r.source).toBe('mad-global');
    expect(Number.isFinite(r.sigma)).toBe(true);
  });
});
