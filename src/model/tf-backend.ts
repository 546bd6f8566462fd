/**
 * Picks the TF.js backend (issue 3: "TF.js to train"). Preference order for 'auto':
 *   1. @tensorflow/tfjs-node-gpu  (CUDA; optional dependency, its install needs a download these
 *      machines cannot reach, so it is normally absent here)
 *   2. @tensorflow/tfjs-node      (native libtensorflow on CPU; same caveat)
 *   3. wasm (XNNPACK, SIMD)       — the CPU path on these machines; needs the forward-convolution
 *                                   gradients of tf-network.ts to train
 *   4. cpu (plain JS)             — slow fallback, and the reference in gradient tests
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { UserInputError } from '../core/errors';

export type TfBackendPreference = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const TF_BACKEND_PREFERENCES: readonly TfBackendPreference[] = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'];

function tryRequire(name: string): boolean {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

/** Activates a backend and returns its runtime name ('tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'). */
export async function useTfBackend(preference: TfBackendPreference = 'auto'): Promise<string> {
  if (!TF_BACKEND_PREFERENCES.includes(preference)) throw new UserInputError(`TF.js backend must be one of ${TF_BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(preference)}`);
  const attempts: [TfBackendPreference, string, () => boolean, string][] = [
    ['node-gpu', 'tensorflow', () => tryRequire('@tensorflow/tfjs-node-gpu'), 'tfjs-node-gpu'],
    ['node', 'tensorflow', () => tryRequire('@tensorflow/tfjs-node'), 'tfjs-node'],
    ['wasm', 'wasm', () => true, 'tfjs-wasm'],
    ['cpu', 'cpu', () => true, 'tfjs-cpu'],
  ];
  for (const [pref, backend, load, label] of attempts) {
    if (preference !== 'auto' && preference !== pref) continue;
    if (!load()) {
      if (preference !== 'auto') throw new UserInputError(`TF.js backend ${preference}: package @tensorflow/tfjs-${pref} is not installed`);
      continue;
    }
    if (tf.getBackend() === backend) return label;
    try {
      if (await tf.setBackend(backend)) {
        await tf.ready();
        return label;
      }
    } catch {
      /* try the next one */
    }
    if (preference !== 'auto') throw new UserInputError(`TF.js backend ${preference} failed to initialise`);
  }
  throw new Error('no TF.js backend could be initialised');
}

/** The runtime name of the active backend. */
export function activeTfBackendName(): string {
  const b = tf.getBackend();
  if (b === 'tensorflow') return tryRequire('@tensorflow/tfjs-node-gpu') ? 'tfjs-node-gpu' : 'tfjs-node';
  return `tfjs-${b}`;
}
