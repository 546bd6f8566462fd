/**
 * Ingest stage (issue 6): image announcements → tile work.
 *
 * For each announced image it GETs the object once, parses the FITS header, and computes the
 * image-wide noise sigma the CNN input is normalised with: the same `imageNoiseSigma` that `detect`
 * uses, on the same pixels, so every tile normalises exactly as whole-image inference does and the
 * pipeline's catalogue equals detect's. (That estimator subsamples every ~17th pixel of the whole
 * image, so it needs all the bytes; an estimate from a few ranged row strips would differ slightly
 * and change the CNN input.) Then it plans tiles with overlap (src/tiling/plan.ts: overlap ≥ the
 * receptive field, paper Fig. 8) and sends one tile-work message per tile. Pixels stay in object
 * storage; messages carry references.
 *
 * An image with no finite, varying pixels (all blank, all zero, constant) has no noise to
 * normalise with; `detect` returns an empty catalogue for it without running the CNN, and so does
 * ingest here (writeImageCatalogue, the assembler's own writer): an empty catalogue, not an error.
 *
 * Poison input (a corrupt FITS, a missing object, a message failing its schema) goes to the
 * dead-letter topic with a reason, a `failed` catalogue event is announced, and ingest goes on.
 */
import type { MessageProducer, ObjectInfo, QueueMessage } from '../adapters/ports';
import { ObjectNotFoundError } from '../adapters/ports';
import { DeepSourceError, FormatError } from '../core/errors';
import { openFitsSource } from '../fits/read';
import { imageNoiseSigma } from '../detect/detect-image';
import { planTiles, resolveTilingOptions, type TilingOptions } from '../tiling/plan';
import { deadLetter, errorText, withRetries, type Stage, type StageContext } from './context';
import { decodeMessage, encodeMessage, SchemaError, type CatalogueMessage, type ImageMessage, type TileWorkMessage } from './messages';
import { imageIdFromKey, sourceVersion } from './keys';
import { memoryByteSource } from './object-source';
import { planKey, writeImageCatalogue, type AssembleOptions, type CatalogueInput, type ImagePlanRecord } from './assemble';
import type { Image } from '../core/image';
import type { TileExecutor } from '../tiling/pool';

export interface IngestOptions {
  tiling?: Pick<TilingOptions, 'tile' | 'overlap'>;
  /** Announcements handled at once. */
  maxInFlight?: number;
  /** TBD, noise, provenance and sink of the catalogue, as the assembler's (blank images are catalogued here). */
  catalogue?: AssembleOptions;
}

/** The executor for an image without noise: detectImage never runs the CNN on it. */
function noCnnExecutor(where: string): TileExecutor {
  return {
    capacity: 1,
    async runTile() {
      throw new DeepSourceError(`${where}: no CNN tile expected for an image without noise`);
    },
    async close() {},
  };
}

/** Lists FITS objects under a prefix (bulk reprocessing and the watcher). */
export async function listFitsObjects(ctx: StageContext, bucket: string, prefix: string): Promise<ObjectInfo[]> {
  return (await ctx.store.list(bucket, prefix)).filter((o) => /\.(fits|fit|fts)$/i.test(o.key));
}

/** Announces images (the "image landed" event a telescope archive would send). */
export async function announceImages(ctx: StageContext, producer: MessageProducer, refs: ReadonlyArray<{ bucket: string; key: string }>): Promise<ImageMessage[]> {
  const now = Date.now();
  const messages: ImageMessage[] = refs.map((ref) => ({
    schema: 'deepsource.image/1',
    runId: ctx.runId,
    imageId: imageIdFromKey(ref.key),
    source: { bucket: ref.bucket, key: ref.key },
    announcedAt: now,
  }));
  if (messages.length > 0) {
    await producer.send(ctx.topics.images, messages.map((m) => ({ key: m.imageId, value: encodeMessage('image', m) })));
  }
  return messages;
}

