/**
 * Tuned TBD parameters stored in a model directory (MODEL_DIR/tbd.json), written by
 * `deepsource tune` (paper section 4.3: Δmax, Amin and the centre definition are hyper-parameters
 * chosen by maximising PC3 on a validation set) and read by `detect`, which uses them instead of the
 * paper's defaults unless the user overrides them on the command line.
 *
 * File format (JSON object; unknown fields are kept for humans and ignored here):
 *   { "deltaMax": 100, "aMin": 10, "centre": "mean", "stopRule": "closest",
 *     "levelsPerDecade": 20, "decades": 4, "connectivity": 8, ...anything else (pc3, tunedOn...) }
 * snake_case spellings (delta_max, a_min, stop_rule, levels_per_decade) are accepted too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UserInputError } from '../core/errors';
import { writeFileAtomic } from '../fits/write';
import { resolveTbdOptions, type TbdOptions } from './tbd';

export const TBD_PARAMS_FILE = 'tbd.json';

const FIELDS: Record<string, keyof TbdOptions> = {
  deltaMax: 'deltaMax',
  delta_max: 'deltaMax',
  aMin: 'aMin',
  a_min: 'aMin',
  centre: 'centre',
  center: 'centre',
  stopRule: 'stopRule',
  stop_rule: 'stopRule',
  levelsPerDecade: 'levelsPerDecade',
  levels_per_decade: 'levelsPerDecade',
  decades: 'decades',
  floor: 'floor',
  connectivity: 'connectivity',
};

/** Parses the JSON text of a tbd.json; `where` names the file in errors. */
export function parseTbdParams(text: string, where: string): TbdOptions {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError(`${where}: expected a JSON object of TBD parameters`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = FIELDS[key];
    if (field !== undefined) out[field] = value;
  }
  try {
    resolveTbdOptions(out as TbdOptions);
  } catch (err) {
    if (err instanceof UserInputError) throw new FormatError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
  return out as TbdOptions;
}

/** The tuned parameters of a model directory, or undefined when it has no tbd.json. */
export function readTunedTbdParams(modelDir: string): TbdOptions | undefined {
  const path = join(modelDir, TBD_PARAMS_FILE);
  if (!existsSync(path)) return undefined;
  return parseTbdParams(readFileSync(path, 'utf8'), path);
}

/** Writes MODEL_DIR/tbd.json atomically; `extra` (e.g. {pc3, tunedOn}) is stored alongside. */
export async function writeTunedTbdParams(modelDir: string, params: TbdOptions, extra: Record<string, unknown> = {}): Promise<string> {
  const resolved = resolveTbdOptions(params);
  const path = join(modelDir, TBD_PARAMS_FILE);
  const body = { ...extra, ...resolved };
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'));
  return path;
}
