/**
 * MessageQueue on Apache Kafka (kafkajs 2.2.4). Scale-out comes from Kafka itself: a topic's
 * partitions are shared among the members of a consumer group, on any number of machines.
 *
 * Delivery: offsets are committed explicitly, one message at a time, only after the handler resolved
 * (which it does after its outputs are durably written): at-least-once delivery, made an
 * exactly-once *effect* by idempotent writes keyed by image and tile.
 *
 * Slow tiles: handlers run inside `eachBatch`, and a timer calls `heartbeat()` while a handler runs,
 * so a tile that takes minutes does not get the member evicted (kafkajs issues about rebalance
 * storms with `eachMessage` and long work). Bounded work: `maxInFlight` partitions are consumed
 * concurrently, one message each, and kafkajs fetches no more for a partition while its batch runs.
 *
 * Security: TLS (`ssl`) and SASL/SCRAM-SHA-512 (`sasl`), as the Rubin alert stream uses (SASL_SSL).
 * Passwords are never logged: the kafkajs logger is wrapped with redaction.
 */
import { Kafka, logLevel, Partitioners, type ICustomPartitioner, type KafkaConfig, type SASLOptions, type Consumer, type Producer, type LogEntry } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { DeepSourceError, ServiceError, UserInputError } from '../core/errors';
import type { HandlerContext, MessageConsumer, MessageProducer, MessageQueue, SubscribeOptions, TopicSpec } from './ports';
import { redactSecrets } from './redact';

