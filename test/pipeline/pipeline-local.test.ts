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
import { meteredStore } from '../../src/adapters/metered-store';
import { planTiles } from '../../src/tiling/plan';
import { readFitsImage } from '../../src/fits/read';
import { madSigma } from '../../src/core/stats';

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
    // noise_rms is the MAD sigma of the tile core's raw pixels (cores this small are not subsampled).
    const image = (await readFitsImage(file)).image;
    reference.plan!.tiles.forEach((t, i) => {
      const core: number[] = [];
      for (let y = t.core.y0; y < t.core.y1; y++) for (let x = t.core.x0; x < t.core.x1; x++) core.push(image.data[y * image.width + x]);
      expect(core.length).toBeLessThan(1 << 16);
      expect((metrics.columns.noise_rms as Float64Array)[i]).toBeCloseTo(madSigma(Float32Array.from(core)), 12);
    });
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

test('blank images (all NaN, all zero, constant) give detect\'s empty catalogue, not a dead letter; a normal image beside them completes', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pipe-'));
  const store = createLocalStore(root);
  await store.ensureBucket('images');
  const width = 200;
  const height = 180;
  const withPixels = (fill: number): Buffer => {
    // Same header as the normal test image (WCS, beam), only the pixels differ.
    const normal = testFitsImage(3, width, height, 0);
    const dataStart = normal.length - Math.ceil((width * height * 4) / 2880) * 2880;
    const out = Buffer.from(normal);
    for (let i = 0; i < width * height; i++) out.writeFloatBE(fill, dataStart + 4 * i);
    return out;
  };
  const images: Record<string, Buffer> = { 'nan.fits': withPixels(NaN), 'zero.fits': withPixels(0), 'constant.fits': withPixels(2.5e-3), 'normal.fits': testFitsImage(4, width, height, 6) };
  for (const [key, bytes] of Object.entries(images)) await store.put({ bucket: 'images', key }, bytes);
  const config = parsePipelineConfig(
    { name: 'blank', storage: { kind: 'local', root }, queue: { kind: 'memory', topicPrefix: 'blank' }, input: { bucket: 'images' }, output: { bucket: 'results' }, tiling: { tile: 128, overlap: 16 }, retry: { maxAttempts: 2, backoffMs: 10 }, progressIntervalSec: 0 },
    'test config', {}, root,
  );
  const queue = createMemoryQueue();
  const executor = await testExecutor();
  const report = await runPipeline(config, { queue, store, executor, log: () => {}, timeoutMs: 100_000 });
  expect(report.images).toBe(4);
  expect(report.failed).toBe(0);
  expect(report.ok).toBe(4);
  expect(queue.messages(topicNames('blank').deadLetter)).toHaveLength(0);
  // No tile of a blank image is computed: only the normal image's tiles went to the workers.
  const tileWork = queue.messages(topicNames('blank').tileWork).map((m) => decodeMessage('tile-work', m.value));
  expect(new Set(tileWork.map((w) => w.imageId))).toEqual(new Set(['normal']));
  for (const [key, bytes] of Object.entries(images)) {
    const imageId = path.basename(key, '.fits');
    const event = report.events.find((e) => e.imageId === imageId)!;
    const table = decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.parquetKey }), `${imageId} catalogue`);
    const file = path.join(root, key);
    fs.writeFileSync(file, bytes);
    const reference = await detectFitsImage(file, { executor, tile: 128, overlap: 16 });
    expect(event.sources).toBe(tableLength(reference.table));
    expect(tableLength(table)).toBe(tableLength(reference.table));
    expect(Object.keys(table.columns).sort()).toEqual(Object.keys(reference.table.columns).sort());
    expect(Array.from(table.columns.source_id as string[])).toEqual(Array.from(reference.table.columns.source_id as string[]));
    expect(table.metadata['deepsource.tbd_parameters']).toBe(reference.table.metadata['deepsource.tbd_parameters']);
    if (imageId === 'normal') {
      expect(tableLength(table)).toBeGreaterThan(0);
    } else {
      expect(tableLength(table)).toBe(0);
      expect(reference.noiseSigma).toBeNaN();
      // The per-tile metrics table exists and is empty: no tile was run.
      expect(tableLength(decodeParquet(await store.get({ bucket: 'results', key: event.catalogue!.metricsKey }), 'metrics'))).toBe(0);
    }
  }
  await executor.close();
});

test('workers read each band of rows once (row cache): store reads stay near 3x the image plus the tile outputs', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pipe-'));
  const plain = createLocalStore(root);
  await plain.ensureBucket('images');
  const width = 520;
  const height = 400;
  const bytes = testFitsImage(11, width, height, 10);
  await plain.put({ bucket: 'images', key: 'wide.fits' }, bytes);
  const store = meteredStore(plain);
  const config = parsePipelineConfig(
    { name: 'reads', storage: { kind: 'local', root }, queue: { kind: 'memory' }, input: { bucket: 'images' }, output: { bucket: 'results' }, tiling: { tile: 128, overlap: 16 }, progressIntervalSec: 0 },
    'test config', {}, root,
  );
  const executor = await testExecutor();
  const report = await runPipeline(config, { store, executor, log: () => {} });
  await executor.close();
  expect(report.ok).toBe(1);
  const plan = planTiles(width, height, { tile: 128, overlap: 16 });
  const bands = new Map(plan.tiles.map((t) => [`${t.window.y0}:${t.window.y1}`, t.window.y1 - t.window.y0]));
  const columns = plan.tiles.length / bands.size;
  expect(columns).toBeGreaterThanOrEqual(4);
  // One fetch per band, every other tile of the band from the cache.
  expect(report.rowCache.misses).toBe(bands.size);
  expect(report.rowCache.hits).toBe(plan.tiles.length - bands.size);
  const bandBytes = [...bands.values()].reduce((n, rows) => n + rows * width * 4, 0);
  // ingest's and assemble's whole-object GETs, the tile outputs (float32 cores), the band reads;
  // the rest (headers, sidecars, the plan record) is small.
  const expected = 2 * bytes.length + width * height * 4 + bandBytes;
  expect(store.traffic.bytesRead).toBeGreaterThanOrEqual(expected);
  expect(store.traffic.bytesRead).toBeLessThan(expected + 64 * 1024);
  // Without the cache the bands would be read once per tile column.
  expect(store.traffic.bytesRead).toBeLessThan(expected + (columns - 1) * bandBytes);
});
