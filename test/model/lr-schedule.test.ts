import { learningRateAt, resolveTrainOptions } from '../../src/model/train';
import { UserInputError } from '../../src/core/errors';

describe('learning-rate schedule', () => {
  test('constant: the same rate at every step', () => {
    const o = resolveTrainOptions({ steps: 10, learningRate: 0.002 });
    expect(o.lrSchedule).toBe('constant');
    expect([1, 5, 10].map((t) => learningRateAt(o, t))).toEqual([0.002, 0.002, 0.002]);
  });

  test('cosine: lr at the first step, the midpoint halfway, lr-min at the last step', () => {
    const o = resolveTrainOptions({ steps: 101, learningRate: 1e-3, learningRateMin: 1e-5, lrSchedule: 'cosine' });
    expect(learningRateAt(o, 1)).toBeCloseTo(1e-3, 15);
    // Step 51 of 101 is progress 0.5: cos(pi/2) = 0, so the mean of the two ends.
    expect(learningRateAt(o, 51)).toBeCloseTo((1e-3 + 1e-5) / 2, 15);
    expect(learningRateAt(o, 101)).toBeCloseTo(1e-5, 15);
    // Monotone decreasing.
    for (let t = 2; t <= 101; t++) expect(learningRateAt(o, t)).toBeLessThan(learningRateAt(o, t - 1));
  });

  test('bad schedule options are user errors naming the option', () => {
    expect(() => resolveTrainOptions({ lrSchedule: 'step' as never })).toThrow(UserInputError);
    expect(() => resolveTrainOptions({ lrSchedule: 'step' as never })).toThrow(/--lr-schedule/);
    expect(() => resolveTrainOptions({ learningRate: 1e-3, learningRateMin: 1e-2 })).toThrow(/--lr-min/);
  });
});