export interface KafkaQueueOptions {
  brokers: readonly string[];
  clientId?: string;
  /** true, or CA/cert/key file paths for mutual TLS. */
  ssl?: boolean | { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain'; username: string; password: string };
  /** Replication factor for topics we create (1 on a single-node test broker, 3 in production). */
  replicationFactor?: number;
  /** Default partitions for topics we create. */
  partitions?: number;
  /** Group session timeout; a member that sends no heartbeat for this long is evicted. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long kafkajs keeps retrying a lost broker before giving up (broker restarts). */
  retryMaxTimeMs?: number;
  /** Client-level retries of a failing request or connection (default 12, about a minute). */
  retries?: number;
  /** kafkajs log level: 'nothing' | 'error' | 'warn' | 'info'. */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

export function createKafkaQueue(options: KafkaQueueOptions): MessageQueue {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0 || options.brokers.some((b) => !/^[^\s:]+:\d+$/.test(b))) {
    throw new UserInputError(`kafka brokers must be a non-empty list of host:port, got ${JSON.stringify(options.brokers)}`);
  }
  const secrets = [options.sasl?.password];
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'deepsource',
    brokers: [...options.brokers],
    logLevel: { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO }[options.logLevel ?? 'error'],
    logCreator: () => (entry: LogEntry) => {
      const line = redactSecrets(`[kafkajs ${entry.namespace}] ${entry.log.message} ${JSON.stringify({ ...entry.log, message: undefined, timestamp: undefined, logger: undefined })}`, secrets);
      process.stderr.write(line + '\n');
    },
    retry: { initialRetryTime: 300, retries: options.retries ?? 12, maxRetryTime: 5_000 },
    connectionTimeout: 5_000,
  };
  if (options.ssl === true) config.ssl = true;
  else if (options.ssl && typeof options.ssl === 'object') {
    const s = options.ssl;
    config.ssl = {
      rejectUnauthorized: s.rejectUnauthorized ?? true,
      ...(s.caFile ? { ca: [readFileSync(s.caFile, 'utf8')] } : {}),
      ...(s.certFile ? { cert: readFileSync(s.certFile, 'utf8') } : {}),
      ...(s.keyFile ? { key: readFileSync(s.keyFile, 'utf8') } : {}),
    };
  }
  if (options.sasl) {
    const { mechanism, username, password } = options.sasl;
    if (!username || !password) throw new UserInputError('kafka sasl needs a username and a password (from the environment)');
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  const kafka = new Kafka(config);
  const producers: Producer[] = [];
  const consumers: MessageConsumer[] = [];
  const retryMaxTimeMs = options.retryMaxTimeMs ?? 120_000;

  function wrap(err: unknown, what: string): ServiceError {
    const e = err as { name?: string; message?: string; retriable?: boolean };
    return new ServiceError(redactSecrets(`kafka ${what} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`, secrets), {
      retriable: e.retriable ?? true,
      cause: err,
    });
  }

  return {
    kind: 'kafka',
    async ensureTopics(specs: readonly TopicSpec[]) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((s) => !existing.has(s.topic));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions ?? options.partitions ?? 4,
              replicationFactor: options.replicationFactor ?? 1,
            })),
          });
        }
      } catch (err) {
        if (!/already exists/i.test(String((err as Error).message))) throw wrap(err, 'create topics');
      } finally {
        await admin.disconnect();
      }
    },
    async producer(): Promise<MessageProducer> {
      // Idempotent producer: broker-side de-duplication of retried sends (acks = all).
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: spreadPartitioner, retry: { retries: 20, maxRetryTime: 5_000, initialRetryTime: 300 } });
      await producer.connect();
      producers.push(producer);
      return {
        async send(topic, messages) {
          const deadline = Date.now() + retryMaxTimeMs;
          for (;;) {
            try {
              await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength), ...(m.spread === undefined ? {} : { spread: m.spread }) })) });
              return;
            } catch (err) {
              // A restarting broker outlasts kafkajs' own retries; keep trying until the deadline.
              if (Date.now() > deadline) throw wrap(err, `send to ${topic}`);
              await sleep(500);
            }
          }
        },
        async close() {
          await producer.disconnect();
        },
      };
    },
    consumer(): MessageConsumer {
      let consumer: Consumer | undefined;
      let running = false;
      let rejectFailed: (err: unknown) => void = () => {};
      const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
      failed.catch(() => {});
      const handle: MessageConsumer = {
        failed,
        async start(sub: SubscribeOptions) {
          if (consumer) throw new DeepSourceError('consumer already started');
          const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
          const heartbeatInterval = options.heartbeatIntervalMs ?? 3_000;
          const maxInFlight = Math.max(1, sub.maxInFlight ?? 1);
          consumer = kafka.consumer({
            groupId: sub.groupId,
            sessionTimeout,
            heartbeatInterval,
            // A slow tile blocks only its partition; rebalances wait for it up to this long.
            rebalanceTimeout: Math.max(60_000, sessionTimeout * 2),
            // Bounded fetches: at most ~1 MiB per partition (messages are small references).
            maxBytesPerPartition: 1 << 20,
            maxBytes: 8 << 20,
            retry: { initialRetryTime: 300, retries: 30, maxRetryTime: 5_000 },
          });
          const c = consumer;
          c.on(c.events.CRASH, (event) => {
            const payload = event.payload as { error: Error; restart: boolean };
            if (!payload.restart) {
              running = false;
              rejectFailed(wrap(payload.error, 'consumer'));
            }
          });
          await c.connect();
          for (const topic of sub.topics) await c.subscribe({ topic, fromBeginning: sub.fromBeginning ?? true });
          running = true;
          await c.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: maxInFlight,
            eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
              const context: HandlerContext = {
                heartbeat: () => heartbeat().catch(() => {}),
                isRunning: () => running && isRunning() && !isStale(),
              };
              for (const m of batch.messages) {
                if (!context.isRunning()) break;
                const timer = setInterval(() => {
                  if (running) void context.heartbeat();
                  else clearInterval(timer);
                }, heartbeatInterval);
                try {
                  await sub.handler(
                    {
                      topic: batch.topic,
                      partition: batch.partition,
                      offset: m.offset,
                      key: m.key === null ? null : m.key.toString('utf8'),
                      value: m.value === null ? new Uint8Array(0) : new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength),
                      timestamp: Number(m.timestamp),
                    },
                    context,
                  );
                } catch (err) {
                  // Contract: a rejecting handler stops this consumer; its message stays uncommitted and
                  // goes to another member after the rebalance. Leave the group outside this callback.
                  running = false;
                  rejectFailed(err);
                  setImmediate(() => void c.disconnect().catch(() => {}));
                  return;
                } finally {
                  clearInterval(timer);
                }
                resolveOffset(m.offset);
                // Commit after the handler's outputs are durable; the committed offset is the next one to read.
                await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(m.offset) + 1n).toString() }]);
                await context.heartbeat();
              }
            },
          });
        },
        async stop() {
          running = false;
          if (consumer) await consumer.disconnect();
        },
      };
      consumers.push(handle);
      return handle;
    },
    async close() {
      await Promise.allSettled(consumers.map((c) => c.stop()));
      await Promise.allSettled(producers.map((p) => p.disconnect()));
    },
  };
}

/**
 * kafkajs' default partitioner (murmur2 of the key, as the Java client), except for messages that
 * carry OutgoingMessage.spread: those go to partition `spread mod count` (by partition id order).
 */
export const spreadPartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return (args) => {
    const spread = (args.message as { spread?: unknown }).spread;
    if (typeof spread === 'number' && Number.isSafeInteger(spread) && spread >= 0 && args.partitionMetadata.length > 0) {
      const ids = args.partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b);
      return ids[spread % ids.length];
    }
    return byKey(args);
  };
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
