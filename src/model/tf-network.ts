/**
 * The network of network.ts as TF.js operations (NHWC), with convolution gradients written as
 * forward convolutions for the wasm backend (issue 3, "CPU training").
 *
 * Why custom gradients: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (training fails out of
 * the box) and its Conv2DBackpropInput runs at ~0.4 GFLOP/s, whereas its forward Conv2D (XNNPACK)
 * runs at ~20 GFLOP/s on one core. Both gradients of y = conv_same(x, w), 5×5, stride 1, are
 * forward convolutions:
 *   - input gradient:  dx = conv_same(dy, w'), with w'[i, j, o, c] = w[4 − i, 4 − j, c, o]
 *     (kernel flipped in space, in/out channels swapped); exact.
 *   - filter gradient: dw[i, j, c, o] = Σ_{b,y,x} xpad[b, y + i, x + j, c] · dy[b, y, x, o], i.e. a
 *     'valid' convolution of xpad with channels and batch swapped ([C, H+4, W+4, B]) by dy as the
 *     filter ([H, W, B, O]), giving [C, 5, 5, O]; equal within float32 rounding (summation order).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureTrainingGradients } from './tf-gradients';
import { CONV_LAYERS, KERNEL_SIZE, PARAMETERS, type NetworkWeights } from './network';

const PAD = (KERNEL_SIZE - 1) / 2;

ensureTrainingGradients();

function convSameForwardGradImpl(x: tf.Tensor4D, w: tf.Tensor4D, save: tf.GradSaveFunc): { value: tf.Tensor4D; gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.Tensor[] } {
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, 'same'),
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const wFlipped = tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      const dx = tf.conv2d(dy, wFlipped, 1, 'same');
      const xPadded = tf.pad(xs, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]]);
      const xT = tf.transpose(xPadded, [3, 1, 2, 0]) as tf.Tensor4D; // [C, H+4, W+4, B]
      const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, B, O]
      const dwT = tf.conv2d(xT, dyT, 1, 'valid'); // [C, 5, 5, O]
      const dw = tf.transpose(dwT, [1, 2, 0, 3]); // [5, 5, C, O]
      return [dx, dw];
    },
  };
}

/** 'same' 5×5 convolution whose gradients are forward convolutions (see the file comment). */
export const conv2dSameForwardGrad = tf.customGrad(convSameForwardGradImpl as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/** Named TF.js tensors (or variables) for every parameter of network.ts. */
export type TfParams = Map<string, tf.Tensor>;

export interface ForwardOptions {
  /** Use conv2dSameForwardGrad (needed to train on wasm). Default: true on the wasm backend. */
  forwardConvGradients?: boolean;
}

/**
 * Forward pass, x: [B, H, W, 1] normalised images → [B, H, W, 1]. Call inside tf.tidy (or a
 * gradient function) so intermediates are freed.
 */
export function forward(params: TfParams, x: tf.Tensor4D, options: ForwardOptions = {}): tf.Tensor4D {
  const customGrad = options.forwardConvGradients ?? tf.getBackend() === 'wasm';
  const conv = (name: string, input: tf.Tensor4D, relu: boolean): tf.Tensor4D => {
    const w = params.get(`${name}.w`) as tf.Tensor4D;
    const b = params.get(`${name}.b`) as tf.Tensor1D;
    const y = tf.add(customGrad ? conv2dSameForwardGrad(input, w) : tf.conv2d(input, w, 1, 'same'), b) as tf.Tensor4D;
    return relu ? tf.relu(y) : y;
  };
  const [l1, l2, l3, l4, l5] = CONV_LAYERS;
  const c1 = conv(l1.name, x, l1.relu);
  const c2 = conv(l2.name, c1, l2.relu);
  const c3 = conv(l3.name, c2, l3.relu);
  const shortcut = tf.add(c3, c1);
  // Batch normalisation in inference mode, as in the authors' code: a per-channel scale and shift.
  const bn = tf.add(tf.mul(shortcut, params.get('bn.scale')!), params.get('bn.shift')!) as tf.Tensor4D;
  const c4 = conv(l4.name, bn, l4.relu);
  return conv(l5.name, c4, l5.relu);
}

let variableCounter = 0;

/** Creates TF.js tensors for plain weights (trainable variables when `trainable`). */
export function toTfParams(weights: NetworkWeights, trainable = false): TfParams {
  const params: TfParams = new Map();
  for (const p of PARAMETERS) {
    const t = tf.tensor(weights.get(p.name)!, [...p.shape], 'float32');
    params.set(p.name, trainable ? tf.variable(t, true, `${p.name.replace('.', '_')}_${++variableCounter}`) : t);
    if (trainable) t.dispose();
  }
  return params;
}

/** Reads TF.js parameters back into plain weights. */
export async function fromTfParams(params: TfParams): Promise<NetworkWeights> {
  const weights: NetworkWeights = new Map();
  for (const p of PARAMETERS) weights.set(p.name, (await params.get(p.name)!.data()) as Float32Array);
  return weights;
}

export function disposeTfParams(params: TfParams): void {
  for (const t of params.values()) t.dispose();
}
