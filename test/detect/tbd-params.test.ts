import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/core/errors';
import { parseTbdParams, readTunedTbdParams, writeTunedTbdParams, TBD_PARAMS_FILE } from '../../src/detect/tbd-params';

describe('tuned TBD parameters (MODEL_DIR/tbd.json)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ds-tbdjson-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('absent file: undefined (detect falls back to the paper defaults)', () => {
    expect(readTunedTbdParams(dir)).toBeUndefined();
  });

  test('write then read round trip keeps the parameters and the extra fields', async () => {
    await writeTunedTbdParams(dir, { deltaMax: 35, aMin: 4, centre: 'centroid' }, { pc3: 0.61 });
    expect(readTunedTbdParams(dir)).toMatchObject({ deltaMax: 35, aMin: 4, centre: 'centroid', stopRule: 'closest' });
    expect(JSON.parse(readFileSync(join(dir, TBD_PARAMS_FILE), 'utf8')).pc3).toBe(0.61);
  });

  test('snake_case keys are accepted and unknown keys ignored', () => {
    expect(parseTbdParams('{"delta_max": 7, "a_min": 2, "stop_rule": "first-exceed", "note": "x"}', 'f')).toEqual({
      deltaMax: 7,
      aMin: 2,
      stopRule: 'first-exceed',
    });
  });

  test('bad files name the file and the problem', () => {
    writeFileSync(join(dir, TBD_PARAMS_FILE), '{"deltaMax": "many"}');
    expect(() => readTunedTbdParams(dir)).toThrow(FormatError);
    expect(() => readTunedTbdParams(dir)).toThrow(/tbd\.json: TBD deltaMax must be a finite number, got many/);
    expect(() => parseTbdParams('[1]', 'x.json')).toThrow(/x\.json: expected a JSON object/);
    expect(() => parseTbdParams('{', 'x.json')).toThrow(/x\.json: not valid JSON/);
  });
});
