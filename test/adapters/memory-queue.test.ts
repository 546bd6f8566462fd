/** In-process queue: same contract as Kafka (commit after the handler, bounded in-flight, one member per message). */
import { createMemoryQueue } from '../../src/adapters/memory-queue';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('offsets are committed over the finished prefix only; a failed handler stops the consumer uncommitted', async () => {
  const q = createMemoryQueue();
  await q.ensureTopics([{ topic: 't' }]);
  const p = await q.producer();
  await p.send('t', ['a', 'b', 'c', 'd'].map((v) => ({ key: v, value: enc(v) })));
  const c = q.consumer();
  const seen: string[] = [];
  await c.start({
    topics: ['t'], groupId: 'g', maxInFlight: 1,
    handler: async (m) => {
      if (dec(m.value) === 'c') throw new Error('boom on c');
      seen.push(dec(m.value));
    },
  });
  await expect(c.failed).rejects.toThrow(/boom on c/);
  await c.stop();
  expect(seen).toEqual(['a', 'b']);
  expect(q.committedOffset('g', 't')).toBe(2);
  // A new member of the group resumes at c.
  const again: string[] = [];
  const c2 = q.consumer();
  await c2.start({ topics: ['t'], groupId: 'g', handler: async (m) => void again.push(dec(m.value)) });
  while (again.length < 2) await tick();
  await c2.stop();
  expect(again).toEqual(['c', 'd']);
  expect(q.committedOffset('g', 't')).toBe(4);
});

test('maxInFlight bounds concurrent handlers; two members of a group share messages without duplicates', async () => {
  const q = createMemoryQueue();
  await q.ensureTopics([{ topic: 't' }]);
  const p = await q.producer();
  await p.send('t', Array.from({ length: 20 }, (_, i) => ({ key: String(i), value: enc(String(i)) })));
  let active = 0;
  let peak = 0;
  const handled: string[] = [];
  const handler = async (m: { value: Uint8Array }): Promise<void> => {
    active++;
    peak = Math.max(peak, active);
    await tick(3);
    handled.push(dec(m.value));
    active--;
  };
  const a = q.consumer();
  const b = q.consumer();
  await a.start({ topics: ['t'], groupId: 'g', maxInFlight: 3, handler });
  await b.start({ topics: ['t'], groupId: 'g', maxInFlight: 2, handler });
  while (handled.length < 20) await tick();
  await a.stop();
  await b.stop();
  expect(peak).toBeLessThanOrEqual(5);
  expect(peak).toBeGreaterThan(1);
  expect([...handled].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
});

test('an unknown topic is a clear error', async () => {
  const q = createMemoryQueue();
  const p = await q.producer();
  await expect(p.send('nope', [{ key: 'k', value: enc('v') }])).rejects.toThrow(/topic "nope" does not exist/);
});
