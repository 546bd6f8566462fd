/**
 * Exports trained weights as an ONNX graph for onnxruntime (issue 3: CPU inference).
 *
 * The graph is the network of network.ts in NCHW layout, built as a ModelProto with onnx-proto
 * (no hand-encoded bytes): Conv (pads 2, i.e. 'same' for 5×5) → Relu, three times; Add (shortcut
 * conv1 + conv3); Mul and Add with [1, 12, 1, 1] tensors (batch normalisation in inference mode =
 * per-channel scale and shift, see network.ts); Conv → Relu; Conv. Height and width are symbolic,
 * so one file serves every tile size.
 *
 * TF.js kernels are HWIO; ONNX wants OIHW. Both frameworks compute cross-correlation, so no flip.
 */
import { onnx } from 'onnx-proto';
import { CONV_LAYERS, FILTERS, KERNEL_SIZE, type NetworkWeights, checkWeights } from './network';

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';
const OPSET = 13;

/** HWIO [k, k, in, out] → OIHW [out, in, k, k]. */
export function hwioToOihw(w: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < k; ky++)
    for (let kx = 0; kx < k; kx++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * k + ky) * k + kx] = w[((ky * k + kx) * cin + i) * cout + o];
  return out;
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const copy = new Float32Array(values); // own, aligned buffer
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(copy.buffer) };
}

function intsAttr(name: string, ints: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

function imageValueInfo(name: string, channels: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: channels }, { dimParam: 'H' }, { dimParam: 'W' }] },
      },
    },
  };
}

/** Serialises the network with `weights` as ONNX bytes. */
export function exportOnnx(weights: NetworkWeights, docString = 'DeepSource CNN (Vafaei Sadr et al. 2018, Fig. 8)'): Uint8Array {
  const problem = checkWeights(weights);
  if (problem) throw new Error(`cannot export to ONNX: ${problem}`);
  const initializer: onnx.ITensorProto[] = [];
  const node: onnx.INodeProto[] = [];
  const pad = (KERNEL_SIZE - 1) / 2;

  const conv = (layerIndex: number, input: string): string => {
    const layer = CONV_LAYERS[layerIndex];
    const w = weights.get(`${layer.name}.w`)!;
    const b = weights.get(`${layer.name}.b`)!;
    initializer.push(floatTensor(`${layer.name}.w`, [layer.outChannels, layer.inChannels, KERNEL_SIZE, KERNEL_SIZE], hwioToOihw(w, KERNEL_SIZE, layer.inChannels, layer.outChannels)));
    initializer.push(floatTensor(`${layer.name}.b`, [layer.outChannels], b));
    const convOut = layer.relu ? `${layer.name}.pre` : layer.name;
    node.push({
      opType: 'Conv',
      name: layer.name,
      input: [input, `${layer.name}.w`, `${layer.name}.b`],
      output: [convOut],
      attribute: [intsAttr('kernel_shape', [KERNEL_SIZE, KERNEL_SIZE]), intsAttr('pads', [pad, pad, pad, pad]), intsAttr('strides', [1, 1]), intsAttr('dilations', [1, 1])],
    });
    if (!layer.relu) return convOut;
    node.push({ opType: 'Relu', name: `${layer.name}.relu`, input: [convOut], output: [layer.name] });
    return layer.name;
  };

  const c1 = conv(0, ONNX_INPUT);
  const c2 = conv(1, c1);
  const c3 = conv(2, c2);
  node.push({ opType: 'Add', name: 'shortcut', input: [c3, c1], output: ['shortcut'] });
  initializer.push(floatTensor('bn.scale', [1, FILTERS, 1, 1], weights.get('bn.scale')!));
  initializer.push(floatTensor('bn.shift', [1, FILTERS, 1, 1], weights.get('bn.shift')!));
  node.push({ opType: 'Mul', name: 'bn.mul', input: ['shortcut', 'bn.scale'], output: ['bn.scaled'] });
  node.push({ opType: 'Add', name: 'bn.add', input: ['bn.scaled', 'bn.shift'], output: ['bn'] });
  const c4 = conv(3, 'bn');
  const c5 = conv(4, c4);
  node.push({ opType: 'Identity', name: 'output', input: [c5], output: [ONNX_OUTPUT] });

  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'deepsource-ts',
    producerVersion: '1',
    docString,
    graph: {
      name: 'deepsource',
      node,
      initializer,
      input: [imageValueInfo(ONNX_INPUT, 1)],
      output: [imageValueInfo(ONNX_OUTPUT, 1)],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
