/**
 * Writes a model directory (layout in registry.ts): model.json, weights.bin and model.onnx, each
 * to a temporary name first and then renamed, so a reader never sees a half-written file.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportOnnx } from './onnx-export';
import { KERNEL_SIZE, FILTERS, PARAMETER_COUNT, RECEPTIVE_RADIUS, type NetworkWeights } from './network';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, MODEL_JSON, MODEL_ONNX, WEIGHTS_BIN, packWeights, type ModelMetadata } from './registry';
import { SOFTENING, DEMAND_SATURATION_SNR } from './normalise';

export interface SaveModelInfo {
  name: string;
  version: string;
  demand: ModelMetadata['demand'];
  training?: Record<string, unknown>;
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function saveModelDir(dir: string, weights: NetworkWeights, info: SaveModelInfo): ModelMetadata {
  mkdirSync(dir, { recursive: true });
  const { bytes, parameters } = packWeights(weights);
  const meta: ModelMetadata = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    name: info.name,
    version: info.version,
    architecture: { name: 'deepsource-fig8', kernel: KERNEL_SIZE, filters: FILTERS, parameterCount: PARAMETER_COUNT, receptiveRadius: RECEPTIVE_RADIUS },
    parameters,
    demand: info.demand,
    normalisation: { method: 'asinh-mad', softening: SOFTENING, demandSaturationSnr: DEMAND_SATURATION_SNR },
    ...(info.training ? { training: info.training } : {}),
  };
  // weights first, metadata last: model.json appearing means the rest is in place.
  writeAtomic(join(dir, WEIGHTS_BIN), bytes);
  writeAtomic(join(dir, MODEL_ONNX), exportOnnx(weights, `DeepSource CNN '${info.name}' ${info.version}`));
  writeAtomic(join(dir, MODEL_JSON), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}
