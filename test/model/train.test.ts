import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainModel } from '../../src/model/train';
import { makeTrainingImage } from '../../src/model/training-data';
import { readModelMetadata } from '../../src/model/registry';
import { syntheticSky } from './synthetic';

const demand = { alpha: 0.75, bn: 0.05 };
const train = [0, 1].map((i) => {
  const { image, sources } = syntheticSky(96, 96, 100 + i, 12);
  return makeTrainingImage(`train_${i}`, image, sources, demand);
});
const val = [(() => {
  const { image, sources } = syntheticSky(96, 96, 200, 12);
  return makeTrainingImage('val_0', image, sources, demand);
})()];

describe('trainModel (wasm backend)', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ds-train-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('lowers the loss in a few steps on 64 px patches', async () => {
    const out = tmp();
    const result = await trainModel(train, val, out, { steps: 30, patch: 64, batch: 4, learningRate: 3e-3, seed: 5, backend: 'wasm', validateEvery: 30, valPatches: 8 });
    expect(result.status).toBe('completed');
    const meta = readModelMetadata(out);
    const history = meta.training!.history as { step: number; valLoss: number }[];
    const initial = meta.training!.initialValLoss as number;
    expect(history[history.length - 1].valLoss).toBeLessThan(0.8 * initial);
  });

  it('is deterministic for a seed, and --resume continues exactly', async () => {
    const options = { steps: 6, patch: 32, batch: 2, seed: 9, backend: 'wasm' as const, validateEvery: 3, valPatches: 4, checkpointEvery: 100 };
    const a = tmp();
    await trainModel(train, val, a, options);
    const b = tmp();
    await trainModel(train, val, b, options);
    const c = tmp();
    let calls = 0;
    const first = await trainModel(train, val, c, options, { shouldStop: () => ++calls >= 3 });
    expect(first.status).toBe('interrupted');
    expect(first.step).toBeLessThan(6);
    await trainModel(train, val, c, { ...options, resume: true });
    const wa = readFileSync(join(a, 'weights.bin'));
    expect(readFileSync(join(b, 'weights.bin')).equals(wa)).toBe(true);
    expect(readFileSync(join(c, 'weights.bin')).equals(wa)).toBe(true);
  });
});
