/** MessageQueue contract against the real Kafka broker (KRaft, started by infra/kafka/start.sh). */
import { createKafkaQueue } from '../../src/adapters/kafka';
import type { QueueMessage } from '../../src/adapters/ports';
import { kafkaEnv, uniqueName } from '../pipeline/services';

const env = kafkaEnv();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Creates `topic`, sends one message over `queue`, reads it back with a fresh group, then closes the queue. */
async function roundTrip(queue: ReturnType<typeof createKafkaQueue>, topic: string, text: string): Promise<string[]> {
  await queue.ensureTopics([{ topic, partitions: 1 }]);
  const producer = await queue.producer();
  await producer.send(topic, [{ key: 'a', value: enc(text) }]);
  const got: string[] = [];
  const consumer = queue.consumer();
  await consumer.start({ topics: [topic], groupId: uniqueName('g'), handler: async (m) => void got.push(dec(m.value)) });
  await waitFor(() => got.length === 1, 30_000);
  await consumer.stop();
  await producer.close();
  await queue.close();
  return got;
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('produce and consume in a group; offsets are committed only after the handler resolved', async () => {
  const queue = createKafkaQueue({ brokers: env.brokers, clientId: 'test', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
  const topic = uniqueName('t');
  const groupId = uniqueName('g');
  await queue.ensureTopics([{ topic, partitions: 2 }]);
  await queue.ensureTopics([{ topic, partitions: 2 }]); // idempotent
  const producer = await queue.producer();
  await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: enc(`m${i}`) })));

  // The first member fails on m5 (its handler rejects): m5 must not be committed, and must come back.
  const seen1: string[] = [];
  const c1 = queue.consumer();
  await c1.start({
    topics: [topic], groupId, maxInFlight: 2,
    handler: async (m: QueueMessage) => {
      if (dec(m.value) === 'm5') throw new Error('simulated crash while handling m5');
      seen1.push(dec(m.value));
    },
  });
  await expect(c1.failed).rejects.toThrow(/m5/);
  await c1.stop();

  const seen2: string[] = [];
  const c2 = queue.consumer();
  await c2.start({ topics: [topic], groupId, handler: async (m) => void seen2.push(dec(m.value)) });
  // Wait until every message was handled by one member or the other (those c1 never reached come to c2).
  await waitFor(() => seen2.includes('m5') && new Set([...seen1, ...seen2]).size === 10, 60_000);
  await c2.stop();
  await producer.close();
  await queue.close();
  // Everything is delivered at least once across the two members; m5 comes back because it was never committed.
  expect(new Set([...seen1, ...seen2])).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `m${i}`)));
  expect(seen1).not.toContain('m5');
  expect(seen2).toContain('m5');
  // The same key lands on the same partition: m5's partition was not committed past m5.
});

test('SASL/SCRAM-SHA-512 listener accepts the generated user and refuses a wrong password without echoing it', async () => {
  const topic = uniqueName('scram');
  const ok = createKafkaQueue({ brokers: env.saslBrokers, sasl: { mechanism: 'scram-sha-512', username: env.user, password: env.password } });
  expect(await roundTrip(ok, topic, 'over scram')).toEqual(['over scram']);

  const wrongPassword = 'definitely-not-the-password-42';
  const bad = createKafkaQueue({ brokers: env.saslBrokers, sasl: { mechanism: 'scram-sha-512', username: env.user, password: wrongPassword }, logLevel: 'nothing', retries: 1 });
  const err = await bad.ensureTopics([{ topic }]).catch((e) => e);
  expect(err).toBeInstanceOf(Error);
  expect(String(err.message)).toMatch(/kafka create topics failed/);
  expect(String(err.message)).not.toContain(wrongPassword);
  await bad.close();
});

test('a handler slower than the session timeout keeps its membership (heartbeats): nothing is redelivered', async () => {
  const queue = createKafkaQueue({ brokers: env.brokers, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, logLevel: 'nothing' });
  const topic = uniqueName('slow');
  await queue.ensureTopics([{ topic, partitions: 1 }]);
  const producer = await queue.producer();
  await producer.send(topic, Array.from({ length: 4 }, (_, i) => ({ key: 'same', value: enc(`s${i}`) })));
  const handled: string[] = [];
  const c = queue.consumer();
  await c.start({
    topics: [topic], groupId: uniqueName('g'),
    handler: async (m) => {
      handled.push(dec(m.value));
      if (dec(m.value) === 's0') await new Promise((r) => setTimeout(r, 15_000)); // 2.5 × the session timeout
    },
  });
  await waitFor(() => handled.length >= 4, 60_000);
  await new Promise((r) => setTimeout(r, 2_000)); // room for a redelivery to show up
  await c.stop();
  await producer.close();
  await queue.close();
  expect(handled).toEqual(['s0', 's1', 's2', 's3']);
});

test('bounded work: at most maxInFlight messages are handled at once across partitions', async () => {
  const queue = createKafkaQueue({ brokers: env.brokers, logLevel: 'nothing' });
  const topic = uniqueName('bound');
  await queue.ensureTopics([{ topic, partitions: 4 }]);
  const producer = await queue.producer();
  await producer.send(topic, Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value: enc(`b${i}`) })));
  let active = 0;
  let peak = 0;
  const handled: string[] = [];
  const c = queue.consumer();
  await c.start({
    topics: [topic], groupId: uniqueName('g'), maxInFlight: 2,
    handler: async (m) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 300));
      handled.push(dec(m.value));
      active--;
    },
  });
  await waitFor(() => handled.length >= 16, 60_000);
  await c.stop();
  await producer.close();
  await queue.close();
  expect(peak).toBe(2);
  expect(new Set(handled).size).toBe(16);
});

test('SASL_SSL with SCRAM-SHA-512 (the Rubin alert-stream setup): works with the CA, refused without it', async () => {
  const topic = uniqueName('tls');
  const sasl = { mechanism: 'scram-sha-512' as const, username: env.user, password: env.password };
  const ok = createKafkaQueue({ brokers: env.saslSslBrokers, ssl: { caFile: env.caFile }, sasl });
  expect(await roundTrip(ok, topic, 'over tls')).toEqual(['over tls']);

  // Without the CA the self-signed certificate is not trusted: the client refuses to talk.
  const untrusted = createKafkaQueue({ brokers: env.saslSslBrokers, ssl: true, sasl, logLevel: 'nothing', retries: 1 });
  await expect(untrusted.ensureTopics([{ topic }])).rejects.toThrow(/kafka create topics failed/);
  await untrusted.close();
});
