/**
 * Composition root of the pipeline (ARCHITECTURE.md: only cli/ and pipeline/ wiring pick concrete
 * adapters): a config becomes an object store (local directory or S3), a queue (in-process or
 * Kafka) and a CNN executor (onnxruntime on this thread, or the piscina pool), and `runPipeline`
 * runs the three stages in one process until every announced image has a catalogue event.
 */
import type { CatalogueSink, MessageQueue, ObjectStore } from '../adapters/ports';
import { createLocalStore } from '../adapters/local-store';
import { createMemoryQueue } from '../adapters/memory-queue';
import { createS3Store } from '../adapters/s3';
import { createKafkaQueue } from '../adapters/kafka';
import { meteredStore } from '../adapters/metered-store';
import { createPostgresSink } from '../adapters/postgres';
import { UserInputError } from '../core/errors';
import { readModelMetadata, resolveModelDir } from '../model/registry';
import { createTilePool, type TileExecutor } from '../tiling/pool';
import { modelTbdOptions } from '../detect/tbd-params';
import type { TbdOptions } from '../detect/tbd';
import type { Provenance } from '../catalogue/provenance';
import { makeContext, RecentSet, topicNames, type Stage, type StageContext } from './context';
import type { PipelineConfig } from './config';
import { announceImages, createIngestStage, listFitsObjects } from './ingest';
import { createWorkerStage } from './worker';
import { createAssembleStage, type AssembleOptions } from './assemble';
import type { RowCacheStats } from './row-cache';
import { decodeMessage, type CatalogueMessage } from './messages';
import { imageIdFromKey } from './keys';

export function createStore(config: PipelineConfig, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const s = config.storage;
  if (s.kind === 'local') return createLocalStore(s.root);
  let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  if (s.accessKeyIdEnv || s.secretAccessKeyEnv) {
    const id = env[s.accessKeyIdEnv ?? 'AWS_ACCESS_KEY_ID'];
    const secret = env[s.secretAccessKeyEnv ?? 'AWS_SECRET_ACCESS_KEY'];
    if (!id || !secret) throw new UserInputError(`S3 credentials: environment variables ${s.accessKeyIdEnv ?? 'AWS_ACCESS_KEY_ID'} and ${s.secretAccessKeyEnv ?? 'AWS_SECRET_ACCESS_KEY'} must be set`);
    credentials = { accessKeyId: id, secretAccessKey: secret };
  }
  return createS3Store({ endpoint: s.endpoint, region: s.region, forcePathStyle: s.forcePathStyle, credentials });
}

export function createQueue(config: PipelineConfig, shared?: MessageQueue): MessageQueue {
  const q = config.queue;
  if (q.kind === 'memory') return shared ?? createMemoryQueue();
  return createKafkaQueue({
    brokers: q.brokers,
    clientId: `deepsource-${config.name}`,
    partitions: q.partitions,
    replicationFactor: q.replicationFactor,
    sasl: q.sasl,
    ssl: q.ssl,
    sessionTimeoutMs: q.sessionTimeoutMs,
  });
}

export function contextFor(config: PipelineConfig, store: ObjectStore, queue: MessageQueue, log: (line: string) => void): StageContext {
  return makeContext({
    store,
    queue,
    topics: topicNames(config.queue.topicPrefix),
    runId: config.runId,
    outputBucket: config.output.bucket,
    outputPrefix: config.output.prefix,
    retry: config.retry,
    groupPrefix: config.queue.groupPrefix,
    log,
  });
}

/** Creates topics and the output bucket (idempotent). */
export async function prepare(ctx: StageContext, config: PipelineConfig): Promise<void> {
  const partitions = config.queue.kind === 'kafka' ? config.queue.partitions : 1;
  const t = ctx.topics;
  await ctx.queue.ensureTopics([
    { topic: t.images, partitions },
    { topic: t.tileWork, partitions },
    { topic: t.tileResults, partitions },
    { topic: t.catalogues, partitions },
    { topic: t.deadLetter, partitions: 1 },
  ]);
  await ctx.store.ensureBucket(ctx.outputBucket);
}

