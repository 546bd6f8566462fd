/**
 * In-process MessageQueue (the embedded default, pipelines/local.yaml): one partition per topic,
 * messages kept in memory, per-group committed offsets. Same contract as Kafka: a message's offset
 * is committed only after its handler resolved; in-flight messages per consumer are bounded by
 * `maxInFlight`, and the consumer takes nothing more while that many are running (backpressure).
 * Messages of a group are handed out in offset order; the committed offset advances over the
 * contiguous prefix of finished messages, as Kafka's does.
 */
import { DeepSourceError, UserInputError } from '../core/errors';
import type { HandlerContext, MessageConsumer, MessageProducer, MessageQueue, QueueMessage, SubscribeOptions, TopicSpec } from './ports';

interface GroupState {
  /** Next offset to hand out, per topic. */
  next: Map<string, number>;
  /** Offsets handed out and finished but not yet contiguous with the committed offset. */
  finished: Map<string, Set<number>>;
  committed: Map<string, number>;
}

export interface MemoryQueue extends MessageQueue {
  /** Committed offset of a group on a topic (for tests and progress reports). */
  committedOffset(groupId: string, topic: string): number;
  /** Messages in a topic (for tests and the local `run` report). */
  messages(topic: string): readonly QueueMessage[];
}

export function createMemoryQueue(): MemoryQueue {
  const topics = new Map<string, QueueMessage[]>();
  const groups = new Map<string, GroupState>();
  const waiters = new Set<() => void>();
  let closed = false;

  function log(topic: string): QueueMessage[] {
    const messages = topics.get(topic);
    if (messages === undefined) throw new UserInputError(`topic ${JSON.stringify(topic)} does not exist (ensureTopics first)`);
    return messages;
  }
  function group(id: string): GroupState {
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { next: new Map(), finished: new Map(), committed: new Map() }));
    return g;
  }
  function wake(): void {
    for (const w of [...waiters]) w();
  }

  return {
    kind: 'memory',
    async ensureTopics(specs: readonly TopicSpec[]) {
      for (const s of specs) if (!topics.has(s.topic)) topics.set(s.topic, []);
    },
    async producer(): Promise<MessageProducer> {
      return {
        async send(topic, messages) {
          if (closed) throw new DeepSourceError('memory queue is closed');
          const target = log(topic);
          for (const m of messages) {
            target.push({ topic, partition: 0, offset: String(target.length), key: m.key, value: m.value, timestamp: Date.now() });
          }
          wake();
        },
        async close() {},
      };
    },
    consumer(): MessageConsumer {
      let running = false;
      let loop: Promise<void> | undefined;
      let rejectFailed: (err: unknown) => void = () => {};
      const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
      failed.catch(() => {});
      let wakeSelf: (() => void) | undefined;

      async function run(options: SubscribeOptions): Promise<void> {
        const g = group(options.groupId);
        const maxInFlight = options.maxInFlight ?? 1;
        const inFlight = new Set<Promise<void>>();
        const abandoned = new Set<string>();
        const context: HandlerContext = { heartbeat: async () => {}, isRunning: () => running };
        for (const t of options.topics) {
          log(t);
          if (!g.next.has(t)) {
            const start = g.committed.get(t) ?? (options.fromBeginning === false ? log(t).length : 0);
            g.next.set(t, start);
            g.committed.set(t, start);
            g.finished.set(t, new Set());
          }
        }
        while (running) {
          let handed = false;
          for (const t of options.topics) {
            while (running && inFlight.size < maxInFlight && g.next.get(t)! < log(t).length) {
              const offset = g.next.get(t)!;
              g.next.set(t, offset + 1);
              if (g.finished.get(t)!.has(offset)) continue; // done before a redelivery rewind
              const message = log(t)[offset];
              handed = true;
              const p: Promise<void> = options
                .handler(message, context)
                .then(() => {
                  const done = g.finished.get(t)!;
                  done.add(offset);
                  let c = g.committed.get(t)!;
                  while (done.delete(c)) c++;
                  g.committed.set(t, c);
                })
                .catch((err) => {
                  running = false;
                  abandoned.add(t);
                  rejectFailed(err);
                })
                .finally(() => {
                  inFlight.delete(p);
                  wakeSelf?.();
                });
              inFlight.add(p);
            }
          }
          if (!handed) {
            await new Promise<void>((resolve) => {
              const w = (): void => {
                waiters.delete(w);
                wakeSelf = undefined;
                resolve();
              };
              wakeSelf = w;
              waiters.add(w);
            });
          }
        }
        await Promise.allSettled([...inFlight]);
        // Like a Kafka rebalance: what this member took and did not finish goes back to the group,
        // which resumes from the committed offset (finished messages after it are skipped).
        for (const t of abandoned) g.next.set(t, Math.min(g.next.get(t)!, g.committed.get(t)!));
      }

      return {
        failed,
        async start(options) {
          if (running) throw new DeepSourceError('consumer already started');
          running = true;
          loop = run(options).catch((err) => {
            running = false;
            rejectFailed(err);
          });
        },
        async stop() {
          running = false;
          wakeSelf?.();
          await loop;
        },
      };
    },
    committedOffset(groupId, topic) {
      return groups.get(groupId)?.committed.get(topic) ?? 0;
    },
    messages(topic) {
      return log(topic);
    },
    async close() {
      closed = true;
      wake();
    },
  };
}
