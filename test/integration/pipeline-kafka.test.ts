/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * Delivery guarantees of the streaming pipeline against the real Kafka broker and the real S3
 * server (versitygw), both started by infra/ (npm test). Stages run as separate processes
 * (`deepsource pipeline worker|ingest|assemble`, from dist/) where a test kills one, else in this
 * process. References come from `detect`'s own path (detectFitsImage) on the same bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createKafkaQueue } from '../../src/adapters/kafka';
import { createS3Store } from '../../src/adapters/s3';
import type { MessageConsumer, MessageQueue, ObjectStore } from '../../src/adapters/ports';
import { decodeParquet } from '../../src/catalogue/parquet';
import { tableLength, type ColumnTable } from '../../src/catalogue/table';
import { detectFitsImage } from '../../src/detect/detect-image';
import { topicNames } from '../../src/pipeline/context';
import { decodeMessage, type CatalogueMessage, type DeadLetterMessage } from '../../src/pipeline/messages';
import { parsePipelineConfig, type PipelineConfig } from '../../src/pipeline/config';
import { contextFor, prepare, runPipeline } from '../../src/pipeline/wiring';
import { announceImages } from '../../src/pipeline/ingest';
import type { TileExecutor } from '../../src/tiling/pool';
import { testExecutor, testFitsImage, testModelDir } from '../pipeline/fixtures';
import { kafkaEnv, REPO_ROOT, s3Env, uniqueName } from '../pipeline/services';

jest.setTimeout(300_000);

const kafka = kafkaEnv();
const s3 = s3Env();
const CLI = path.join(REPO_ROOT, 'bin', 'deepsource.js');
const childEnv = { ...process.env, S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, KAFKA_BROKERS: kafka.brokers.join(',') };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-kafka-'));
const children: ChildProcess[] = [];
let executor: TileExecutor;
let store: ObjectStore;

beforeAll(async () => {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'commands', 'pipeline.js'))) throw new Error('dist/ is not built: run npx tsc -p tsconfig.json (npm test does)');
  executor = await testExecutor();
  store = createS3Store({ endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await executor?.close();
  await store?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function configFor(name: string, watchIntervalSec = 0): { raw: Record<string, unknown>; config: PipelineConfig; file: string } {
  const raw = {
    name,
    runId: name,
    storage: { kind: 's3', endpointEnv: 'S3_ENDPOINT', forcePathStyle: true },
    queue: { kind: 'kafka', brokersEnv: 'KAFKA_BROKERS', topicPrefix: name, partitions: 4, sessionTimeoutMs: 6000 },
    input: { bucket: `${name}-in`, prefix: 'incoming/', watchIntervalSec },
    output: { bucket: `${name}-out`, prefix: 'ds' },
    model: testModelDir(),
    tiling: { tile: 128, overlap: 16 },
    worker: { threads: 1 },
    retry: { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 1000 },
    progressIntervalSec: 0,
  };
  const file = path.join(tmp, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(raw)); // JSON is YAML
  return { raw, config: parsePipelineConfig(raw, file, childEnv, tmp), file };
}

function startStage(stage: string, file: string, label = stage): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'pipeline', stage, '--config', file], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = fs.createWriteStream(path.join(tmp, `${label}.log`));
  child.stdout!.pipe(logFile);
  child.stderr!.pipe(logFile);
  children.push(child);
  return child;
}

