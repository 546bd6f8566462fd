/**
 * Gradient definitions for the few TF.js kernels the training loss uses.
 *
 * Why this file exists: the CommonJS build of @tensorflow/tfjs-core registers no gradients (the
 * union package @tensorflow/tfjs does it from ES-module files that neither jest nor every Node 20
 * can require). We register, only where none is registered yet, the gradients of exactly the
 * kernels in tf-network.ts's forward pass and the squared-error loss:
 *   Add, Multiply (with broadcasting), Relu, SquaredDifference, Mean, and Conv2D.
 * Conv2D's gradient here uses the backend's Conv2DBackpropInput/Filter kernels (fine on cpu and
 * tfjs-node); on wasm, training uses tf-network.ts's forward-convolution gradients instead.
 * Each rule is checked against finite differences in test/model/gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Sums `dy` over the axes that were broadcast to reach dy's shape, then reshapes to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  if (dy.shape.join(',') === shape.join(',')) return dy;
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  const summed = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(summed, shape);
}

const gradients: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => unbroadcast(dy as tf.Tensor, b.shape) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => unbroadcast(tf.mul(dy as tf.Tensor, b), a.shape), b: () => unbroadcast(tf.mul(dy as tf.Tensor, a), b.shape) };
    },
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => tf.mul(dy as tf.Tensor, tf.cast(tf.greater(x, 0), 'float32')) };
    },
  },
  {
    kernelName: tf.SquaredDifference,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const twice = (): tf.Tensor => tf.mul(dy as tf.Tensor, tf.mul(tf.sub(a, b), 2));
      return { a: () => unbroadcast(twice(), a.shape), b: () => unbroadcast(tf.neg(twice()), b.shape) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axisAttr = (attrs as { axis: number | number[] }).axis;
      const axes = tf.util.parseAxisParam(axisAttr, x.shape);
      const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const count = axes.reduce((n, i) => n * x.shape[i], 1);
      return { x: () => tf.div(tf.mul(tf.ones(x.shape), tf.reshape(dy as tf.Tensor, keptShape)), count) };
    },
  },
  {
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const { strides, pad, dataFormat, dimRoundingMode } = attrs as { strides: [number, number] | number; pad: 'same' | 'valid'; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      return {
        x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy as tf.Tensor, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dy as tf.Tensor }, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  },
];

let registered = false;

/** Registers the gradients above for kernels that have none yet. Idempotent. */
export function ensureTrainingGradients(): void {
  if (registered) return;
  for (const g of gradients) if (tf.getGradient(g.kernelName) == null) tf.registerGradient(g);
  registered = true;
}
