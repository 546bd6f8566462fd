import * as tf from '@tensorflow/tfjs-core';
import { CONV_LAYERS, FLOPS_PER_PIXEL, PARAMETERS, PARAMETER_COUNT, RECEPTIVE_RADIUS, initialWeights, checkWeights } from '../../src/model/network';
import { forward, toTfParams, disposeTfParams } from '../../src/model/tf-network';
import { useTfBackend } from '../../src/model/tf-backend';

describe('network (paper Fig. 8)', () => {
  it('has five 5x5 convolutions of 12 filters, a shortcut and a per-channel BN, with the hand-counted parameters', () => {
    expect(CONV_LAYERS.map((l) => [l.name, l.inChannels, l.outChannels, l.relu])).toEqual([
      ['conv1', 1, 12, true],
      ['conv2', 12, 12, true],
      ['conv3', 12, 12, true],
      ['conv4', 12, 12, true],
      ['conv5', 12, 1, false],
    ]);
    expect(PARAMETERS.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'conv1.w:5x5x1x12', 'conv1.b:12', 'conv2.w:5x5x12x12', 'conv2.b:12', 'conv3.w:5x5x12x12', 'conv3.b:12',
      'bn.scale:12', 'bn.shift:12', 'conv4.w:5x5x12x12', 'conv4.b:12', 'conv5.w:5x5x12x1', 'conv5.b:1',
    ]);
    // conv1 25·1·12 + 12 = 312; conv2–4 3 × (25·144 + 12) = 10836; BN 24; conv5 25·12 + 1 = 301.
    expect(PARAMETER_COUNT).toBe(312 + 10836 + 24 + 301);
    // 2 × 25 × (12 + 3·144 + 12) multiply-adds per pixel.
    expect(FLOPS_PER_PIXEL).toBe(22800);
    expect(RECEPTIVE_RADIUS).toBe(10);
  });

  it('initial weights are deterministic per seed and valid', () => {
    const a = initialWeights(3);
    const b = initialWeights(3);
    const c = initialWeights(4);
    expect(checkWeights(a)).toBeNull();
    expect(a.get('conv2.w')).toEqual(b.get('conv2.w'));
    expect(a.get('conv2.w')).not.toEqual(c.get('conv2.w'));
    expect(Array.from(a.get('bn.scale')!)).toEqual(new Array(12).fill(1));
  });

  it.each([
    [1, 13, 8],
    [2, 16, 16],
    [1, 1, 7],
  ])('output size equals input size (batch %i, %ix%i)', async (b, h, w) => {
    await useTfBackend('cpu');
    const params = toTfParams(initialWeights(1));
    const y = tf.tidy(() => forward(params, tf.zeros([b, h, w, 1]) as tf.Tensor4D));
    expect(y.shape).toEqual([b, h, w, 1]);
    y.dispose();
    disposeTfParams(params);
  });

  it('an impulse changes the output only within the receptive field (10 px)', async () => {
    await useTfBackend('cpu');
    const params = toTfParams(initialWeights(2));
    const n = 31;
    const impulse = new Float32Array(n * n);
    impulse[15 * n + 15] = 50;
    const out = tf.tidy(() => tf.sub(forward(params, tf.tensor4d(impulse, [1, n, n, 1])), forward(params, tf.zeros([1, n, n, 1]) as tf.Tensor4D)));
    const d = out.dataSync();
    out.dispose();
    disposeTfParams(params);
    let insideChanged = 0;
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const inside = Math.abs(x - 15) <= 10 && Math.abs(y - 15) <= 10;
        if (!inside) expect(d[y * n + x]).toBe(0);
        else if (d[y * n + x] !== 0) insideChanged++;
      }
    expect(insideChanged).toBeGreaterThan(100);
  });
});
