/**
 * What every stage is given (STYLE.md habit 7: stages are factories with injected dependencies):
 * the ports, the topic names, the output layout, a logger and the retry policy.
 */
import type { MessageProducer, MessageQueue, ObjectStore, QueueMessage } from '../adapters/ports';
import { DeepSourceError } from '../core/errors';
import { encodeMessage, type DeadLetterMessage, type DeadLetterReason } from './messages';
import { outputLayout, type OutputLayout } from './keys';

export interface Topics {
  images: string;
  tileWork: string;
  tileResults: string;
  catalogues: string;
  deadLetter: string;
}

export function topicNames(prefix: string): Topics {
  return {
    images: `${prefix}.images.v1`,
    tileWork: `${prefix}.tile-work.v1`,
    tileResults: `${prefix}.tile-results.v1`,
    catalogues: `${prefix}.catalogues.v1`,
    deadLetter: `${prefix}.dead-letter.v1`,
  };
}

export interface RetryPolicy {
  /** Tries per tile for retriable errors (S3 faults), the first included. */
  maxAttempts: number;
  /** First backoff; doubles each retry, with ±25 % jitter. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 4, backoffMs: 500, maxBackoffMs: 10_000 });

export interface StageContext {
  store: ObjectStore;
  queue: MessageQueue;
  topics: Topics;
  runId: string;
  /** Bucket and key prefix of the run's outputs. */
  outputBucket: string;
  outputPrefix: string;
  layout: OutputLayout;
  retry: RetryPolicy;
  /** Consumer group prefix: groups are `${groupPrefix}.ingest|worker|assemble`. */
  groupPrefix: string;
  log: (line: string) => void;
}

export function makeContext(base: Omit<StageContext, 'layout'>): StageContext {
  return { ...base, layout: outputLayout(base.outputPrefix, base.runId) };
}

/** A stage: `start` joins its consumer group; `stop` drains in-flight work and leaves. */
export interface Stage {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Rejects if the stage died. */
  readonly failed: Promise<never>;
}

const DEAD_LETTER_VALUE_LIMIT = 64 * 1024;

/** Sends a message to the dead-letter topic with the reason and the original bytes. */
export async function deadLetter(
  producer: MessageProducer,
  topics: Topics,
  stage: DeadLetterMessage['stage'],
  reason: DeadLetterReason,
  error: unknown,
  original: QueueMessage,
  imageId?: string,
): Promise<void> {
  const value = Buffer.from(original.value.buffer, original.value.byteOffset, Math.min(original.value.byteLength, DEAD_LETTER_VALUE_LIMIT));
  const message: DeadLetterMessage = {
    schema: 'deepsource.dead-letter/1',
    stage,
    reason,
    error: errorText(error).slice(0, 4000),
    at: Date.now(),
    ...(imageId ? { imageId } : {}),
    original: {
      topic: original.topic,
      partition: original.partition,
      offset: original.offset,
      key: original.key,
      value: value.toString('base64'),
      truncated: original.value.byteLength > DEAD_LETTER_VALUE_LIMIT,
    },
  };
  await producer.send(topics.deadLetter, [{ key: imageId ?? original.key ?? 'unknown', value: encodeMessage('dead-letter', message) }]);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export function isRetriable(error: unknown): boolean {
  return error instanceof DeepSourceError && error.retriable;
}

/**
 * Runs `fn` up to `policy.maxAttempts` times while it fails with a retriable error, sleeping with
 * exponential backoff and jitter in between. Resolves with the value and the attempts used;
 * rejects with the last error (and `attempts` on it) otherwise.
 */
export async function withRetries<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>, shouldStop: () => boolean = () => false): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (err) {
      if (!isRetriable(err) || attempt >= policy.maxAttempts || shouldStop()) {
        throw Object.assign(err as object, { attempts: attempt });
      }
      const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, base * (0.75 + 0.5 * Math.random())));
    }
  }
}

/**
 * A set that forgets its oldest entries past `limit`: long-running stages remember recent image
 * ids (to skip duplicates) without growing for ever. Forgetting only costs a redundant, idempotent
 * repeat of work, never a wrong result.
 */
export class RecentSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit = 100_000) {}
  has(item: string): boolean {
    return this.items.has(item);
  }
  add(item: string): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value as string);
  }
  get size(): number {
    return this.items.size;
  }
}