/** The CNN executor: onnxruntime on this thread for 1 thread, else a piscina pool of tile workers. */
export async function createPipelineExecutor(model: string, threads: number): Promise<{ executor: TileExecutor; provenance: Provenance }> {
  const modelDir = resolveModelDir(model);
  const meta = readModelMetadata(modelDir);
  const provenance: Provenance = { modelName: meta.name, modelVersion: meta.version };
  // Even one CNN thread runs in the piscina pool, off this event loop: onnxruntime-node's run() is
  // synchronous on the calling thread, so on the main thread a tile would stall Kafka heartbeats,
  // S3 reads of the next tile and assembly for its whole duration. With maxQueue = threads one
  // more tile per thread waits in the pool, its rows already read (S3 reads overlap the CNN).
  const executor = createTilePool({ runtimeModule: require.resolve('../adapters/onnx-runtime'), runtimeExport: 'createOnnxRuntime', modelDir, workers: Math.max(1, threads), maxQueue: Math.max(1, threads) });
  return { executor, provenance };
}

/** The configured catalogue database, or undefined. */
export function createCatalogueSink(config: PipelineConfig): CatalogueSink | undefined {
  const db = config.catalogueDb;
  if (!db) return undefined;
  return createPostgresSink({ connectionString: db.url, ...(db.table ? { table: db.table } : {}) });
}

/** What the assembler (and ingest, for blank images) need to write detect's catalogue. */
export function catalogueOptions(config: PipelineConfig, sink: CatalogueSink | undefined, executorGiven = false): AssembleOptions {
  if (executorGiven) return { tbd: config.tbd, noise: config.noise, sink };
  const modelDir = resolveModelDir(config.model);
  const meta = readModelMetadata(modelDir);
  const tbd = modelTbdOptions(modelDir, config.tbd);
  return { tbd: tbd.options, tbdScaling: tbd.scaling, noise: config.noise, provenance: { modelName: meta.name, modelVersion: meta.version }, sink };
}

/**
 * The input objects of a bulk run: `input.keys` (keys in input.bucket, or `s3://BUCKET/KEY` URIs),
 * else every FITS object under `input.prefix`.
 */
export async function inputObjects(ctx: StageContext, config: PipelineConfig): Promise<Array<{ bucket: string; key: string }>> {
  if (config.input.keys.length > 0) {
    return config.input.keys.map((key) => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(key);
      return m ? { bucket: m[1], key: m[2] } : { bucket: config.input.bucket, key };
    });
  }
  return (await listFitsObjects(ctx, config.input.bucket, config.input.prefix)).map((o) => ({ bucket: config.input.bucket, key: o.key }));
}

export interface RunReport {
  images: number;
  ok: number;
  failed: number;
  sources: number;
  seconds: number;
  events: CatalogueMessage[];
  /** The in-process worker's row-band cache (hits = tiles whose rows were not fetched again). */
  rowCache: RowCacheStats;
}

export interface RunOptions {
  log?: (line: string) => void;
  /** Called whenever an image finishes (progress bars). */
  onImage?: (done: number, total: number, event: CatalogueMessage) => void;
  /** Give up after this long (ms); default: no limit. */
  timeoutMs?: number;
  /** Share a queue (tests); the config's kind must match. */
  queue?: MessageQueue;
  store?: ObjectStore;
  /** Use this executor instead of loading config.model. */
  executor?: TileExecutor;
  /** Use this catalogue database instead of config.catalogueDb (the caller closes it). */
  sink?: CatalogueSink;
}

function rowCacheBytes(config: PipelineConfig): number | undefined {
  return config.worker.rowCacheMiB === undefined ? undefined : config.worker.rowCacheMiB * 1024 * 1024;
}

