/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * A catalogue-database outage in a long-running assembler: retried, dead-lettered once (results of
 * the image sent before the failure do not start it again), and a replay of the dead letter into
 * the same running assembler loads the catalogue. The sink here is a port-level stand-in that is
 * "down" on demand; test/integration/pipeline-postgres.test.ts does the same against PostgreSQL.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { createMemoryQueue } from '../../src/adapters/memory-queue';
import type { CatalogueSink } from '../../src/adapters/ports';
import { ServiceError } from '../../src/core/errors';
import { tableLength, type ColumnTable } from '../../src/catalogue/table';
import { parsePipelineConfig } from '../../src/pipeline/config';
import { catalogueOptions, contextFor, prepare } from '../../src/pipeline/wiring';
import { announceImages } from '../../src/pipeline/ingest';
import { createAssembleStage } from '../../src/pipeline/assemble';
import { createIngestStage } from '../../src/pipeline/ingest';
import { createWorkerStage } from '../../src/pipeline/worker';
import { decodeMessage, type CatalogueMessage } from '../../src/pipeline/messages';
import { testExecutor, testFitsImage } from './fixtures';

jest.setTimeout(60_000);

test('DB outage: one dead letter, then a replay into the same assembler loads the rows', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-replay-'));
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  await store.put({ bucket: 'images', key: 'replay.fits' }, testFitsImage(31, 300, 260, 10));
  const config = parsePipelineConfig(
    { name: 'replay', storage: { kind: 'local', root }, queue: { kind: 'memory', topicPrefix: 'rp' }, input: { bucket: 'images' }, output: { bucket: 'results' }, tiling: { tile: 128, overlap: 16 }, retry: { maxAttempts: 3, backoffMs: 5, maxBackoffMs: 20 }, progressIntervalSec: 0 },
    'test config', {}, root,
  );
  let down = true;
  let attempts = 0;
  const loaded: ColumnTable[] = [];
  const sink: CatalogueSink = {
    kind: 'flaky',
    async ensureSchema() {},
    async upsert(table) {
      attempts++;
      if (down) throw new ServiceError('catalogue database unreachable (test outage)');
      loaded.push(table);
      return { rows: tableLength(table) };
    },
    async close() {},
  };
  const queue = createMemoryQueue();
  const ctx = contextFor(config, store, queue, () => {});
  await prepare(ctx, config);
  const executor = await testExecutor();
  const options = { ...catalogueOptions(config, sink, true) };
  const stages = [createAssembleStage(ctx, options), createWorkerStage(ctx, { executor }), createIngestStage(ctx, { tiling: config.tiling, catalogue: options })];
  for (const s of stages) await s.start();
  const events: CatalogueMessage[] = [];
  const watcher = queue.consumer();
  await watcher.start({ topics: [ctx.topics.catalogues], groupId: 'watch', handler: async (m) => void events.push(decodeMessage('catalogue', m.value)) });
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(done()).toBe(true);
  };
  try {
    const announcer = await queue.producer();
    await announceImages(ctx, announcer, [{ bucket: 'images', key: 'replay.fits' }]);
    await announcer.close();
    await until(() => events.some((e) => e.status === 'failed'));
    // Let every remaining tile result of the image arrive: none may start another attempt.
    await until(() => queue.messages(ctx.topics.tileResults).length >= Number(JSON.parse(fs.readFileSync(path.join(root, 'results', ctx.layout.tilePrefix('replay') + 'plan.record'), 'utf8')).tileCount));
    await new Promise((r) => setTimeout(r, 200));
    const dead = queue.messages(ctx.topics.deadLetter).map((m) => decodeMessage('dead-letter', m.value));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ stage: 'assemble', reason: 'retries-exhausted', imageId: 'replay' });
    expect(attempts).toBe(3);
    expect(events.filter((e) => e.status === 'failed')).toHaveLength(1);

    down = false;
    const producer = await queue.producer();
    await producer.send(dead[0].original.topic, [{ key: dead[0].original.key ?? 'replay', value: Buffer.from(dead[0].original.value, 'base64') }]);
    await producer.close();
    await until(() => events.some((e) => e.status === 'ok'));
    expect(loaded).toHaveLength(1);
    const ok = events.find((e) => e.status === 'ok')!;
    expect(tableLength(loaded[0])).toBe(ok.sources);
    expect(ok.sources).toBeGreaterThan(0);
  } finally {
    await watcher.stop();
    for (const s of [...stages].reverse()) await s.stop();
    await executor.close();
  }
});
