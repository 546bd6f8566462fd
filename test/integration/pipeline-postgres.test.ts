/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * The pipeline's PostgreSQL catalogue sink end to end, against the real server of infra/postgres
 * (start.sh is idempotent): rows land and equal the Parquet catalogue, a re-run upserts without
 * duplicates, and a database outage is retried and then dead-lettered with the tile result, whose
 * replay, once the database is back, loads the catalogue (nothing is lost). The outage is a TCP
 * proxy in front of the real server that the test takes down (the server itself is shared).
 * Queue and object store are the embedded ones (local.yaml's): the database is what is tested.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { createMemoryQueue } from '../../src/adapters/memory-queue';
import { createPostgresSink, type PostgresCatalogueSink } from '../../src/adapters/postgres';
import type { ObjectStore } from '../../src/adapters/ports';
import { parsePipelineConfig, type PipelineConfig } from '../../src/pipeline/config';
import { createAssembleStage } from '../../src/pipeline/assemble';
import { runPipeline, contextFor, catalogueOptions, createCatalogueSink } from '../../src/pipeline/wiring';
import { topicNames } from '../../src/pipeline/context';
import { decodeMessage, type CatalogueMessage } from '../../src/pipeline/messages';
import { decodeParquet } from '../../src/catalogue/parquet';
import { tableLength } from '../../src/catalogue/table';
import type { TileExecutor } from '../../src/tiling/pool';
import { testExecutor, testFitsImage } from '../pipeline/fixtures';

jest.setTimeout(180_000);

const repo = path.resolve(__dirname, '../..');
const TABLE = `pipe_sources_${process.pid}`;
let url: string;
let password: string;
let admin: PostgresCatalogueSink;
let executor: TileExecutor;

/** A TCP proxy to the real server that can be taken down (refuses and cuts connections) and up again. */
function tcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<number>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve(port);
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server?.close(() => resolve());
    });
  return { up, down, get port() { return port; } };
}

beforeAll(async () => {
  const res = spawnSync('bash', [path.join(repo, 'infra/postgres/start.sh')], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`infra/postgres/start.sh failed: ${res.stderr}`);
  const state = process.env.DEEPSOURCE_INFRA_STATE ?? path.join(repo, '.infra');
  url = fs.readFileSync(path.join(state, 'postgres/url'), 'utf8').trim();
  password = decodeURIComponent(new URL(url).password);
  admin = createPostgresSink({ connectionString: url, table: TABLE });
  executor = await testExecutor();
});

