/**
 * Assemble stage (issue 6): tile results → stitched CNN map → TBD → catalogue (Parquet + Arrow IPC)
 * and a per-tile metrics table in object storage → catalogue announcement.
 *
 * Object storage is the source of truth, Kafka only the trigger: on every tile result the stage
 * lists the image's tile sidecars; when all are there it assembles. So an assembler that crashes
 * after committing some results loses nothing: the next result (or a redelivered one) finds the
 * sidecars. Assembly is deterministic and its keys are fixed by run and image, so doing it twice
 * writes the same catalogue.
 *
 * Stitching, the blank mask, TBD (paper section 4.2) and the catalogue rows are exactly `detect`'s:
 * the stage calls `detectImage` with an executor that serves the stored tile outputs instead of
 * running the CNN, after checking each one's sha256, core and noise sigma against the plan that
 * `detectImage` makes. A pipeline catalogue therefore equals `deepsource detect`'s for the same
 * model, tiling and TBD options.
 */
import { createHash } from 'node:crypto';
import type { CatalogueSink, MessageProducer, ObjectStore, QueueMessage } from '../adapters/ports';
import { DeepSourceError, FormatError } from '../core/errors';
import type { Image } from '../core/image';
import { openFitsSource } from '../fits/read';
import type { FitsHeader } from '../fits/types';
import { detectHeaderedImage, type DetectNoise } from '../detect/detect-image';
import type { TbdOptions } from '../detect/tbd';
import type { TbdScalingRequest } from '../detect/tbd-params';
import type { TileExecutor } from '../tiling/pool';
import type { TileResponse } from '../tiling/tile-task';
import { encodeCatalogue } from '../catalogue/write';
import { encodeParquet } from '../catalogue/parquet';
import type { ColumnTable } from '../catalogue/table';
import { tableLength } from '../catalogue/table';
import type { Provenance } from '../catalogue/provenance';
import { deadLetter, errorText, isRetriable, RecentSet, withRetries, type Stage, type StageContext } from './context';
import { decodeMessage, encodeMessage, SchemaError, type CatalogueMessage, type TileResultMessage } from './messages';
import { memoryByteSource } from './object-source';
import { sourceVersion } from './keys';
import type { TileSidecar } from './worker';

export type PipelineNoise = 'auto' | DetectNoise | { estimator: 'border-std'; borderPx: number };

export interface AssembleOptions {
  tbd?: TbdOptions;
  /** Rescale tuned Amin/Δmax per image, as `detect` does (modelTbdOptions in detect/tbd-params.ts). */
  tbdScaling?: TbdScalingRequest;
  noise?: PipelineNoise;
  provenance?: Provenance;
  /** Optional catalogue database (PostgreSQL); loading is an upsert by source_id. */
  sink?: CatalogueSink;
}

export interface AssembledImage {
  table: ColumnTable;
  metrics: ColumnTable;
  message: CatalogueMessage;
}

