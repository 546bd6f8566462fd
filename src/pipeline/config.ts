/**
 * Pipeline configuration (pipelines/NAME.yaml). Every field is checked once here, errors name the
 * file and the field. Secrets never live in the file: it names environment variables
 * (`passwordEnv`, `accessKeyIdEnv`...) or leaves S3 credentials to the standard AWS chain.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserInputError } from '../core/errors';
import { DEFAULT_TBD_OPTIONS, resolveTbdOptions, type TbdOptions } from '../detect/tbd';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './context';
import type { PipelineNoise } from './assemble';

export interface PipelineConfig {
  name: string;
  runId: string;
  storage:
    | { kind: 'local'; root: string }
    | { kind: 's3'; endpoint?: string; region?: string; forcePathStyle?: boolean; accessKeyIdEnv?: string; secretAccessKeyEnv?: string };
  queue:
    | { kind: 'memory'; topicPrefix: string; groupPrefix: string }
    | {
        kind: 'kafka';
        brokers: string[];
        topicPrefix: string;
        groupPrefix: string;
        partitions: number;
        replicationFactor: number;
        sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256'; username: string; password: string };
        ssl?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
        sessionTimeoutMs?: number;
      };
  /** `keys`: object keys in `bucket`, or s3://BUCKET/KEY URIs. */
  input: { bucket: string; prefix: string; keys: string[]; watchIntervalSec: number };
  output: { bucket: string; prefix: string };
  model: string;
  tiling: { tile?: number; overlap?: number };
  /** `rowCacheMiB`: decoded row bands a worker keeps for the next tiles of a band (row-cache.ts). */
  worker: { threads: number; maxInFlight?: number; rowCacheMiB?: number };
  /**
   * Optional catalogue database (PostgreSQL + q3c): each catalogue is also upserted by source_id.
   * The connection string (it holds a password) comes from the environment variable `urlEnv`.
   */
  catalogueDb?: { kind: 'postgres'; url: string; urlEnv: string; table?: string };
  retry: RetryPolicy;
  tbd: TbdOptions;
  noise: PipelineNoise;
  /** Print a progress line every N seconds (bulk runs). */
  progressIntervalSec: number;
}

type Raw = Record<string, unknown>;

