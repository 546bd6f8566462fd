import * as tf from '@tensorflow/tfjs-core';
import { useTfBackend } from '../../src/model/tf-backend';
import { conv2dSameForwardGrad, forward, toTfParams, disposeTfParams } from '../../src/model/tf-network';
import { PARAMETERS } from '../../src/model/network';
import { fullScaleWeights } from './synthetic';
import { Random } from '../../src/core/random';

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Random(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.gaussian();
  return a;
}

interface ConvGrads {
  dx: Float32Array;
  dw: Float32Array;
}

/** Gradients of mean(conv(x, w) · r) for a fixed random r, with either conv implementation. */
async function convGrads(backend: 'cpu' | 'wasm', custom: boolean, xs: Float32Array, ws: Float32Array, rs: Float32Array, shape: { b: number; h: number; w: number; cin: number; cout: number }): Promise<ConvGrads> {
  await useTfBackend(backend);
  const { b, h, w, cin, cout } = shape;
  const x = tf.tensor4d(xs, [b, h, w, cin]);
  const k = tf.tensor4d(ws, [5, 5, cin, cout]);
  const r = tf.tensor4d(rs, [b, h, w, cout]);
  const f = (xi: tf.Tensor, ki: tf.Tensor): tf.Scalar => tf.mean(tf.mul(custom ? conv2dSameForwardGrad(xi as tf.Tensor4D, ki as tf.Tensor4D) : tf.conv2d(xi as tf.Tensor4D, ki as tf.Tensor4D, 1, 'same'), r));
  const [dx, dw] = tf.grads(f)([x, k]);
  const out = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([x, k, r, dx, dw]);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

describe('forward-convolution gradients (tf-network.ts)', () => {
  it.each([
    { b: 2, h: 9, w: 12, cin: 3, cout: 4 },
    { b: 1, h: 16, w: 11, cin: 1, cout: 12 },
    { b: 3, h: 8, w: 8, cin: 12, cout: 1 },
  ])('on wasm match the cpu backend Conv2DBackpropInput/Filter kernels (%o)', async (shape) => {
    const { b, h, w, cin, cout } = shape;
    const xs = randomArray(b * h * w * cin, 1);
    const ws = randomArray(25 * cin * cout, 2, 0.2);
    const rs = randomArray(b * h * w * cout, 3);
    const reference = await convGrads('cpu', false, xs, ws, rs, shape);
    const customWasm = await convGrads('wasm', true, xs, ws, rs, shape);
    const customCpu = await convGrads('cpu', true, xs, ws, rs, shape);
    // dx is exact up to summation order; dw sums b·h·w products: float32 rounding ~1e-6 relative.
    for (const got of [customWasm, customCpu]) {
      const dx = maxAbsDiff(got.dx, reference.dx);
      const dw = maxAbsDiff(got.dw, reference.dw);
      expect(dx.scale).toBeGreaterThan(1e-6); // not all zero
      expect(dw.scale).toBeGreaterThan(1e-6);
      expect(dx.diff).toBeLessThan(1e-5 * dx.scale);
      expect(dw.diff).toBeLessThan(1e-5 * dw.scale);
    }
  });

  const b = 1, h = 12, w = 10;
  const xs = randomArray(b * h * w, 4);
  const ys = randomArray(b * h * w, 5, 0.1);
  const weights = fullScaleWeights(11);

  async function networkGrads(backend: 'cpu' | 'wasm', forwardConvGradients: boolean): Promise<Map<string, Float32Array>> {
    await useTfBackend(backend);
    const params = toTfParams(weights, true);
    const varList = PARAMETERS.map((p) => params.get(p.name) as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(forward(params, tf.tensor4d(xs, [b, h, w, 1]), { forwardConvGradients }), tf.tensor4d(ys, [b, h, w, 1]))) as tf.Scalar, varList);
    const out = new Map<string, Float32Array>();
    for (const p of PARAMETERS) out.set(p.name, grads[(params.get(p.name) as tf.Variable).name].dataSync() as Float32Array);
    tf.dispose(Object.values(grads));
    disposeTfParams(params);
    return out;
  }

  it('the whole-network gradient on wasm (forward-conv gradients) equals the cpu backend (backprop kernels)', async () => {
    const reference = await networkGrads('cpu', false);
    const custom = await networkGrads('wasm', true);
    for (const p of PARAMETERS) {
      const { diff, scale } = maxAbsDiff(custom.get(p.name)!, reference.get(p.name)!);
      expect(scale).toBeGreaterThan(0);
      expect(diff).toBeLessThan(1e-4 * scale);
    }
  });

  it('the whole-network gradient matches finite differences where the loss is locally smooth', async () => {
    // ReLU networks are piecewise smooth: where the forward and backward one-sided differences
    // disagree, a ReLU kink lies within eps and the central difference means nothing; those
    // entries are skipped (and counted). Float32 forward passes limit eps to ~1e-3.
    const analytic = await networkGrads('wasm', true);
    await useTfBackend('cpu');
    const lossAt = (wts: typeof weights): number => {
      const params = toTfParams(wts);
      const v = tf.tidy(() => tf.mean(tf.squaredDifference(forward(params, tf.tensor4d(xs, [b, h, w, 1]), { forwardConvGradients: false }), tf.tensor4d(ys, [b, h, w, 1]))).dataSync()[0]);
      disposeTfParams(params);
      return v;
    };
    const base = lossAt(weights);
    const rng = new Random(12);
    let checked = 0;
    let attempted = 0;
    for (const p of PARAMETERS) {
      const g = analytic.get(p.name)!;
      let imax = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[imax])) imax = i;
      for (const i of [imax, rng.int(g.length), rng.int(g.length)]) {
        const eps = 1e-3;
        const shifted = (delta: number): number => {
          const copy = new Map(weights);
          const values = weights.get(p.name)!.slice();
          values[i] += delta;
          copy.set(p.name, values);
          return lossAt(copy);
        };
        const up = (shifted(eps) - base) / eps;
        const down = (base - shifted(-eps)) / eps;
        const central = (up + down) / 2;
        if (Math.abs(central) < 1e-3 && Math.abs(g[i]) < 1e-3) continue; // below float32 resolution
        attempted++;
        if (Math.abs(up - down) > 0.01 * Math.abs(central) + 2e-4) continue; // a kink within eps
        expect(Math.abs(g[i] - central)).toBeLessThan(0.01 * Math.abs(central) + 2e-4);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(Math.ceil(0.7 * attempted));
    expect(checked).toBeGreaterThanOrEqual(PARAMETERS.length);
  });
});