export function createAssembleStage(ctx: StageContext, options: AssembleOptions = {}): Stage & { onCatalogue?: (m: CatalogueMessage) => void } {
  const consumer = ctx.queue.consumer();
  let producer: MessageProducer | undefined;
  const announced = new RecentSet();
  const transientFailures = new Map<string, number>();

  async function announce(event: CatalogueMessage): Promise<void> {
    await producer!.send(ctx.topics.catalogues, [{ key: event.imageId, value: encodeMessage('catalogue', event) }]);
  }

  async function handle(message: QueueMessage): Promise<void> {
    let result: TileResultMessage;
    try {
      result = decodeMessage('tile-result', message.value, `${message.topic}[${message.partition}]@${message.offset}`);
    } catch (err) {
      if (err instanceof SchemaError) {
        ctx.log(`assemble: dead-lettered (schema): ${err.message}`);
        return deadLetter(producer!, ctx.topics, 'assemble', 'schema', err, message);
      }
      throw err;
    }
    const id = `${result.runId}/${result.imageId}`;
    if (result.status === 'failed') {
      if (announced.has(id)) return;
      announced.add(id);
      return announce({ schema: 'deepsource.catalogue/1', runId: result.runId, imageId: result.imageId, status: 'failed', reason: `tile ${result.tileIndex}: ${result.reason ?? 'failed'}`.slice(0, 2000), announcedAt: result.announcedAt, at: Date.now() });
    }
    const layout = ctx.layout;
    // The plan record names the current version of the image; only its tiles count.
    const { value: plan } = await withRetries(ctx.retry, () => readPlan(ctx.store, ctx, result.imageId));
    if (!plan) {
      const err = new DeepSourceError(`no ingest plan record for ${result.imageId} (${planKey(ctx, result.imageId)})`);
      ctx.log(`assemble: ${result.imageId}: dead-lettered (bad-image): ${err.message}`);
      return deadLetter(producer!, ctx.topics, 'assemble', 'bad-image', err, message, result.imageId);
    }
    const suffix = `.${sourceVersion(plan.sourceEtag)}.json`;
    const { value: listed } = await withRetries(ctx.retry, () => ctx.store.list(ctx.outputBucket, layout.tilePrefix(result.imageId)));
    const sidecarKeys = listed.filter((o) => o.key.endsWith(suffix));
    if (sidecarKeys.length < plan.tileCount) return; // not complete yet; a later result triggers us
    if (announced.has(id)) return; // a duplicate result after this process assembled the image
    // After a transient failure (dead-lettered), results sent before it do not start it again; a
    // result sent later (a replay from the dead-letter topic) does.
    const failedAt = transientFailures.get(id);
    if (failedAt !== undefined && message.timestamp <= failedAt) return;
    try {
      const { value: { message: event } } = await withRetries(ctx.retry, () => assembleImage(ctx, result, options));
      announced.add(id);
      transientFailures.delete(id);
      await announce(event);
      ctx.log(`assemble: ${result.imageId}: ${event.sources} source(s), latency ${((event.latencyMs ?? 0) / 1000).toFixed(1)} s`);
    } catch (err) {
      ctx.log(`assemble: ${result.imageId}: failed: ${errorText(err)}`);
      // Retries exhausted on a transient fault (S3, or the catalogue database being down): the
      // tile outputs stay in storage and the dead-letter record keeps this result, so replaying
      // it assembles the image again; this process does not remember it as done.
      const transient = isRetriable(err);
      if (transient) {
        transientFailures.set(id, Date.now());
        if (transientFailures.size > 100_000) transientFailures.delete(transientFailures.keys().next().value as string);
      }
      const tries = (err as { attempts?: number }).attempts;
      const reason = transient ? 'retries-exhausted' : err instanceof FormatError ? 'corrupt-fits' : 'bad-image';
      await deadLetter(producer!, ctx.topics, 'assemble', reason, transient && tries ? new DeepSourceError(`after ${tries} attempt(s): ${errorText(err)}`) : err, message, result.imageId);
      if (!transient) announced.add(id);
      await announce({ schema: 'deepsource.catalogue/1', runId: result.runId, imageId: result.imageId, status: 'failed', reason: `${reason}: ${errorText(err)}`.slice(0, 2000), announcedAt: result.announcedAt, at: Date.now() });
    }
  }

  return {
    name: 'assemble',
    failed: consumer.failed,
    async start() {
      producer = await ctx.queue.producer();
      await options.sink?.ensureSchema();
      await consumer.start({ topics: [ctx.topics.tileResults], groupId: `${ctx.groupPrefix}.assemble`, maxInFlight: 1, handler: handle });
    },
    async stop() {
      await consumer.stop();
      await producer?.close();
    },
  };
}

/** Reads the image and every stored tile, runs detect's stitching + TBD + rows, writes the outputs. */
export async function assembleImage(ctx: StageContext, result: TileResultMessage, options: AssembleOptions = {}): Promise<AssembledImage> {
  const { store, layout } = ctx;
  const imageId = result.imageId;
  const plan = await readPlan(store, ctx, imageId);
  if (!plan) throw new DeepSourceError(`no ingest plan record for ${imageId} in ${ctx.outputBucket}`);
  const version = sourceVersion(plan.sourceEtag);
  const sidecars: TileSidecar[] = [];
  for (let i = 0; i < plan.tileCount; i++) {
    const bytes = await store.get({ bucket: ctx.outputBucket, key: layout.tileMeta(imageId, i, version) });
    sidecars.push(JSON.parse(new TextDecoder().decode(bytes)) as TileSidecar);
  }
  const source = plan.source;
  const where = `${source.bucket}/${source.key}`;
  // One GET of the whole object: the image is needed whole (stitching, local rms, peak flux) and
  // its sha256 goes into the provenance, so a second read would only cost bandwidth.
  const imageBytes = await store.get(source);
  const fits = await openFitsSource(memoryByteSource(imageBytes), where);
  let image: Image;
  let header: FitsHeader;
  try {
    header = fits.header;
    image = await fits.readImage();
  } finally {
    await fits.close();
  }
  const executor = storedTileExecutor(store, ctx, imageId, sidecars, version);
  return writeImageCatalogue(ctx, { runId: result.runId, imageId, announcedAt: result.announcedAt, source, image, header, imageBytes, tiling: plan.tiling, executor, sidecars }, options);
}

