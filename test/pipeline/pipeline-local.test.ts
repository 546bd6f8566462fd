/**
 * @jest-environment ./test/adapters/onnx-environment.js
 *
 * The whole pipeline in one process on the embedded adapters (local directory + in-process queue):
 * catalogues equal `detect`'s on the same images, poison input is dead-lettered with a reason while
 * the other images complete, and per-tile metrics are written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStore } from '../../src/adapters/local-store';
import { createMemoryQueue } from '../../src/adapters/memory-queue';
import { parsePipelineConfig } from '../../src/pipeline/config';
import { runPipeline } from '../../src/pipeline/wiring';
import { topicNames } from '../../src/pipeline/context';
import { decodeMessage } from '../../src/pipeline/messages';
import { decodeParquet } from '../../src/catalogue/parquet';
import { decodeArrowIpc } from '../../src/catalogue/arrow-ipc';
import { tableLength } from '../../src/catalogue/table';
import { detectFitsImage } from '../../src/detect/detect-image';
import { testExecutor, testFitsImage } from './fixtures';

jest.setTimeout(120_000);

test('local pipeline: catalogues equal detect, poison is dead-lettered, metrics per tile', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pipe-'));
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  const images = { 'night1/img_a.fits': testFitsImage(1), 'night1/img_b.fits': testFitsImage(2, 200, 333, 8) };
  for (const [key, bytes] of Object.entries(images)) await store.put({ bucket: 'images', key }, bytes);
  await store.put({ bucket: 'images', key: 'night1/broken.fits' }, Buffer.from('SIMPLE  = this is not a FITS header'.padEnd(2880, ' ')));
  const config = parsePipelineConfig(
    {
      name: 'test-local',
      storage: { kind: 'local', root },
      queue: { kind: 'memory', topicPrefix: 'dst' },
      input: { bucket: 'images', prefix: 'night1/' },
      output: { bucket: 'results', prefix: 'out' },
      tiling: { tile: 128, overlap: 16 },
      retry: { maxAttempts: 2, backoffMs: 10 },
      progressIntervalSec: 0,
    },
    'test config', {}, root,
  );
  const queue = createMemoryQueue();
  const executor = await testExecutor();
  const report = await runPipeline(config, { queue, store, executor, log: (l) => process.env.DS_TEST_LOG && console.log(l), timeoutMs: 100_000 });
  expect(report.images).toBe(3);
  expect(report.ok).toBe(2);
  expect(report.failed).toBe(1);

  const topics = topicNames('dst');
  const dead = queue.messages(topics.deadLetter).map((m) => decodeMessage('dead-letter', m.value));
  expect(dead).toHaveLength(1);
  expect(dead[0].reason).toBe('corrupt-fits');
  expect(dead[0].imageId).toBe('broken');
  expect(dead[0].error).toMatch(/broken\.fits/);

  for (const [key, bytes] of Object.entries(images)) {
    const imageId = path.basename(key, '.fits');
    const event = report.events.find((e) => e.imageId === imageId)!;
    expect(event.status).toBe('ok');
    const table = decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.parquetKey }), 'pipeline catalogue');
    const arrow = decodeArrowIpc(await store.get({ bucket: 'results', key: event.catalogue!.arrowKey }), 'pipeline arrow');
    // detect on the same image, same model, same tiling: the reference.
    const file = path.join(root, `${imageId}.fits`);
    fs.writeFileSync(file, bytes);
    const reference = await detectFitsImage(file, { executor, tile: 128, overlap: 16 });
    const n = tableLength(reference.table);
    expect(n).toBeGreaterThan(0);
    expect(tableLength(table)).toBe(n);
    expect(event.sources).toBe(n);
    for (const column of ['source_id', 'x', 'y', 'ra_deg', 'dec_deg', 'peak_flux', 'local_rms', 'snr', 'cnn_peak', 'area_px', 'tile_id', 'flags']) {
      expect(Array.from(table.columns[column] as ArrayLike<unknown>)).toEqual(Array.from(reference.table.columns[column] as ArrayLike<unknown>));
      expect(Array.from(arrow.columns[column] as ArrayLike<unknown>)).toEqual(Array.from(reference.table.columns[column] as ArrayLike<unknown>));
    }
    expect(table.metadata['deepsource.tbd_parameters']).toBe(reference.table.metadata['deepsource.tbd_parameters']);

    const metrics = decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.metricsKey }), 'metrics');
    const tiles = reference.plan!.tiles.length;
    expect(tableLength(metrics)).toBe(tiles);
    expect(Array.from(metrics.columns.tile_id as Int32Array)).toEqual(Array.from({ length: tiles }, (_, i) => i));
    expect(Array.from(metrics.columns.attempts as Int32Array).every((a) => a === 1)).toBe(true);
    expect(Array.from(metrics.columns.blob_count as Int32Array).reduce((a, b) => a + b, 0)).toBe(n);
    for (const c of ['x0', 'y0', 'x1', 'y1']) {
      expect(Array.from(metrics.columns[c] as Int32Array)).toEqual(reference.plan!.tiles.map((t) => t.core[c as 'x0']));
    }
    for (const c of ['inference_ms', 'queue_wait_ms', 'noise_rms', 'max_cnn']) {
      expect(Array.from(metrics.columns[c] as Float64Array).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    }
  }
  await executor.close();
});

test('re-ingesting a replaced image (new etag) under the same run never mixes in tiles of the old version', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pipe-'));
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  const config = parsePipelineConfig(
    { name: 'reingest', storage: { kind: 'local', root }, queue: { kind: 'memory' }, input: { bucket: 'images' }, output: { bucket: 'results' }, tiling: { tile: 128, overlap: 16 }, progressIntervalSec: 0 },
    'test config', {}, root,
  );
  const executor = await testExecutor();
  await store.put({ bucket: 'images', key: 'field.fits' }, testFitsImage(7, 256, 256, 10));
  expect((await runPipeline(config, { store, executor, log: () => {} })).ok).toBe(1);
  const replacement = testFitsImage(8, 300, 200, 6);
  await store.put({ bucket: 'images', key: 'field.fits' }, replacement);
  const second = await runPipeline(config, { store, executor, log: () => {} });
  expect(second.ok).toBe(1);
  const table = decodeParquet(await store.get({ bucket: 'results', key: second.events[0].catalogue!.parquetKey }), 'second');
  const file = path.join(root, 'field.fits');
  fs.writeFileSync(file, replacement);
  const reference = await detectFitsImage(file, { executor, tile: 128, overlap: 16 });
  expect(Array.from(table.columns.source_id as string[])).toEqual(Array.from(reference.table.columns.source_id as string[]));
  expect(Array.from(table.columns.x as Float64Array)).toEqual(Array.from(reference.table.columns.x as Float64Array));
  await executor.close();
});
