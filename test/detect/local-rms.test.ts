import type { Image } from '../../src/core/image';
import { borderNoiseStd, localMadRms } from '../../src/detect/local-rms';
import { MAD_TO_SIGMA } from '../../src/core/stats';

describe('localMadRms', () => {
  // 5×5 image with values 0..24 in raster order.
  const ramp: Image = { data: Float32Array.from({ length: 25 }, (_, i) => i), width: 5, height: 5 };

  test('MAD of the box around the rounded position, clipped to the image', () => {
    // box 3 at (2, 2): values 6,7,8,11,12,13,16,17,18 → median 12, |dev| = 6,5,4,1,0,1,4,5,6 → MAD 4
    expect(localMadRms(ramp, 2.2, 1.6, 3, 1)).toBeCloseTo(MAD_TO_SIGMA * 4, 12);
    // box 3 at the corner (0, 0) keeps only 0,1,5,6 → median 3, |dev| 3,2,2,3 → MAD 2.5
    expect(localMadRms(ramp, 0, 0, 3, 1)).toBeCloseTo(MAD_TO_SIGMA * 2.5, 12);
  });

  test('blank pixels are ignored and too few finite pixels give NaN', () => {
    const data = Float32Array.from({ length: 25 }, (_, i) => i);
    data[12] = NaN;
    const image = { data, width: 5, height: 5 };
    // 6,7,8,11,13,16,17,18 → median 12.5, |dev| 6.5,5.5,4.5,1.5,0.5,3.5,4.5,5.5 → MAD 4.5
    expect(localMadRms(image, 2, 2, 3, 1)).toBeCloseTo(MAD_TO_SIGMA * 4.5, 12);
    expect(localMadRms(image, 2, 2, 3, 9)).toBeNaN();
  });

  test('does not modify the image', () => {
    const before = ramp.data.slice();
    localMadRms(ramp, 2, 2, 5, 1);
    expect(ramp.data).toEqual(before);
  });
});

describe('borderNoiseStd', () => {
  test('population std of the pixels within the border only', () => {
    // 4×4 with border 1: the 12 edge pixels are ±1 alternating, the 4 inner ones are huge
    const data = new Float32Array(16).fill(1000);
    const edge = [0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 14, 15];
    edge.forEach((p, i) => (data[p] = i % 2 === 0 ? 1 : -1));
    expect(borderNoiseStd({ data, width: 4, height: 4 }, 1)).toBeCloseTo(1, 12);
  });
});
