/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * S3 faults on a private versitygw instance (the binary infra/s3/setup.sh installed), so stopping
 * it disturbs no other test: a short outage is retried with backoff and the run completes; an
 * outage that outlasts the retries dead-letters the tiles with the attempt count, and the image is
 * announced as failed. Kafka is the shared test broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createKafkaQueue } from '../../src/adapters/kafka';
import { createS3Store } from '../../src/adapters/s3';
import type { ObjectStore } from '../../src/adapters/ports';
import { decodeParquet } from '../../src/catalogue/parquet';
import { decodeMessage } from '../../src/pipeline/messages';
import { parsePipelineConfig } from '../../src/pipeline/config';
import { contextFor, prepare, runPipeline } from '../../src/pipeline/wiring';
import { announceImages, createIngestStage } from '../../src/pipeline/ingest';
import { createWorkerStage } from '../../src/pipeline/worker';
import { createAssembleStage } from '../../src/pipeline/assemble';
import type { TileExecutor } from '../../src/tiling/pool';
import { testExecutor, testFitsImage } from '../pipeline/fixtures';
import { kafkaEnv, STATE_DIR, uniqueName } from '../pipeline/services';

jest.setTimeout(300_000);

const kafka = kafkaEnv();
const BIN = path.join(STATE_DIR, 'bin', 'versitygw');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-vgw-'));
const credentials = { accessKeyId: 'faulttest', secretAccessKey: `s${Math.random().toString(36).slice(2)}${Date.now()}` };
let port = 0;
let server: ChildProcess | undefined;
let executor: TileExecutor;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function startServer(): Promise<void> {
  server = spawn(BIN, ['--port', `127.0.0.1:${port}`, '--quiet', 'posix', dataDir], {
    env: { ...process.env, ROOT_ACCESS_KEY_ID: credentials.accessKeyId, ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    stdio: 'ignore',
  });
  const end = Date.now() + 30_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => (sock.end(), resolve(true)));
      sock.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error('private versitygw did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopServer(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once('exit', r));
  server.kill('SIGKILL');
  await exited;
}

function config(name: string, retry: Record<string, number>) {
  return parsePipelineConfig(
    {
      name,
      storage: { kind: 's3', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true },
      queue: { kind: 'kafka', brokers: kafka.brokers, topicPrefix: name, partitions: 2, sessionTimeoutMs: 6000 },
      input: { bucket: `${name}-in`, prefix: '' },
      output: { bucket: `${name}-out`, prefix: 'ds' },
      tiling: { tile: 128, overlap: 16 },
      retry,
      progressIntervalSec: 0,
    },
    'fault test', {}, os.tmpdir(),
  );
}

function storeFor(): ObjectStore {
  return createS3Store({ endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1, requestTimeoutMs: 5000 });
}

beforeAll(async () => {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} missing: run bash infra/s3/setup.sh (npm test does)`);
  port = await freePort();
  await startServer();
  executor = await testExecutor();
});

afterAll(async () => {
  await stopServer();
  await executor?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a short S3 outage mid-run is retried with backoff and the run completes', async () => {
  const name = uniqueName('s3blip');
  const cfg = config(name, { maxAttempts: 8, backoffMs: 200, maxBackoffMs: 2000 });
  const store = storeFor();
  await store.ensureBucket(cfg.input.bucket);
  await store.put({ bucket: cfg.input.bucket, key: 'blip.fits' }, testFitsImage(31, 640, 640, 20));
  const queue = createKafkaQueue({ brokers: kafka.brokers, sessionTimeoutMs: 6000 });
  // Pull the plug for 2 s as soon as the first tile result shows that the worker is busy.
  const ctx = contextFor(cfg, store, queue, () => {});
  await prepare(ctx, cfg);
  let outage: Promise<void> | undefined;
  const watcher = queue.consumer();
  await watcher.start({
    topics: [ctx.topics.tileResults], groupId: uniqueName('w'),
    handler: async () => {
      outage ??= (async () => {
        await stopServer();
        await new Promise((r) => setTimeout(r, 2000));
        await startServer();
      })();
    },
  });
  const run = runPipeline(cfg, { queue, store, executor, timeoutMs: 240_000, log: () => {} });
  const report = await run;
  await outage;
  await watcher.stop();
  await queue.close();
  expect(outage).toBeDefined();
  expect(report.ok).toBe(1);
  const event = report.events[0];
  const metrics = decodeParquet(await store.get({ bucket: cfg.output.bucket, key: event.catalogue!.metricsKey }), 'metrics');
  const attempts = Array.from(metrics.columns.attempts as Int32Array);
  expect(Math.max(...attempts)).toBeGreaterThan(1); // some tile hit the outage and was retried
  await store.close();
});

test('an S3 outage that outlasts the retries dead-letters the tiles with the attempt count', async () => {
  const name = uniqueName('s3down');
  const cfg = config(name, { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 400 });
  const store = storeFor();
  await store.ensureBucket(cfg.input.bucket);
  await store.put({ bucket: cfg.input.bucket, key: 'down.fits' }, testFitsImage(32, 200, 200, 5));
  const queue = createKafkaQueue({ brokers: kafka.brokers, sessionTimeoutMs: 6000 });
  const ctx = contextFor(cfg, store, queue, () => {});
  await prepare(ctx, cfg);
  const tileWork: unknown[] = [];
  const dead: ReturnType<typeof decodeMessage<'dead-letter'>>[] = [];
  const catalogues: ReturnType<typeof decodeMessage<'catalogue'>>[] = [];
  const watch = [queue.consumer(), queue.consumer(), queue.consumer()];
  await watch[0].start({ topics: [ctx.topics.tileWork], groupId: uniqueName('w'), handler: async (m) => void tileWork.push(m) });
  await watch[1].start({ topics: [ctx.topics.deadLetter], groupId: uniqueName('w'), handler: async (m) => void dead.push(decodeMessage('dead-letter', m.value)) });
  await watch[2].start({ topics: [ctx.topics.catalogues], groupId: uniqueName('w'), handler: async (m) => void catalogues.push(decodeMessage('catalogue', m.value)) });
  const ingest = createIngestStage(ctx, { tiling: cfg.tiling });
  await ingest.start();
  const producer = await queue.producer();
  await announceImages(ctx, producer, [{ bucket: cfg.input.bucket, key: 'down.fits' }]);
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    const end = Date.now() + 120_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await until('tile work', () => tileWork.length === 4); // 200² at tile 128 → 2 × 2 tiles
  await stopServer(); // and it stays down
  const worker = createWorkerStage(ctx, { executor });
  const assemble = createAssembleStage(ctx, {});
  await assemble.start();
  await worker.start();
  await until('dead letters for all tiles', () => dead.length === 4);
  await until('the failed catalogue event', () => catalogues.length >= 1);
  for (const s of [worker, assemble, ingest]) await s.stop();
  for (const w of watch) await w.stop();
  await producer.close();
  await queue.close();
  await startServer();
  await store.close();

  expect(dead.every((d) => d.stage === 'worker' && d.reason === 'retries-exhausted' && d.imageId === 'down')).toBe(true);
  expect(dead[0].error).toMatch(/after 3 attempt\(s\).*S3/);
  expect(dead[0].error).not.toContain(credentials.secretAccessKey);
  expect(catalogues[0].status).toBe('failed');
  expect(catalogues[0].reason).toMatch(/retries-exhausted/);
});
