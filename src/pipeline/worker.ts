/**
 * Worker stage (issue 6): tile work → CNN tile outputs in object storage → tile results.
 *
 * A consumer group: every worker process joins `${groupPrefix}.worker`, and Kafka spreads the
 * tile-work partitions over them (scale-out across machines is Kafka's, not ours). Each message:
 *   1. ranged GETs of the FITS header and the tile window's rows (the object's etag is checked, so
 *      a replaced image is not mixed with the old one). The rows are read at full width and kept
 *      in a bounded row-band cache (row-cache.ts): ingest puts an image's tiles on one partition in
 *      row-major order, so the other tiles of the band find them there and the image is read about
 *      once instead of once per tile column;
 *   2. the one tile function (src/tiling/tile-task.ts) on the injected executor (the piscina pool
 *      or the serial path);
 *   3. the core's CNN output is PUT under a key fixed by run, image and tile, then a JSON sidecar
 *      with its sha256 and the tile metrics (the sidecar is the completion marker). Writing again
 *      replaces identical bytes: the write is idempotent, so redelivery is harmless;
 *   4. a tile-result is sent, and only then does the handler resolve and the offset get committed.
 * A crash anywhere before 4 leaves the offset uncommitted; the tile is redone by whichever member
 * gets the partition (exactly-once effect).
 *
 * Retriable faults (S3 errors, a dead pool worker) are retried with exponential backoff, then the
 * tile is dead-lettered and a `failed` result tells the assembler the image cannot complete.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { MessageProducer, QueueMessage, HandlerContext } from '../adapters/ports';
import { ObjectNotFoundError } from '../adapters/ports';
import { DeepSourceError, FormatError } from '../core/errors';
import { madSigma } from '../core/stats';
import { openFitsSource, type FitsImageFile } from '../fits/read';
import type { TileExecutor } from '../tiling/pool';
import type { TileRequest } from '../tiling/tile-task';
import { deadLetter, errorText, isRetriable, withRetries, type Stage, type StageContext } from './context';
import { decodeMessage, encodeMessage, SchemaError, type DeadLetterReason, type TileMetrics, type TileResultMessage, type TileWorkMessage } from './messages';
import { objectByteSource } from './object-source';
import { sourceVersion } from './keys';
import { RowBandCache, type RowCacheStats } from './row-cache';

export interface WorkerOptions {
  executor: TileExecutor;
  /** Tiles in flight in this process (bounded work); default: the executor's capacity. */
  maxInFlight?: number;
  /** Names this worker in the per-tile metrics. */
  workerId?: string;
  /**
   * Bytes of decoded row bands kept for the next tiles of the same band (row-cache.ts); 0 = fetch
   * every tile's rows. Default: DEFAULT_ROW_CACHE_BYTES, or 32 MiB per message in flight if more
   * (each partition consumed at once has one band in use: a 1024-px tile band of a 4096-px-wide
   * image is ≈ 14 MB, of an 8192-px one ≈ 28 MB).
   */
  rowCacheBytes?: number;
}

/** Room for nine 4096-px-wide bands of 1024-px tiles with 16-px overlap (≈ 14 MB each). */
export const DEFAULT_ROW_CACHE_BYTES = 128 * 1024 * 1024;

/** Samples behind the per-tile noise_rms metric: ~2¹⁶ finite pixels, odd stride (no column aliasing). */
const METRIC_SAMPLE_TARGET = 1 << 16;
function metricStride(n: number): number {
  let stride = Math.max(1, Math.floor(n / METRIC_SAMPLE_TARGET));
  if (stride > 1 && stride % 2 === 0) stride += 1;
  return stride;
}

/** The image changed between ingest and this tile (etag differs): not retriable. */
export class SourceChangedError extends DeepSourceError {}

/** Sidecar written after a tile's output: the completion marker the assembler lists. */
export interface TileSidecar {
  runId: string;
  imageId: string;
  tileIndex: number;
  tileCount: number;
  core: { x0: number; y0: number; x1: number; y1: number };
  noiseSigma: number;
  sha256: string;
  bytes: number;
  metrics: TileMetrics;
}

