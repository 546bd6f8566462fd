/**
 * Ports for the streaming pipeline (ARCHITECTURE.md floor 4, STYLE.md habit 6): object storage and
 * message queues. The pipeline stages (src/pipeline/) see only these interfaces; the composition root
 * (cli/, pipeline/wiring.ts) picks an implementation: local directory or S3, in-process queue or Kafka.
 *
 * Errors: implementations throw ServiceError (retriable) for transient faults and
 * ObjectNotFoundError for a missing object (not retriable), so stages can retry only what may succeed.
 */
import { DeepSourceError } from '../core/errors';

// ---------------------------------------------------------------------------------------------
// Object storage
// ---------------------------------------------------------------------------------------------

/** A location in object storage. For the local store, `bucket` is a sub-directory of its root. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Opaque version tag (S3 ETag, or size+mtime locally): changes when the object changes. */
  readonly etag: string;
}

/** Half-open byte range [start, end). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectStore {
  /** e.g. 's3' or 'local'. */
  readonly kind: string;
  /** The whole object. Throws ObjectNotFoundError when it does not exist. */
  get(ref: ObjectRef): Promise<Uint8Array>;
  /** Bytes [start, end) (clamped to the object's end). A ranged GET on S3. */
  getRange(ref: ObjectRef, range: ByteRange): Promise<Uint8Array>;
  /**
   * Writes the whole object so that readers never see a partial one (S3 PUT is atomic; the local
   * store writes a temporary file and renames it). Writing the same key again replaces it, which is
   * what makes the pipeline's writes idempotent.
   */
  put(ref: ObjectRef, body: Uint8Array, options?: { contentType?: string }): Promise<void>;
  /** Object info, or null when it does not exist. */
  head(ref: ObjectRef): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** Creates the bucket if it does not exist (idempotent). */
  ensureBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

/** The object does not exist. Not retriable: the pipeline dead-letters the message that named it. */
export class ObjectNotFoundError extends DeepSourceError {
  constructor(ref: ObjectRef, options: { cause?: unknown } = {}) {
    super(`object not found: ${ref.bucket}/${ref.key}`, { retriable: false, cause: options.cause });
  }
}

// ---------------------------------------------------------------------------------------------
// Message queues
// ---------------------------------------------------------------------------------------------

export interface OutgoingMessage {
  /** Partitioning key: messages with one key keep their order. */
  readonly key: string;
  readonly value: Uint8Array;
  /**
   * Optional placement instead of hashing the key: messages with equal `spread` go to one
   * partition (in order), and consecutive values go to consecutive partitions (spread mod the
   * topic's partition count), so a producer can co-locate related messages and still spread
   * groups of them evenly. Queues with one partition ignore it.
   */
  readonly spread?: number;
}

export interface QueueMessage {
  readonly topic: string;
  readonly partition: number;
  /** Decimal offset within the partition. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: Uint8Array;
  /** Milliseconds since the epoch at which the broker (or queue) took the message. */
  readonly timestamp: number;
}

export interface MessageProducer {
  /** Resolves once the queue has durably accepted every message (Kafka: acks from all in-sync replicas). */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** Passed to a handler so a slow message does not cost the consumer its group membership. */
export interface HandlerContext {
  /** Tells the group coordinator this consumer is alive (cheap; rate-limited by the adapter). */
  heartbeat(): Promise<void>;
  /** False once stop() was called or the partition was revoked: stop early, do not commit. */
  isRunning(): boolean;
}

export interface SubscribeOptions {
  readonly topics: readonly string[];
  /** Consumer group: members share the topics' partitions; each message goes to one member. */
  readonly groupId: string;
  /** Start from the oldest retained message when the group has no committed offset. */
  readonly fromBeginning?: boolean;
  /**
   * Messages handled at once by this consumer (bounded work, STYLE.md habit 9). While that many are
   * in flight the consumer fetches nothing more.
   */
  readonly maxInFlight?: number;
  /**
   * Handles one message. The consumer commits the message's offset only after this resolves, i.e.
   * after the handler's outputs are durably written (at-least-once delivery; idempotent outputs
   * turn it into an exactly-once effect). A rejection stops the consumer: handlers decide
   * themselves what to retry and what to dead-letter, and resolve.
   */
  readonly handler: (message: QueueMessage, context: HandlerContext) => Promise<void>;
}

export interface MessageConsumer {
  /** Joins the group and starts handling messages; resolves once consumption has started. */
  start(options: SubscribeOptions): Promise<void>;
  /** Stops fetching, waits for in-flight handlers and leaves the group. */
  stop(): Promise<void>;
  /** Rejects when the consumer died (a handler threw, or the client crashed for good). */
  readonly failed: Promise<never>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
}

/** A queue system: creates topics, producers and consumers. */
export interface MessageQueue {
  readonly kind: string;
  /** Creates missing topics (idempotent). */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  producer(): Promise<MessageProducer>;
  consumer(): MessageConsumer;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Catalogue sinks (issue 7: catalogue database)
// ---------------------------------------------------------------------------------------------

/**
 * A catalogue database. Loading is an upsert keyed by `source_id`, so loading the same catalogue
 * twice (a retried pipeline step) leaves one row per source. Implementations: PostgreSQL + q3c
 * (adapters/postgres.ts). The embedded default needs no sink: DuckDB reads the Parquet files.
 */
export interface CatalogueSink {
  /** e.g. 'postgres'. */
  readonly kind: string;
  /** Creates the table and its sky index if missing (idempotent). */
  ensureSchema(): Promise<void>;
  /** Inserts or replaces rows by source_id in one transaction; resolves with the rows written. */
  upsert(table: import('../catalogue/table').ColumnTable): Promise<{ rows: number }>;
  close(): Promise<void>;
}
