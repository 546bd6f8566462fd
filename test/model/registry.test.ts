import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelDir, readModelMetadata, readModelWeights, SHIPPED_MODELS_ROOT } from '../../src/model/registry';
import { saveModelDir } from '../../src/model/save';
import { initialWeights, PARAMETERS, PARAMETER_COUNT } from '../../src/model/network';
import { UserInputError } from '../../src/core/errors';

const info = { name: 'unit', version: 'test', demand: { alpha: 0.75, bn: 0.05, hornRadius: 15, gaussianSigma: 10 } };

describe('model directories', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-model-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('save → load gives back every parameter bit for bit', () => {
    const weights = initialWeights(21);
    saveModelDir(dir, weights, info);
    expect(resolveModelDir(dir)).toBe(dir);
    const meta = readModelMetadata(dir);
    expect(meta.architecture.parameterCount).toBe(PARAMETER_COUNT);
    expect(meta.demand.alpha).toBe(0.75);
    const loaded = readModelWeights(dir);
    for (const p of PARAMETERS) expect(loaded.get(p.name)).toEqual(weights.get(p.name));
    expect(readFileSync(join(dir, 'weights.bin')).length).toBe(4 * PARAMETER_COUNT);
  });

  it('resolves shipped model names under <repo>/models', () => {
    expect(SHIPPED_MODELS_ROOT).toMatch(/[\\/]models$/);
  });

  it('gives clear user errors for missing or corrupt models', () => {
    expect(() => resolveModelDir(join(dir, 'nope'))).toThrow(UserInputError);
    expect(() => resolveModelDir(join(dir, 'nope'))).toThrow(/model ".*nope" not found: no directory/);
    expect(() => resolveModelDir(dir)).toThrow(/has no model\.json/);
    writeFileSync(join(dir, 'model.json'), '{ not json');
    expect(() => resolveModelDir(dir)).toThrow(/model\.json: not valid JSON/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'something-else' }));
    expect(() => resolveModelDir(dir)).toThrow(/not a DeepSource model/);
    saveModelDir(dir, initialWeights(1), info);
    writeFileSync(join(dir, 'weights.bin'), readFileSync(join(dir, 'weights.bin')).subarray(0, 1000));
    expect(() => readModelWeights(dir)).toThrow(/weights\.bin: truncated/);
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    meta.parameters[0].shape = [3, 3, 1, 12];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(meta));
    expect(() => resolveModelDir(dir)).toThrow(/parameter conv1\.w has shape \[3,3,1,12\], expected \[5, 5, 1, 12\]/);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => resolveModelDir(file)).toThrow(/is not a directory/);
    mkdirSync(join(dir, 'empty'));
    expect(() => resolveModelDir('')).toThrow(/--model must be/);
  });

  it('rejects non-finite weights when saving and loading', () => {
    const weights = initialWeights(2);
    weights.get('conv3.b')![4] = NaN;
    expect(() => saveModelDir(dir, weights, info)).toThrow(/conv3\.b has a non-finite value at index 4/);
  });
});