/** Collects every message of a topic (own consumer group, from the beginning). */
async function collect<T>(queue: MessageQueue, topic: string, decode: (b: Uint8Array) => T): Promise<{ items: T[]; consumer: MessageConsumer }> {
  const items: T[] = [];
  const consumer = queue.consumer();
  await consumer.start({ topics: [topic], groupId: uniqueName('watch'), fromBeginning: true, handler: async (m) => void items.push(decode(m.value)) });
  return { items, consumer };
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function reference(imageId: string, bytes: Buffer): Promise<ColumnTable> {
  const file = path.join(tmp, `${imageId}.fits`);
  fs.writeFileSync(file, bytes);
  return (await detectFitsImage(file, { executor, tile: 128, overlap: 16 })).table;
}

function expectSameCatalogue(actual: ColumnTable, expected: ColumnTable): void {
  expect(tableLength(actual)).toBe(tableLength(expected));
  const ids = actual.columns.source_id as string[];
  expect(new Set(ids).size).toBe(ids.length); // no duplicates
  for (const column of ['source_id', 'x', 'y', 'ra_deg', 'dec_deg', 'peak_flux', 'snr', 'cnn_peak', 'area_px', 'tile_id', 'flags']) {
    expect(Array.from(actual.columns[column] as ArrayLike<unknown>)).toEqual(Array.from(expected.columns[column] as ArrayLike<unknown>));
  }
}

test('kill -9 of a worker mid-image: the catalogues equal an uninterrupted run, no lost or duplicate sources', async () => {
  const { config, file } = configFor(uniqueName('kill'));
  const images: Record<string, Buffer> = { 'incoming/field_a.fits': testFitsImage(11, 520, 520, 20), 'incoming/field_b.fits': testFitsImage(12, 480, 500, 15) };
  await store.ensureBucket(config.input.bucket);
  for (const [key, bytes] of Object.entries(images)) await store.put({ bucket: config.input.bucket, key }, bytes);
  const queue = createKafkaQueue({ brokers: kafka.brokers });
  const ctx = contextFor(config, store, queue, () => {});
  await prepare(ctx, config);
  const results = await collect(queue, ctx.topics.tileResults, (b) => decodeMessage('tile-result', b));
  const catalogues = await collect(queue, ctx.topics.catalogues, (b) => decodeMessage('catalogue', b));

  const first = startStage('worker', file, 'worker-1');
  startStage('assemble', file);
  startStage('ingest', file);
  await waitFor('the first tile results', () => results.items.length >= 6, 120_000);
  first.kill('SIGKILL');
  const killedAfter = results.items.length;
  startStage('worker', file, 'worker-2');
  await waitFor('both catalogues', () => new Set(catalogues.items.filter((c) => c.status === 'ok').map((c) => c.imageId)).size === 2, 240_000);
  await results.consumer.stop();
  await catalogues.consumer.stop();
  await queue.close();

  const totalTiles = new Set(results.items.map((r) => `${r.imageId}:${r.tileIndex}`)).size;
  expect(killedAfter).toBeLessThan(totalTiles); // the kill really happened mid-run
  expect(catalogues.items.every((c) => c.status === 'ok')).toBe(true);
  for (const [key, bytes] of Object.entries(images)) {
    const imageId = path.basename(key, '.fits');
    const event = catalogues.items.find((c) => c.imageId === imageId)!;
    const table = decodeParquet(await store.get({ bucket: config.output.bucket, key: event.catalogue!.parquetKey }), imageId);
    expectSameCatalogue(table, await reference(imageId, bytes));
    const metrics = decodeParquet(await store.get({ bucket: config.output.bucket, key: event.catalogue!.metricsKey }), 'metrics');
    expect(new Set(metrics.columns.tile_id as Int32Array).size).toBe(tableLength(metrics));
  }
});

test('poison input goes to the dead-letter topic with a reason; the other images complete', async () => {
  const { config } = configFor(uniqueName('poison'));
  await store.ensureBucket(config.input.bucket);
  const good = testFitsImage(21, 300, 260, 10);
  await store.put({ bucket: config.input.bucket, key: 'incoming/good.fits' }, good);
  await store.put({ bucket: config.input.bucket, key: 'incoming/corrupt.fits' }, Buffer.concat([good.subarray(0, 2880), Buffer.from('truncated')]));
  const queue = createKafkaQueue({ brokers: kafka.brokers });
  const ctx = contextFor(config, store, queue, () => {});
  await prepare(ctx, config);
  const dead = await collect(queue, ctx.topics.deadLetter, (b) => decodeMessage('dead-letter', b));
  // Garbage on the announcement and tile-work topics, and an announcement of an object that does not exist.
  const producer = await queue.producer();
  await producer.send(ctx.topics.images, [{ key: 'junk', value: new TextEncoder().encode('{"schema":"deepsource.image/1","imageId":"../../etc"}') }]);
  await producer.send(ctx.topics.tileWork, [{ key: 'junk', value: new Uint8Array([0xff, 0xfe, 0x00]) }]);
  await announceImages(ctx, producer, [{ bucket: config.input.bucket, key: 'incoming/missing.fits' }]);
  await producer.close();

  const report = await runPipeline(config, { queue, store, executor, log: () => {}, timeoutMs: 200_000 });
  await waitFor('four dead letters', () => dead.items.length >= 4, 60_000);
  await dead.consumer.stop();
  await queue.close();

  expect(report.images).toBe(2); // good + corrupt (the listing); missing.fits was announced separately
  expect(report.events.find((e) => e.imageId === 'good')?.status).toBe('ok');
  expect(report.events.find((e) => e.imageId === 'corrupt')?.status).toBe('failed');
  const byReason = (r: DeadLetterMessage['reason']): DeadLetterMessage[] => dead.items.filter((d) => d.reason === r);
  expect(byReason('corrupt-fits').map((d) => d.imageId)).toEqual(['corrupt']);
  expect(byReason('corrupt-fits')[0].error).toMatch(/corrupt\.fits.*truncated/);
  expect(byReason('missing-object').map((d) => d.imageId)).toEqual(['missing']);
  expect(byReason('schema').map((d) => d.stage).sort()).toEqual(['ingest', 'worker']);
  expect(Buffer.from(byReason('schema').find((d) => d.stage === 'worker')!.original.value, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
  const table = decodeParquet(await store.get({ bucket: config.output.bucket, key: report.events.find((e) => e.imageId === 'good')!.catalogue!.parquetKey }), 'good');
  expectSameCatalogue(table, await reference('good', good));
});

test('continuous ingest: an image that lands after the services started is found by the watcher and catalogued', async () => {
  const { config, file } = configFor(uniqueName('watch'), 1);
  const bucket = config.input.bucket;
  await store.ensureBucket(bucket);
  const queue = createKafkaQueue({ brokers: kafka.brokers });
  const ctx = contextFor(config, store, queue, () => {});
  await prepare(ctx, config);
  const catalogues = await collect(queue, ctx.topics.catalogues, (b) => decodeMessage('catalogue', b));
  const services = ['ingest', 'worker', 'assemble'].map((stage) => startStage(stage, file, `watch-${stage}`));
  await new Promise((r) => setTimeout(r, 3000));
  const landed = testFitsImage(71, 300, 300, 8);
  await store.put({ bucket, key: 'incoming/late_arrival.fits' }, landed);
  await waitFor('the late image catalogue', () => catalogues.items.some((c) => c.imageId === 'late_arrival' && c.status === 'ok'), 120_000);
  // SIGTERM: the services stop cleanly (exit code 0).
  const exits = services.map((c) => new Promise<number | null>((r) => c.once('exit', (code) => r(code))));
  for (const c of services) c.kill('SIGTERM');
  expect(await Promise.all(exits)).toEqual([0, 0, 0]);
  await catalogues.consumer.stop();
  await queue.close();
  const event = catalogues.items.find((c) => c.imageId === 'late_arrival')!;
  expect(event.latencyMs).toBeGreaterThan(0);
  const table = decodeParquet(await store.get({ bucket: config.output.bucket, key: event.catalogue!.parquetKey }), 'late');
  expectSameCatalogue(table, await reference('late_arrival', landed));
});

export type { CatalogueMessage };