export function loadPipelineConfig(file: string, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserInputError(`--config ${file}: cannot read the file`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new UserInputError(`--config ${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return parsePipelineConfig(raw, file, env, path.dirname(path.resolve(file)));
}

export function parsePipelineConfig(raw: unknown, where: string, env: NodeJS.ProcessEnv, baseDir: string): PipelineConfig {
  const fail = (field: string, msg: string): never => {
    throw new UserInputError(`${where}: ${field} ${msg}`);
  };
  const obj = (v: unknown, field: string): Raw => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : fail(field, `must be a mapping, got ${JSON.stringify(v)}`));
  const str = (v: unknown, field: string, dflt?: string): string => {
    if (v === undefined && dflt !== undefined) return dflt;
    return typeof v === 'string' && v.length > 0 ? v : fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  };
  const int = (v: unknown, field: string, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fail(field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  };
  const fromEnv = (name: unknown, field: string): string => {
    const n = str(name, field);
    const v = env[n];
    return v !== undefined && v !== '' ? v : fail(field, `names environment variable ${n}, which is not set`);
  };
  const known = (o: Raw, field: string, keys: string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${field}.${k}`, `is not a known setting (expected one of ${keys.join(', ')})`);
  };
  const top = obj(raw, 'the file');
  known(top, 'config', ['name', 'runId', 'storage', 'queue', 'input', 'output', 'model', 'tiling', 'worker', 'catalogueDb', 'retry', 'tbd', 'noise', 'progressIntervalSec']);
  const name = str(top.name, 'name');
  const runId = str(top.runId, 'runId', name);
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(runId)) fail('runId', `must be 1-100 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(runId)}`);

  const s = obj(top.storage, 'storage');
  let storage: PipelineConfig['storage'];
  if (s.kind === 'local') {
    known(s, 'storage', ['kind', 'root']);
    storage = { kind: 'local', root: path.resolve(baseDir, str(s.root, 'storage.root')) };
  } else if (s.kind === 's3') {
    known(s, 'storage', ['kind', 'endpoint', 'endpointEnv', 'region', 'forcePathStyle', 'accessKeyIdEnv', 'secretAccessKeyEnv']);
    const endpoint = s.endpointEnv !== undefined ? fromEnv(s.endpointEnv, 'storage.endpointEnv') : s.endpoint === undefined ? undefined : str(s.endpoint, 'storage.endpoint');
    storage = {
      kind: 's3',
      endpoint,
      region: s.region === undefined ? undefined : str(s.region, 'storage.region'),
      forcePathStyle: s.forcePathStyle === undefined ? undefined : Boolean(s.forcePathStyle),
      accessKeyIdEnv: s.accessKeyIdEnv === undefined ? undefined : str(s.accessKeyIdEnv, 'storage.accessKeyIdEnv'),
      secretAccessKeyEnv: s.secretAccessKeyEnv === undefined ? undefined : str(s.secretAccessKeyEnv, 'storage.secretAccessKeyEnv'),
    };
  } else {
    return fail('storage.kind', `must be local or s3, got ${JSON.stringify(s.kind)}`);
  }

  const q = obj(top.queue, 'queue');
  let queue: PipelineConfig['queue'];
  const topicPrefix = str(q.topicPrefix, 'queue.topicPrefix', 'deepsource');
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(topicPrefix)) fail('queue.topicPrefix', `must be Kafka topic characters, got ${JSON.stringify(topicPrefix)}`);
  const groupPrefix = str(q.groupPrefix, 'queue.groupPrefix', topicPrefix);
  if (q.kind === 'memory') {
    known(q, 'queue', ['kind', 'topicPrefix', 'groupPrefix']);
    queue = { kind: 'memory', topicPrefix, groupPrefix };
  } else if (q.kind === 'kafka') {
    known(q, 'queue', ['kind', 'brokers', 'brokersEnv', 'topicPrefix', 'groupPrefix', 'partitions', 'replicationFactor', 'sasl', 'ssl', 'sessionTimeoutMs']);
    const brokers = q.brokersEnv !== undefined ? fromEnv(q.brokersEnv, 'queue.brokersEnv').split(',').map((b) => b.trim()) : Array.isArray(q.brokers) ? q.brokers.map((b, i) => str(b, `queue.brokers[${i}]`)) : fail('queue.brokers', 'must be a list of host:port (or set brokersEnv)');
    let sasl: { mechanism: 'scram-sha-512' | 'scram-sha-256'; username: string; password: string } | undefined;
    if (q.sasl !== undefined) {
      const sa = obj(q.sasl, 'queue.sasl');
      if ('password' in sa) fail('queue.sasl.password', 'must not be in the file; use passwordEnv');
      known(sa, 'queue.sasl', ['mechanism', 'username', 'usernameEnv', 'passwordEnv']);
      const mechanism = str(sa.mechanism, 'queue.sasl.mechanism', 'scram-sha-512');
      if (mechanism !== 'scram-sha-512' && mechanism !== 'scram-sha-256') fail('queue.sasl.mechanism', `must be scram-sha-512 or scram-sha-256, got ${JSON.stringify(mechanism)}`);
      sasl = {
        mechanism: mechanism as 'scram-sha-512' | 'scram-sha-256',
        username: sa.usernameEnv !== undefined ? fromEnv(sa.usernameEnv, 'queue.sasl.usernameEnv') : str(sa.username, 'queue.sasl.username'),
        password: fromEnv(sa.passwordEnv, 'queue.sasl.passwordEnv'),
      };
    }
    let ssl: boolean | { caFile?: string; certFile?: string; keyFile?: string } | undefined;
    if (q.ssl === true || q.ssl === false) ssl = q.ssl;
    else if (q.ssl !== undefined) {
      const so = obj(q.ssl, 'queue.ssl');
      known(so, 'queue.ssl', ['caFile', 'certFile', 'keyFile']);
      ssl = Object.fromEntries(Object.entries(so).map(([k, v]) => [k, path.resolve(baseDir, str(v, `queue.ssl.${k}`))]));
    }
    queue = {
      kind: 'kafka',
      brokers,
      topicPrefix,
      groupPrefix,
      partitions: int(q.partitions, 'queue.partitions', 8, 1),
      replicationFactor: int(q.replicationFactor, 'queue.replicationFactor', 1, 1),
      sasl,
      ssl,
      sessionTimeoutMs: q.sessionTimeoutMs === undefined ? undefined : int(q.sessionTimeoutMs, 'queue.sessionTimeoutMs', 30000, 6000),
    };
  } else {
    return fail('queue.kind', `must be memory or kafka, got ${JSON.stringify(q.kind)}`);
  }

  const i = obj(top.input, 'input');
  known(i, 'input', ['bucket', 'prefix', 'keys', 'watchIntervalSec']);
  const keys = i.keys === undefined ? [] : Array.isArray(i.keys) ? i.keys.map((k, n) => str(k, `input.keys[${n}]`)) : fail('input.keys', 'must be a list of object keys or s3://BUCKET/KEY URIs');
  keys.forEach((k, n) => {
    if (k.startsWith('s3://') && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+$/.test(k)) fail(`input.keys[${n}]`, `is not an s3://BUCKET/KEY URI: ${JSON.stringify(k)}`);
  });
  const input = { bucket: str(i.bucket, 'input.bucket'), prefix: i.prefix === undefined ? '' : String(i.prefix), keys, watchIntervalSec: int(i.watchIntervalSec, 'input.watchIntervalSec', 0, 0) };
  const o = obj(top.output, 'output');
  known(o, 'output', ['bucket', 'prefix']);
  const output = { bucket: str(o.bucket, 'output.bucket'), prefix: o.prefix === undefined ? 'deepsource' : String(o.prefix) };

  const t = top.tiling === undefined ? {} : obj(top.tiling, 'tiling');
  known(t, 'tiling', ['tile', 'overlap']);
  const w = top.worker === undefined ? {} : obj(top.worker, 'worker');
  known(w, 'worker', ['threads', 'maxInFlight', 'rowCacheMiB']);
  let catalogueDb: PipelineConfig['catalogueDb'];
  if (top.catalogueDb !== undefined) {
    const d = obj(top.catalogueDb, 'catalogueDb');
    known(d, 'catalogueDb', ['kind', 'urlEnv', 'table']);
    if (d.kind !== 'postgres') fail('catalogueDb.kind', `must be postgres, got ${JSON.stringify(d.kind)}`);
    const urlEnv = str(d.urlEnv, 'catalogueDb.urlEnv', 'DEEPSOURCE_DB_URL');
    const table = d.table === undefined ? undefined : str(d.table, 'catalogueDb.table');
    if (table !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) fail('catalogueDb.table', `must be [schema.]identifier (letters, digits, _), got ${JSON.stringify(table)}`);
    catalogueDb = { kind: 'postgres', url: fromEnv(urlEnv, 'catalogueDb.urlEnv'), urlEnv, ...(table ? { table } : {}) };
  }
  const r = top.retry === undefined ? {} : obj(top.retry, 'retry');
  known(r, 'retry', ['maxAttempts', 'backoffMs', 'maxBackoffMs']);
  const tbd = top.tbd === undefined ? {} : (obj(top.tbd, 'tbd') as TbdOptions);
  known(tbd as Raw, 'tbd', Object.keys(DEFAULT_TBD_OPTIONS));
  try {
    resolveTbdOptions(tbd);
  } catch (err) {
    if (err instanceof UserInputError) fail('tbd', err.message.replace(/^TBD /, ''));
    throw err;
  }
  let noise: PipelineNoise = 'auto';
  if (top.noise !== undefined) {
    const n = str(top.noise, 'noise');
    const m = /^border:(\d+)$/.exec(n);
    if (n === 'auto') noise = 'auto';
    else if (n === 'mad') noise = { estimator: 'mad-local-rms' };
    else if (m && Number(m[1]) > 0) noise = { estimator: 'border-std', borderPx: Number(m[1]) };
    else fail('noise', `must be auto, mad or border:PX, got ${JSON.stringify(n)}`);
  }
  return {
    name,
    runId,
    storage,
    queue,
    input,
    output,
    model: str(top.model, 'model', 'natural'),
    tiling: { tile: t.tile === undefined ? undefined : int(t.tile, 'tiling.tile', 1024, 1), overlap: t.overlap === undefined ? undefined : int(t.overlap, 'tiling.overlap', 16, 0) },
    worker: {
      threads: int(w.threads, 'worker.threads', 1, 1),
      maxInFlight: w.maxInFlight === undefined ? undefined : int(w.maxInFlight, 'worker.maxInFlight', 1, 1),
      rowCacheMiB: w.rowCacheMiB === undefined ? undefined : int(w.rowCacheMiB, 'worker.rowCacheMiB', 128, 0),
    },
    ...(catalogueDb ? { catalogueDb } : {}),
    retry: {
      maxAttempts: int(r.maxAttempts, 'retry.maxAttempts', DEFAULT_RETRY_POLICY.maxAttempts, 1),
      backoffMs: int(r.backoffMs, 'retry.backoffMs', DEFAULT_RETRY_POLICY.backoffMs, 0),
      maxBackoffMs: int(r.maxBackoffMs, 'retry.maxBackoffMs', DEFAULT_RETRY_POLICY.maxBackoffMs, 0),
    },
    tbd,
    noise,
    progressIntervalSec: int(top.progressIntervalSec, 'progressIntervalSec', 10, 0),
  };
}
