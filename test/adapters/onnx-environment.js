/**
 * Jest environment for tests that call onnxruntime-node in the test's own thread.
 * onnxruntime's native binding creates its output typed arrays in Node's main realm, while jest
 * runs each test file in a separate vm context with its own Float32Array; onnxruntime-common's
 * `instanceof Float32Array` check then fails ("A float32 tensor's data must be type of ...").
 * Sharing the main realm's typed-array constructors fixes it. Worker threads (piscina) are not
 * affected, only in-test calls. Use with a docblock: @jest-environment ./test/adapters/onnx-environment.js
 */
const { TestEnvironment } = require('jest-environment-node');

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer', 'Uint8ClampedArray']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxEnvironment;