afterAll(async () => {
  await admin?.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_provenance`);
  await admin?.close();
  await executor?.close();
});

function configFor(root: string, name: string, dbUrl: string): PipelineConfig {
  return parsePipelineConfig(
    {
      name,
      storage: { kind: 'local', root },
      queue: { kind: 'memory', topicPrefix: name },
      input: { bucket: 'images' },
      output: { bucket: 'results', prefix: 'out' },
      tiling: { tile: 128, overlap: 16 },
      catalogueDb: { kind: 'postgres', urlEnv: 'DS_TEST_CATALOGUE_DB', table: TABLE },
      retry: { maxAttempts: 3, backoffMs: 20, maxBackoffMs: 100 },
      progressIntervalSec: 0,
    },
    'test config', { DS_TEST_CATALOGUE_DB: dbUrl }, root,
  );
}

async function seed(root: string, images: Record<string, Buffer>): Promise<ObjectStore> {
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  for (const [key, bytes] of Object.entries(images)) await store.put({ bucket: 'images', key }, bytes);
  return store;
}

async function dbSourceIds(imageId: string): Promise<string[]> {
  const rows = await admin.query(`SELECT source_id FROM ${TABLE} WHERE image_id = $1 ORDER BY source_id`, [imageId]);
  return rows.map((r) => String(r.source_id));
}

async function parquetSourceIds(store: ObjectStore, event: CatalogueMessage): Promise<string[]> {
  const table = decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.parquetKey }), 'catalogue');
  return Array.from(table.columns.source_id as string[]).sort();
}

test('catalogues land in PostgreSQL; a re-run upserts without duplicates', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pgpipe-'));
  const store = await seed(root, { 'pg_a.fits': testFitsImage(21, 300, 260, 12), 'pg_b.fits': testFitsImage(22, 260, 240, 8) });
  const config = configFor(root, 'pgland', url);
  const first = await runPipeline(config, { store, executor, log: () => {}, timeoutMs: 100_000 });
  expect(first.ok).toBe(2);
  for (const event of first.events) {
    const expected = await parquetSourceIds(store, event);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBe(event.sources);
    expect(await dbSourceIds(event.imageId)).toEqual(expected);
  }
  const [{ n: before }] = await admin.query(`SELECT count(*)::int AS n FROM ${TABLE}`);
  // The same run again: every catalogue is written and loaded again, as a retried step would.
  const second = await runPipeline(config, { store, executor, log: () => {}, timeoutMs: 100_000 });
  expect(second.ok).toBe(2);
  const [{ n: after, distinct }] = await admin.query(`SELECT count(*)::int AS n, count(DISTINCT source_id)::int AS distinct FROM ${TABLE}`);
  expect(after).toBe(before);
  expect(distinct).toBe(after);
  expect(after).toBe(first.events.reduce((n, e) => n + (e.sources ?? 0), 0));
  // Rows carry the catalogue's values, not just its ids.
  const event = first.events.find((e) => e.imageId === 'pg_a')!;
  const table = decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.parquetKey }), 'catalogue');
  const ids = table.columns.source_id as string[];
  const ra = table.columns.ra_deg as Float64Array;
  const rows = await admin.query(`SELECT source_id, ra_deg FROM ${TABLE} WHERE image_id = 'pg_a'`);
  const byId = new Map(rows.map((r) => [String(r.source_id), Number(r.ra_deg)]));
  for (let i = 0; i < tableLength(table); i++) expect(byId.get(ids[i])).toBeCloseTo(ra[i], 10);
});

test('a database outage is retried, then dead-lettered with the tile result; replaying it after recovery loads the catalogue', async () => {
  const target = new URL(url);
  const proxy = tcpProxy({ host: target.hostname, port: Number(target.port) });
  await proxy.up();
  const viaProxy = new URL(url);
  viaProxy.port = String(proxy.port);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pgpipe-'));
  const store = await seed(root, { 'pg_down.fits': testFitsImage(23, 280, 250, 10) });
  const config = configFor(root, 'pgdown', viaProxy.toString());
  // The database goes down once the stages are running (their start created the table through
  // the proxy) and before the first tile is computed: the tile waits for the outage.
  let outage!: Promise<void>;
  let startOutage!: () => void;
  const started = new Promise<void>((r) => (startOutage = r));
  const gated: TileExecutor = {
    capacity: executor.capacity,
    async runTile(request) {
      startOutage();
      await outage;
      return executor.runTile(request);
    },
    close: async () => {},
  };
  outage = started.then(() => proxy.down());
  const queue = createMemoryQueue();
  const lines: string[] = [];
  const report = await runPipeline(config, { store, queue, executor: gated, log: (l) => lines.push(l), timeoutMs: 100_000 });
  expect(report.failed).toBe(1);
  const failed = report.events[0];
  expect(failed.status).toBe('failed');
  expect(failed.reason).toMatch(/^retries-exhausted: .*PostgreSQL/);
  const topics = topicNames('pgdown');
  const dead = queue.messages(topics.deadLetter).map((m) => decodeMessage('dead-letter', m.value));
  expect(dead).toHaveLength(1);
  expect(dead[0]).toMatchObject({ stage: 'assemble', reason: 'retries-exhausted', imageId: 'pg_down' });
  expect(dead[0].error).toMatch(/after 3 attempt\(s\)/);
  for (const text of [dead[0].error, failed.reason!, ...lines]) expect(text).not.toContain(password);
  // The catalogue files were written before the load failed; the database has none of its rows.
  expect(await dbSourceIds('pg_down')).toEqual([]);

  // The database is back: replay the dead-lettered tile result to an assembler (an operator's
  // replay tool would do the same). Nothing was lost: the rows land.
  await proxy.up();
  const ctx = contextFor(config, store, queue, () => {});
  const sink = createCatalogueSink(config)!;
  const assemble = createAssembleStage(ctx, catalogueOptions(config, sink, true));
  const events: CatalogueMessage[] = [];
  const watcher = queue.consumer();
  await watcher.start({ topics: [topics.catalogues], groupId: 'replay-watch', fromBeginning: false, handler: async (m) => void events.push(decodeMessage('catalogue', m.value)) });
  await assemble.start();
  const producer = await queue.producer();
  await producer.send(dead[0].original.topic, [{ key: dead[0].original.key ?? 'pg_down', value: Buffer.from(dead[0].original.value, 'base64') }]);
  const deadline = Date.now() + 60_000;
  while (!events.some((e) => e.imageId === 'pg_down' && e.status === 'ok') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await assemble.stop();
  await watcher.stop();
  await producer.close();
  await sink.close();
  await proxy.down();
  const ok = events.find((e) => e.imageId === 'pg_down' && e.status === 'ok')!;
  expect(ok).toBeDefined();
  const expected = await parquetSourceIds(store, ok);
  expect(expected.length).toBeGreaterThan(0);
  expect(await dbSourceIds('pg_down')).toEqual(expected);
});