/**
 * Runs ingest, worker and assemble in this process for the configured input (bulk mode) and
 * resolves when every announced image has a catalogue event (ok or failed).
 */
export async function runPipeline(config: PipelineConfig, options: RunOptions = {}): Promise<RunReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const started = Date.now();
  const store = options.store ?? createStore(config);
  const queue = options.queue ?? createQueue(config);
  const ctx = contextFor(config, store, queue, log);
  await prepare(ctx, config);
  const sink = options.sink ?? createCatalogueSink(config);
  const catalogue = catalogueOptions(config, sink, options.executor !== undefined);
  const model = options.executor
    ? { executor: options.executor, provenance: {} as Provenance }
    : await createPipelineExecutor(config.model, config.worker.threads);
  const worker = createWorkerStage(ctx, { executor: model.executor, maxInFlight: config.worker.maxInFlight, rowCacheBytes: rowCacheBytes(config) });
  const stages: Stage[] = [
    createAssembleStage(ctx, catalogue),
    worker,
    createIngestStage(ctx, { tiling: config.tiling, catalogue }),
  ];
  const events = new Map<string, CatalogueMessage>();
  const watcher = queue.consumer();
  let wanted = new Set<string>();
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  try {
    for (const s of stages) await s.start();
    const objects = await inputObjects(ctx, config);
    if (objects.length === 0) throw new UserInputError(`no FITS images under ${config.input.bucket}/${config.input.prefix}`);
    const producer = await queue.producer();
    await watcher.start({
      topics: [ctx.topics.catalogues],
      groupId: `${config.queue.groupPrefix}.report.${started.toString(36)}.${Math.floor(Math.random() * 1e9).toString(36)}`,
      fromBeginning: true,
      handler: async (m) => {
        const event = decodeMessage('catalogue', m.value);
        if (event.runId !== config.runId || !wanted.has(event.imageId) || event.at < started || events.has(event.imageId)) return;
        events.set(event.imageId, event);
        options.onImage?.(events.size, wanted.size, event);
        if (events.size >= wanted.size) resolveDone();
      },
    });
    const announced = await announceImages(ctx, producer, objects);
    await producer.close();
    wanted = new Set(announced.map((a) => a.imageId));
    if (wanted.size < announced.length) log(`warning: ${announced.length - wanted.size} input name(s) map to the same image id; each is processed once`);
    const failure = Promise.race([...stages.map((s) => s.failed), watcher.failed]);
    const timeout = options.timeoutMs
      ? new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`pipeline run did not finish in ${options.timeoutMs} ms`)), options.timeoutMs).unref())
      : new Promise<never>(() => {});
    let timer: NodeJS.Timeout | undefined;
    if (config.progressIntervalSec > 0) {
      timer = setInterval(() => log(`progress: ${events.size}/${wanted.size} image(s) done, ${[...events.values()].filter((e) => e.status === 'failed').length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`), config.progressIntervalSec * 1000);
      timer.unref();
    }
    try {
      await Promise.race([done, failure, timeout]);
    } finally {
      if (timer) clearInterval(timer);
    }
  } finally {
    await watcher.stop().catch(() => {});
    for (const s of [...stages].reverse()) await s.stop().catch((err) => log(`stopping ${s.name}: ${(err as Error).message}`));
    if (!options.executor) await model.executor.close();
    if (!options.queue) await queue.close();
    if (!options.store) await store.close();
    if (sink && !options.sink) await sink.close().catch(() => {});
  }
  const all = [...events.values()];
  return {
    images: wanted.size,
    ok: all.filter((e) => e.status === 'ok').length,
    failed: all.filter((e) => e.status === 'failed').length,
    sources: all.reduce((n, e) => n + (e.sources ?? 0), 0),
    seconds: (Date.now() - started) / 1000,
    events: all,
    rowCache: { ...worker.rowCache },
  };
}