export function createIngestStage(ctx: StageContext, options: IngestOptions = {}): Stage {
  const tiling = resolveTilingOptions({ ...options.tiling, workers: 0 }, { allowSerial: true });
  const consumer = ctx.queue.consumer();
  let producer: MessageProducer | undefined;
  // Where the next image's tiles go (OutgoingMessage.spread); starts at a random partition so that
  // several ingest processes do not all begin with partition 0.
  let nextSpread = Math.floor(Math.random() * 1024);

  async function failImage(message: QueueMessage, imageId: string | undefined, reason: 'schema' | 'corrupt-fits' | 'missing-object' | 'retries-exhausted' | 'bad-image', err: unknown, announcedAt?: number): Promise<void> {
    ctx.log(`ingest: ${imageId ?? message.key ?? '?'}: dead-lettered (${reason}): ${errorText(err)}`);
    await deadLetter(producer!, ctx.topics, 'ingest', reason, err, message, imageId);
    if (imageId) {
      const event: CatalogueMessage = { schema: 'deepsource.catalogue/1', runId: ctx.runId, imageId, status: 'failed', reason: `${reason}: ${errorText(err)}`.slice(0, 2000), at: Date.now(), ...(announcedAt ? { announcedAt } : {}) };
      await producer!.send(ctx.topics.catalogues, [{ key: imageId, value: encodeMessage('catalogue', event) }]);
    }
  }

  async function handle(message: QueueMessage): Promise<void> {
    let image: ImageMessage;
    try {
      image = decodeMessage('image', message.value, `${message.topic}[${message.partition}]@${message.offset}`);
    } catch (err) {
      if (err instanceof SchemaError) return failImage(message, undefined, 'schema', err);
      throw err;
    }
    const where = `${image.source.bucket}/${image.source.key}`;
    let planned: { work: TileWorkMessage[] } | { blank: CatalogueInput };
    try {
      ({ value: planned } = await withRetries(ctx.retry, async () => {
        const info = await ctx.store.head(image.source);
        if (!info) throw new ObjectNotFoundError(image.source);
        // One GET of the whole object: the noise sigma needs every pixel (see the file comment).
        const bytes = await ctx.store.get(image.source);
        const fits = await openFitsSource(memoryByteSource(bytes), where);
        let sigma: number;
        let pixels: Image;
        try {
          pixels = await fits.readImage();
          sigma = imageNoiseSigma(pixels);
        } finally {
          await fits.close();
        }
        if (!Number.isFinite(sigma)) {
          // Nothing to normalise with (all blank, all zero or constant): `detect` gives an empty
          // catalogue without running the CNN, and so does the pipeline, through the same code.
          return {
            blank: {
              runId: image.runId, imageId: image.imageId, announcedAt: image.announcedAt, source: image.source,
              image: pixels, header: fits.header, imageBytes: bytes, tiling: { tile: tiling.tile, overlap: tiling.overlap },
              executor: noCnnExecutor(where), sidecars: [],
            },
          };
        }
        const plan = planTiles(fits.width, fits.height, tiling);
        const now = Date.now();
        return {
          work: plan.tiles.map((tile) => ({
            schema: 'deepsource.tile-work/1' as const,
            runId: image.runId,
            imageId: image.imageId,
            source: { bucket: image.source.bucket, key: image.source.key, etag: info.etag, size: info.size },
            tile: { index: tile.index, count: plan.tiles.length, window: { ...tile.window }, core: { ...tile.core } },
            tiling: { tile: tiling.tile, overlap: tiling.overlap },
            noiseSigma: sigma,
            output: { bucket: ctx.outputBucket, key: ctx.layout.tileData(image.imageId, tile.index, sourceVersion(info.etag)) },
            announcedAt: image.announcedAt,
            enqueuedAt: now,
          })),
        };
      }));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return failImage(message, image.imageId, 'missing-object', err, image.announcedAt);
      if (err instanceof FormatError) return failImage(message, image.imageId, 'corrupt-fits', err, image.announcedAt);
      if ((err as { retriable?: boolean }).retriable) return failImage(message, image.imageId, 'retries-exhausted', err, image.announcedAt);
      return failImage(message, image.imageId, 'bad-image', err, image.announcedAt);
    }
    if ('blank' in planned) {
      const input = planned.blank;
      let event: CatalogueMessage;
      try {
        ({ value: { message: event } } = await withRetries(ctx.retry, () => writeImageCatalogue(ctx, input, options.catalogue)));
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable) return failImage(message, image.imageId, 'retries-exhausted', err, image.announcedAt);
        return failImage(message, image.imageId, 'bad-image', err, image.announcedAt);
      }
      await producer!.send(ctx.topics.catalogues, [{ key: image.imageId, value: encodeMessage('catalogue', event) }]);
      ctx.log(`ingest: ${image.imageId}: no finite, varying pixels (blank or constant image): empty catalogue, as detect gives`);
      return;
    }
    const work = planned.work;
    // The plan record lets the assembler find the source and tiling from storage alone.
    const first = work[0];
    const record: ImagePlanRecord = { source: { bucket: first.source.bucket, key: first.source.key }, sourceEtag: first.source.etag, tiling: first.tiling, tileCount: work.length, noiseSigma: first.noiseSigma };
    await withRetries(ctx.retry, () => ctx.store.put({ bucket: ctx.outputBucket, key: planKey(ctx, image.imageId) }, new TextEncoder().encode(JSON.stringify(record))));
    // All tiles of an image go to one partition, in row-major order (key = image id, placed by
    // `spread`, consecutive images on consecutive partitions): the worker that takes it reads each
    // band of rows once (row-cache.ts), and images complete one after another, so assembly of one
    // overlaps the CNN of the next. Many images keep every partition busy; one image's tiles still
    // run in parallel on the worker's thread pool.
    const spread = nextSpread++;
    await producer!.send(ctx.topics.tileWork, work.map((w) => ({ key: w.imageId, spread, value: encodeMessage('tile-work', w) })));
    ctx.log(`ingest: ${image.imageId}: ${work.length} tile(s) queued`);
  }

  return {
    name: 'ingest',
    failed: consumer.failed,
    async start() {
      producer = await ctx.queue.producer();
      await options.catalogue?.sink?.ensureSchema();
      await consumer.start({ topics: [ctx.topics.images], groupId: `${ctx.groupPrefix}.ingest`, maxInFlight: options.maxInFlight ?? 1, handler: handle });
    },
    async stop() {
      await consumer.stop();
      await producer?.close();
    },
  };
}