/** An image in memory, ready for detect's stitching + TBD + rows. */
export interface CatalogueInput {
  runId: string;
  imageId: string;
  announcedAt: number;
  source: { bucket: string; key: string };
  image: Image;
  header: FitsHeader;
  /** The whole FITS object (its sha256 goes into the provenance, as detect's file hash does). */
  imageBytes: Uint8Array;
  tiling?: { tile: number; overlap: number };
  /** Serves the CNN tiles: the stored worker outputs, or (blank image) nothing at all. */
  executor: TileExecutor;
  sidecars: readonly TileSidecar[];
}

/**
 * detect's catalogue of one image (detectHeaderedImage), written as the pipeline's outputs: tile
 * metrics Parquet, Arrow IPC, then the Parquet catalogue (its presence marks the image done), then
 * the optional database upsert. Used by assemble, and by ingest for images with nothing to detect.
 */
export async function writeImageCatalogue(ctx: StageContext, input: CatalogueInput, options: AssembleOptions = {}): Promise<AssembledImage> {
  const { store, layout } = ctx;
  const { imageId, source, sidecars } = input;
  const where = `${source.bucket}/${source.key}`;
  const detected = await detectHeaderedImage(input.image, input.header, {
    imageId,
    executor: input.executor,
    tile: input.tiling?.tile,
    overlap: input.tiling?.overlap,
    tbd: options.tbd,
    tbdScaling: options.tbdScaling,
    noise: options.noise,
    where,
    imageName: source.key.split('/').pop() ?? source.key,
    imageSha256: createHash('sha256').update(input.imageBytes).digest('hex'),
    provenance: {
      ...options.provenance,
      extra: {
        ...options.provenance?.extra,
        'deepsource.pipeline_run': input.runId,
        'deepsource.source_object': where,
      },
    },
  });
  const table = detected.table;
  const metrics = tileMetricsTable(sidecars, table, imageId);
  const catalogue = {
    bucket: ctx.outputBucket,
    parquetKey: layout.catalogueParquet(imageId),
    arrowKey: layout.catalogueArrow(imageId),
    metricsKey: layout.tileMetrics(imageId),
  };
  await store.put({ bucket: catalogue.bucket, key: catalogue.metricsKey }, encodeParquet(metrics));
  await store.put({ bucket: catalogue.bucket, key: catalogue.arrowKey }, encodeCatalogue(table, 'arrow') as Uint8Array);
  // Parquet last: its presence means the image is done.
  await store.put({ bucket: catalogue.bucket, key: catalogue.parquetKey }, encodeCatalogue(table, 'parquet') as Uint8Array);
  if (options.sink) await options.sink.upsert(table);
  const at = Date.now();
  return {
    table,
    metrics,
    message: { schema: 'deepsource.catalogue/1', runId: input.runId, imageId, status: 'ok', sources: tableLength(table), catalogue, latencyMs: Math.max(0, at - input.announcedAt), announcedAt: input.announcedAt, at },
  };
}

/** What ingest recorded about an image, next to its tiles, before queueing them. */
export interface ImagePlanRecord {
  source: { bucket: string; key: string };
  /** The etag ingest planned from; tile keys carry sourceVersion(sourceEtag). */
  sourceEtag: string;
  tiling: { tile: number; overlap: number };
  tileCount: number;
  noiseSigma: number;
}

export function planKey(ctx: StageContext, imageId: string): string {
  return ctx.layout.tilePrefix(imageId) + 'plan.record';
}

async function readPlan(store: ObjectStore, ctx: StageContext, imageId: string): Promise<ImagePlanRecord | null> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get({ bucket: ctx.outputBucket, key: planKey(ctx, imageId) }))) as ImagePlanRecord;
  } catch (err) {
    if ((err as { retriable?: boolean }).retriable === false) return null;
    throw err;
  }
}