export function createWorkerStage(ctx: StageContext, options: WorkerOptions): Stage & { readonly rowCache: RowCacheStats } {
  const consumer = ctx.queue.consumer();
  const workerId = options.workerId ?? `${os.hostname()}-${process.pid}`;
  // Opened images by version; the byte source holds no handle (ranged GETs), so nothing to close.
  const headers = new Map<string, FitsImageFile>();
  const maxInFlight = options.maxInFlight ?? Math.max(1, options.executor.capacity);
  const rowCache = new RowBandCache(options.rowCacheBytes ?? Math.max(DEFAULT_ROW_CACHE_BYTES, maxInFlight * 32 * 1024 * 1024));
  let producer: MessageProducer | undefined;

  async function computeTile(work: TileWorkMessage, context: HandlerContext): Promise<{ sidecar: Omit<TileSidecar, 'metrics'> & { metrics: Omit<TileMetrics, 'attempts' | 'queueWaitMs'> } }> {
    const source = { bucket: work.source.bucket, key: work.source.key };
    const where = `${source.bucket}/${source.key}`;
    const info = await ctx.store.head(source);
    if (!info) throw new ObjectNotFoundError(source);
    if (info.etag !== work.source.etag || info.size !== work.source.size) {
      throw new SourceChangedError(`${where} changed since ingest (etag ${info.etag}, expected ${work.source.etag})`);
    }
    // The parsed header of this version of the image is reused by its other tiles (fewer GETs).
    const cacheKey = `${where}#${info.etag}`;
    let fits = headers.get(cacheKey);
    if (!fits) {
      fits = await openFitsSource(objectByteSource(ctx.store, source, info.size), where);
      headers.set(cacheKey, fits);
      if (headers.size > 16) headers.delete(headers.keys().next().value as string);
    }
    const { window: w, core: c } = work.tile;
    if (w.x1 > fits.width || w.y1 > fits.height) throw new FormatError(`${where}: tile ${work.tile.index} window exceeds the ${fits.width}×${fits.height} image`);
    // One ranged GET of the window's rows at full width (FITS rows are contiguous), shared by the
    // other tiles of the same band through the row cache, then the window's columns.
    const opened = fits;
    const band = await rowCache.get(cacheKey, w.y0, w.y1, fits.width, () => opened.readRows(w.y0, w.y1));
    const rows = band.rows;
    const width = w.x1 - w.x0;
    const pixels = new Float32Array(width * (w.y1 - w.y0));
    for (let y = 0; y < w.y1 - w.y0; y++) pixels.set(rows.subarray(y * fits.width + w.x0, y * fits.width + w.x1), y * width);
    // Noise rms of the tile's own core pixels (a metric only; the CNN uses the image-wide sigma):
    // the MAD of every stride-th core pixel in row-major order, read in place.
    const coreWidth = c.x1 - c.x0;
    const coreCount = coreWidth * (c.y1 - c.y0);
    const stride = metricStride(coreCount);
    const sample = new Float32Array(Math.ceil(coreCount / stride));
    for (let k = 0, i = 0; i < coreCount; i += stride, k++) {
      const y = Math.floor(i / coreWidth);
      sample[k] = pixels[(c.y0 - w.y0 + y) * width + (c.x0 - w.x0) + (i - y * coreWidth)];
    }
    const noiseRms = madSigma(sample);
    await context.heartbeat();
    const request: TileRequest = { imageId: work.imageId, tileIndex: work.tile.index, window: w, core: c, pixels, noiseSigma: work.noiseSigma };
    const started = performance.now();
    const response = await options.executor.runTile(request);
    const inferenceMs = performance.now() - started;
    await context.heartbeat();
    let maxCnn = -Infinity;
    for (const v of response.output) if (v > maxCnn) maxCnn = v;
    const bytes = new Uint8Array(response.output.buffer, response.output.byteOffset, response.output.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await ctx.store.put(work.output, bytes);
    return {
      sidecar: {
        runId: work.runId,
        imageId: work.imageId,
        tileIndex: work.tile.index,
        tileCount: work.tile.count,
        core: { ...c },
        noiseSigma: work.noiseSigma,
        sha256,
        bytes: bytes.byteLength,
        metrics: { workerId, inferenceMs, noiseRms: Number.isFinite(noiseRms) ? noiseRms : null, maxCnn: Number.isFinite(maxCnn) ? maxCnn : null },
      },
    };
  }

  async function fail(message: QueueMessage, work: TileWorkMessage | undefined, reason: DeadLetterReason, err: unknown): Promise<void> {
    ctx.log(`worker: ${work ? `${work.imageId} tile ${work.tile.index}` : message.key}: dead-lettered (${reason}): ${errorText(err)}`);
    await deadLetter(producer!, ctx.topics, 'worker', reason, err, message, work?.imageId);
    if (work) {
      const result: TileResultMessage = {
        schema: 'deepsource.tile-result/1',
        runId: work.runId,
        imageId: work.imageId,
        tileIndex: work.tile.index,
        tileCount: work.tile.count,
        status: 'failed',
        reason: `${reason}: ${errorText(err)}`.slice(0, 2000),
        announcedAt: work.announcedAt,
      };
      await producer!.send(ctx.topics.tileResults, [{ key: work.imageId, value: encodeMessage('tile-result', result) }]);
    }
  }

  async function handle(message: QueueMessage, context: HandlerContext): Promise<void> {
    const startedAt = Date.now();
    let work: TileWorkMessage;
    try {
      work = decodeMessage('tile-work', message.value, `${message.topic}[${message.partition}]@${message.offset}`);
    } catch (err) {
      if (err instanceof SchemaError) return fail(message, undefined, 'schema', err);
      throw err;
    }
    let done: Awaited<ReturnType<typeof computeTile>>;
    let attempts: number;
    try {
      ({ value: done, attempts } = await withRetries(ctx.retry, () => computeTile(work, context), () => !context.isRunning()));
    } catch (err) {
      if (!context.isRunning()) throw err; // shutting down: leave the message uncommitted
      const reason: DeadLetterReason =
        err instanceof ObjectNotFoundError ? 'missing-object'
        : err instanceof FormatError ? 'corrupt-fits'
        : err instanceof SourceChangedError ? 'source-changed'
        : isRetriable(err) ? 'retries-exhausted'
        : 'tile-failed';
      const tries = (err as { attempts?: number }).attempts;
      return fail(message, work, reason, tries ? new DeepSourceError(`after ${tries} attempt(s): ${errorText(err)}`) : err);
    }
    const metrics: TileMetrics = { ...done.sidecar.metrics, queueWaitMs: Math.max(0, startedAt - work.enqueuedAt), attempts };
    const sidecar: TileSidecar = { ...done.sidecar, metrics };
    await withRetries(ctx.retry, () =>
      ctx.store.put({ bucket: work.output.bucket, key: ctx.layout.tileMeta(work.imageId, work.tile.index, sourceVersion(work.source.etag)) }, new TextEncoder().encode(JSON.stringify(sidecar)), { contentType: 'application/json' }),
    );
    const result: TileResultMessage = {
      schema: 'deepsource.tile-result/1',
      runId: work.runId,
      imageId: work.imageId,
      tileIndex: work.tile.index,
      tileCount: work.tile.count,
      status: 'ok',
      output: { bucket: work.output.bucket, key: work.output.key, sha256: sidecar.sha256, bytes: sidecar.bytes },
      core: sidecar.core,
      metrics,
      announcedAt: work.announcedAt,
    };
    // Results of one image share a key, hence a partition: the assembler sees them in order.
    await producer!.send(ctx.topics.tileResults, [{ key: work.imageId, value: encodeMessage('tile-result', result) }]);
  }

  return {
    name: 'worker',
    rowCache: rowCache.stats,
    failed: consumer.failed,
    async start() {
      producer = await ctx.queue.producer();
      await consumer.start({
        topics: [ctx.topics.tileWork],
        groupId: `${ctx.groupPrefix}.worker`,
        maxInFlight,
        handler: handle,
      });
    },
    async stop() {
      await consumer.stop();
      await producer?.close();
    },
  };
}
