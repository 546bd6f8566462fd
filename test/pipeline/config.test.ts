/** Pipeline configs: the shipped files parse; errors name the file and the field; secrets only via env. */
import * as path from 'node:path';
import { loadPipelineConfig, parsePipelineConfig } from '../../src/pipeline/config';
import { redactSecrets } from '../../src/adapters/redact';
import { createLocalStore } from '../../src/adapters/local-store';
import { createMemoryQueue } from '../../src/adapters/memory-queue';
import { contextFor, inputObjects } from '../../src/pipeline/wiring';

const PIPELINES = path.resolve(__dirname, '..', '..', 'pipelines');
const env = { S3_ENDPOINT: 'http://127.0.0.1:7070', KAFKA_BROKERS: 'k1:9092,k2:9092' };

test('the shipped configs parse', () => {
  const local = loadPipelineConfig(path.join(PIPELINES, 'local.yaml'), env);
  expect(local.storage).toEqual({ kind: 'local', root: path.resolve(PIPELINES, '..', 'out', 'pipeline') });
  expect(local.queue.kind).toBe('memory');
  const survey = loadPipelineConfig(path.join(PIPELINES, 'survey-ingest.yaml'), env);
  expect(survey.queue.kind === 'kafka' && survey.queue.brokers).toEqual(['k1:9092', 'k2:9092']);
  expect(survey.input.watchIntervalSec).toBe(30);
  const bulk = loadPipelineConfig(path.join(PIPELINES, 'bulk-reprocess.yaml'), env);
  expect(bulk.input.keys).toHaveLength(3);
  expect(bulk.progressIntervalSec).toBe(10);
});

test('errors name the field', () => {
  const base = { name: 'x', storage: { kind: 'local', root: '.' }, queue: { kind: 'memory' }, input: { bucket: 'in' }, output: { bucket: 'out' } };
  const parse = (patch: Record<string, unknown>) => () => parsePipelineConfig({ ...base, ...patch }, 'f.yaml', env, '/tmp');
  expect(parse({ storage: { kind: 'minio' } })).toThrow(/^f.yaml: storage.kind must be local or s3, got "minio"$/);
  expect(parse({ tiling: { tile: 'big' } })).toThrow(/f.yaml: tiling.tile must be an integer >= 1, got "big"/);
  expect(parse({ workers: 3 })).toThrow(/f.yaml: config.workers is not a known setting/);
  expect(parse({ tbd: { deltamax: 50 } })).toThrow(/f.yaml: tbd.deltamax is not a known setting \(expected one of deltaMax, aMin/);
  expect(parse({ tbd: { deblend: 2 } })).toThrow(/^f.yaml: tbd deblend contrast must be a number in \[0, 1\)/);
  expect(parse({ queue: { kind: 'kafka', brokersEnv: 'NOPE_NOT_SET' } })).toThrow(/queue.brokersEnv names environment variable NOPE_NOT_SET, which is not set/);
  expect(parse({ queue: { kind: 'kafka', brokers: ['b:1'], sasl: { username: 'u', password: 'hunter2' } } })).toThrow(/queue.sasl.password must not be in the file; use passwordEnv/);
  expect(parse({ runId: '../x' })).toThrow(/runId must be/);
  expect(parse({ input: { bucket: 'in', keys: ['s3://Bad_Bucket/x.fits'] } })).toThrow(/input.keys\[0\] is not an s3:\/\/BUCKET\/KEY URI/);
});

test('SASL password comes from the environment', () => {
  const c = parsePipelineConfig(
    { name: 'x', storage: { kind: 'local', root: '.' }, queue: { kind: 'kafka', brokers: ['b:1'], sasl: { mechanism: 'scram-sha-512', username: 'alice', passwordEnv: 'PW' } }, input: { bucket: 'in' }, output: { bucket: 'out' } },
    'f.yaml', { PW: 's3cr3t-value' }, '/tmp',
  );
  expect(c.queue.kind === 'kafka' && c.queue.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: 's3cr3t-value' });
});

test('redaction removes known secrets and password/secret/token patterns', () => {
  expect(redactSecrets('login failed for alice with s3cr3t-value', ['s3cr3t-value'])).toBe('login failed for alice with ***');
  expect(redactSecrets('password=abc123 secretAccessKey: "xyz" token=t0k')).toBe('password=*** secretAccessKey: "***" token=***');
  expect(redactSecrets('postgres://user:pa55@host/db')).toBe('postgres://user:***@host/db');
});

test('input keys may be s3:// URIs in other buckets', async () => {
  const c = parsePipelineConfig(
    { name: 'x', storage: { kind: 'local', root: '.' }, queue: { kind: 'memory' }, input: { bucket: 'in', keys: ['a/one.fits', 's3://other-bucket/b/two.fits'] }, output: { bucket: 'out' } },
    'f.yaml', {}, '/tmp',
  );
  const ctx = contextFor(c, createLocalStore('/tmp'), createMemoryQueue(), () => {});
  expect(await inputObjects(ctx, c)).toEqual([{ bucket: 'in', key: 'a/one.fits' }, { bucket: 'other-bucket', key: 'b/two.fits' }]);
});

test('catalogueDb: the connection string only from the environment; rowCacheMiB checked', () => {
  const base = { name: 'x', storage: { kind: 'local', root: '.' }, queue: { kind: 'memory' }, input: { bucket: 'in' }, output: { bucket: 'out' } };
  const parse = (patch: Record<string, unknown>, e: Record<string, string> = env) => parsePipelineConfig({ ...base, ...patch }, 'f.yaml', e, '/tmp');
  const c = parse({ catalogueDb: { kind: 'postgres', urlEnv: 'MY_DB', table: 'survey.sources' }, worker: { rowCacheMiB: 64 } }, { MY_DB: 'postgres://u:pw@h:5432/db' });
  expect(c.catalogueDb).toEqual({ kind: 'postgres', url: 'postgres://u:pw@h:5432/db', urlEnv: 'MY_DB', table: 'survey.sources' });
  expect(c.worker.rowCacheMiB).toBe(64);
  expect(parse({ catalogueDb: { kind: 'postgres' } }, { DEEPSOURCE_DB_URL: 'postgres://h/db' }).catalogueDb?.url).toBe('postgres://h/db');
  expect(parse({}).catalogueDb).toBeUndefined();
  expect(() => parse({ catalogueDb: { kind: 'postgres' } }, {})).toThrow(/f.yaml: catalogueDb.urlEnv names environment variable DEEPSOURCE_DB_URL, which is not set/);
  expect(() => parse({ catalogueDb: { kind: 'postgres', url: 'postgres://u:pw@h/db' } })).toThrow(/catalogueDb.url is not a known setting/);
  expect(() => parse({ catalogueDb: { kind: 'mysql' } })).toThrow(/catalogueDb.kind must be postgres/);
  expect(() => parse({ catalogueDb: { kind: 'postgres', table: 'x; drop' } }, { DEEPSOURCE_DB_URL: 'postgres://h/db' })).toThrow(/catalogueDb.table must be/);
  expect(() => parse({ worker: { rowCacheMiB: -1 } })).toThrow(/worker.rowCacheMiB must be an integer >= 0/);
});