/** Serves stored tile outputs to detectImage in place of the CNN, checking each against the plan. */
function storedTileExecutor(store: ObjectStore, ctx: StageContext, imageId: string, sidecars: readonly TileSidecar[], version: string): TileExecutor {
  return {
    capacity: 4,
    async runTile(request): Promise<TileResponse> {
      const meta = sidecars[request.tileIndex];
      const c = request.core;
      if (!meta || meta.tileIndex !== request.tileIndex || meta.core.x0 !== c.x0 || meta.core.y0 !== c.y0 || meta.core.x1 !== c.x1 || meta.core.y1 !== c.y1) {
        throw new DeepSourceError(`${imageId} tile ${request.tileIndex}: stored core ${JSON.stringify(meta?.core)} does not match the plan ${JSON.stringify(c)}`);
      }
      if (meta.noiseSigma !== request.noiseSigma) {
        throw new DeepSourceError(`${imageId} tile ${request.tileIndex}: computed with noise sigma ${meta.noiseSigma}, the image gives ${request.noiseSigma}`);
      }
      const bytes = await store.get({ bucket: ctx.outputBucket, key: ctx.layout.tileData(imageId, request.tileIndex, version) });
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== meta.sha256) throw new DeepSourceError(`${imageId} tile ${request.tileIndex}: output checksum ${sha} differs from the recorded ${meta.sha256}`, { retriable: false });
      const expected = (c.x1 - c.x0) * (c.y1 - c.y0);
      if (bytes.byteLength !== expected * 4) throw new DeepSourceError(`${imageId} tile ${request.tileIndex}: ${bytes.byteLength} bytes, expected ${expected * 4}`);
      // A view of the fetched bytes when aligned (they are ours alone), else one copy.
      const output = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, expected) : new Float32Array(bytes.slice().buffer, 0, expected);
      return { imageId, tileIndex: request.tileIndex, core: c, output, inferSeconds: meta.metrics.inferenceMs / 1000, taskSeconds: meta.metrics.inferenceMs / 1000 };
    },
    async close() {},
  };
}

/** Per-tile metrics (issue 6): tile id, bounds, worker, timings, blob count, noise, max CNN, attempts. */
export function tileMetricsTable(sidecars: readonly TileSidecar[], catalogue: ColumnTable, imageId: string): ColumnTable {
  const n = sidecars.length;
  const blobs = new Int32Array(n);
  const tileIds = catalogue.columns.tile_id as Int32Array | undefined;
  if (tileIds) for (const t of tileIds) if (t >= 0 && t < n) blobs[t]++;
  const col = <T extends Float64Array | Float32Array | Int32Array>(Ctor: new (n: number) => T, f: (s: TileSidecar) => number): T => {
    const out = new Ctor(n);
    sidecars.forEach((s, i) => (out[i] = f(s)));
    return out;
  };
  return {
    columns: {
      image_id: sidecars.map(() => imageId),
      tile_id: col(Int32Array, (s) => s.tileIndex),
      x0: col(Int32Array, (s) => s.core.x0),
      y0: col(Int32Array, (s) => s.core.y0),
      x1: col(Int32Array, (s) => s.core.x1),
      y1: col(Int32Array, (s) => s.core.y1),
      worker_id: sidecars.map((s) => s.metrics.workerId),
      inference_ms: col(Float64Array, (s) => s.metrics.inferenceMs),
      queue_wait_ms: col(Float64Array, (s) => s.metrics.queueWaitMs),
      blob_count: blobs,
      noise_rms: col(Float64Array, (s) => s.metrics.noiseRms ?? NaN),
      max_cnn: col(Float32Array, (s) => s.metrics.maxCnn ?? NaN),
      attempts: col(Int32Array, (s) => s.metrics.attempts),
    },
    info: {
      x0: { unit: 'pix', description: 'Tile core, first column (0-based, inclusive)' },
      y0: { unit: 'pix', description: 'Tile core, first row (0-based, inclusive)' },
      x1: { unit: 'pix', description: 'Tile core, end column (exclusive)' },
      y1: { unit: 'pix', description: 'Tile core, end row (exclusive)' },
      inference_ms: { unit: 'ms', description: 'Wall time of the CNN on the tile window' },
      queue_wait_ms: { unit: 'ms', description: 'From tile-work enqueue to the worker starting it' },
      blob_count: { description: 'Catalogue sources whose position falls in the tile core' },
      noise_rms: { description: 'MAD rms of the raw pixels in the tile core (image units; a strided sample of about 65k pixels)' },
      max_cnn: { description: 'Largest CNN output in the tile core' },
      attempts: { description: 'Tries the worker needed (retriable faults)' },
    },
    metadata: { 'deepsource.table': 'tile-metrics', 'deepsource.image_id': imageId },
  };
}