export type ServiceStage = 'ingest' | 'worker' | 'assemble';

export interface ServiceOptions {
  log?: (line: string) => void;
  /** Resolves when the service should stop (SIGINT/SIGTERM in the CLI). */
  stopSignal: Promise<void>;
}

/**
 * Runs one stage as a long-lived member of its consumer group (survey mode), until `stopSignal`.
 * `ingest` also announces the configured input once, and with `input.watchIntervalSec` > 0 keeps
 * listing the input prefix and announces objects it has not announced yet and that have no
 * catalogue (continuous ingest from an archive drop box).
 */
export async function runService(config: PipelineConfig, stage: ServiceStage, options: ServiceOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const store = meteredStore(createStore(config));
  const queue = createQueue(config);
  const ctx = contextFor(config, store, queue, log);
  await prepare(ctx, config);
  let executor: TileExecutor | undefined;
  let sink: CatalogueSink | undefined;
  let running: Stage;
  let rowCache: RowCacheStats | undefined;
  const cpuStart = process.cpuUsage();
  if (stage === 'worker') {
    const model = await createPipelineExecutor(config.model, config.worker.threads);
    executor = model.executor;
    const worker = createWorkerStage(ctx, { executor, maxInFlight: config.worker.maxInFlight, rowCacheBytes: rowCacheBytes(config) });
    rowCache = worker.rowCache;
    running = worker;
  } else {
    sink = createCatalogueSink(config);
    const catalogue = catalogueOptions(config, sink);
    running = stage === 'assemble' ? createAssembleStage(ctx, catalogue) : createIngestStage(ctx, { tiling: config.tiling, catalogue });
  }
  let stopping = false;
  let watchTimer: NodeJS.Timeout | undefined;
  try {
    await running.start();
    log(`${stage}: running (${config.queue.kind}, ${config.storage.kind}); Ctrl-C to stop`);
    if (stage === 'ingest') {
      const producer = await queue.producer();
      const seen = new RecentSet(1_000_000);
      const announceNew = async (): Promise<void> => {
        const objects = (await inputObjects(ctx, config)).filter((o) => !seen.has(`${o.bucket}/${o.key}`));
        const fresh: typeof objects = [];
        for (const o of objects) {
          seen.add(`${o.bucket}/${o.key}`);
          const done = await store.head({ bucket: ctx.outputBucket, key: ctx.layout.catalogueParquet(imageIdFromKey(o.key)) });
          if (!done) fresh.push(o);
        }
        if (fresh.length > 0) {
          await announceImages(ctx, producer, fresh);
          log(`ingest: announced ${fresh.length} image(s)`);
        }
      };
      await announceNew();
      if (config.input.watchIntervalSec > 0) {
        const tick = (): void => {
          watchTimer = setTimeout(() => {
            if (stopping) return;
            announceNew().catch((err) => log(`ingest: listing ${config.input.bucket}/${config.input.prefix} failed: ${(err as Error).message}`)).finally(() => !stopping && tick());
          }, config.input.watchIntervalSec * 1000);
        };
        tick();
      }
      options.stopSignal.finally(() => producer.close().catch(() => {}));
    }
    await Promise.race([options.stopSignal, running.failed]);
  } finally {
    stopping = true;
    if (watchTimer) clearTimeout(watchTimer);
    await running.stop().catch((err) => log(`stopping ${stage}: ${(err as Error).message}`));
    await executor?.close();
    await queue.close();
    await store.close();
    await sink?.close().catch(() => {});
    const t = store.traffic;
    const cpu = process.cpuUsage(cpuStart);
    // One machine-readable line (bench/pipeline.ts reads it from a worker process it started).
    log(`${stage}: stopped; ${JSON.stringify({ stage, cpuSeconds: (cpu.user + cpu.system) / 1e6, store: t, ...(rowCache ? { rowCache } : {}) })}`);
  }
}
