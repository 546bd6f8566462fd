/**
 * The Kafka producer's partitioner: OutgoingMessage.spread places a message on partition
 * spread mod count (co-location plus an even spread); without it, kafkajs' default (murmur2 of the key).
 */
import { Partitioners } from 'kafkajs';
import { spreadPartitioner } from '../../src/adapters/kafka';

const partitionMetadata = [3, 0, 2, 1].map((partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }));

test('spread n goes to partition n mod count; equal spread, equal partition', () => {
  const p = spreadPartitioner();
  const at = (spread: number, key = 'k') => p({ topic: 't', partitionMetadata, message: { key, value: 'v', spread } as never });
  expect([0, 1, 2, 3, 4, 5, 6, 7].map((s) => at(s))).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  expect(at(5, 'img_a')).toBe(at(5, 'img_b'));
});

test('without spread the key decides, as with kafkajs\' default partitioner', () => {
  const p = spreadPartitioner();
  const d = Partitioners.DefaultPartitioner();
  for (const key of ['img_000', 'img_001', 'a:3', 'field-17']) {
    expect(p({ topic: 't', partitionMetadata, message: { key, value: 'v' } })).toBe(d({ topic: 't', partitionMetadata, message: { key, value: 'v' } }));
  }
});
