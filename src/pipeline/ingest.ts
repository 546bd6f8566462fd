/**
 * Ingest stage (issue 6): image announcements → tile work.
 *
 * For each announced image it reads the FITS header with ranged GETs, reads the pixels once to get
 * the image-wide noise sigma the CNN input is normalised with (the same `imageNoiseSigma` that
 * `detect` uses, so every tile normalises exactly as whole-image inference does), plans tiles with
 * overlap (src/tiling/plan.ts: overlap ≥ the receptive field, paper Fig. 8) and sends one tile-work
 * message per tile. Pixels stay in object storage; messages carry references.
 *
 * Poison input (a corrupt FITS, a missing object, a message failing its schema) goes to the
 * dead-letter topic with a reason, a `failed` catalogue event is announced, and ingest goes on.
 */
import type { MessageProducer, ObjectInfo, QueueMessage } from '../adapters/ports';
import { ObjectNotFoundError } from '../adapters/ports';
import { FormatError } from '../core/errors';
import { openFitsSource } from '../fits/read';
import { imageNoiseSigma } from '../detect/detect-image';
import { planTiles, resolveTilingOptions, type TilingOptions } from '../tiling/plan';
import { deadLetter, errorText, withRetries, type Stage, type StageContext } from './context';
import { decodeMessage, encodeMessage, SchemaError, type CatalogueMessage, type ImageMessage, type TileWorkMessage } from './messages';
import { imageIdFromKey, sourceVersion } from './keys';
import { objectByteSource } from './object-source';
import { planKey, type ImagePlanRecord } from './assemble';

export interface IngestOptions {
  tiling?: Pick<TilingOptions, 'tile' | 'overlap'>;
  /** Announcements handled at once. */
  maxInFlight?: number;
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
    let work: TileWorkMessage[];
    try {
      ({ value: work } = await withRetries(ctx.retry, async () => {
        const info = await ctx.store.head(image.source);
        if (!info) throw new ObjectNotFoundError(image.source);
        const fits = await openFitsSource(objectByteSource(ctx.store, image.source, info.size), where);
        let sigma: number;
        try {
          sigma = imageNoiseSigma(await fits.readImage());
        } finally {
          await fits.close();
        }
        if (!Number.isFinite(sigma)) throw new FormatError(`${where}: the image has no finite, varying pixels (no noise to normalise with)`);
        const plan = planTiles(fits.width, fits.height, tiling);
        const now = Date.now();
        return plan.tiles.map((tile) => ({
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
        }));
      }));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return failImage(message, image.imageId, 'missing-object', err, image.announcedAt);
      if (err instanceof FormatError) return failImage(message, image.imageId, 'corrupt-fits', err, image.announcedAt);
      if ((err as { retriable?: boolean }).retriable) return failImage(message, image.imageId, 'retries-exhausted', err, image.announcedAt);
      return failImage(message, image.imageId, 'bad-image', err, image.announcedAt);
    }
    // The plan record lets the assembler find the source and tiling from storage alone.
    const first = work[0];
    const record: ImagePlanRecord = { source: { bucket: first.source.bucket, key: first.source.key }, sourceEtag: first.source.etag, tiling: first.tiling, tileCount: work.length, noiseSigma: first.noiseSigma };
    await withRetries(ctx.retry, () => ctx.store.put({ bucket: ctx.outputBucket, key: planKey(ctx, image.imageId) }, new TextEncoder().encode(JSON.stringify(record))));
    // Tiles of one image spread over partitions (key = image:tile), so many workers share an image.
    await producer!.send(ctx.topics.tileWork, work.map((w) => ({ key: `${w.imageId}:${w.tile.index}`, value: encodeMessage('tile-work', w) })));
    ctx.log(`ingest: ${image.imageId}: ${work.length} tile(s) queued`);
  }

  return {
    name: 'ingest',
    failed: consumer.failed,
    async start() {
      producer = await ctx.queue.producer();
      await consumer.start({ topics: [ctx.topics.images], groupId: `${ctx.groupPrefix}.ingest`, maxInFlight: options.maxInFlight ?? 1, handler: handle });
    },
    async stop() {
      await consumer.stop();
      await producer?.close();
    },
  };
}
