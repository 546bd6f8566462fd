import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cropImage } from '../../src/core/image';
import { createSerialExecutor, createTilePool, TileError, TileQueueFullError, type TileExecutor } from '../../src/tiling/pool';
import { planTiles, type Tile } from '../../src/tiling/plan';
import { runTiledInference } from '../../src/tiling/stitch';
import type { TileRequest } from '../../src/tiling/tile-task';
import { CONV_RUNTIME_MODULE, createConvRuntime, maxAbsDiff, syntheticImage } from './helpers';

const SIGMA = 1;
const image = syntheticImage(181, 143, 21, [[90, 70, 40], [20, 120, 15]]);

function requestFor(tile: Tile, imageId = 'img_A.fits'): TileRequest {
  const w = tile.window;
  return {
    imageId,
    tileIndex: tile.index,
    window: w,
    core: tile.core,
    pixels: cropImage(image, w.x0, w.y0, w.x1, w.y1).data,
    noiseSigma: SIGMA,
  };
}

describe('createTilePool', () => {
  let modelDir: string;
  let pool: TileExecutor | undefined;

  beforeEach(() => {
    modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiling-pool-'));
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    fs.rmSync(modelDir, { recursive: true, force: true });
  });

  function startPool(extra: Partial<Parameters<typeof createTilePool>[0]> = {}): TileExecutor {
    pool = createTilePool({
      runtimeModule: CONV_RUNTIME_MODULE,
      runtimeExport: 'createConvRuntime',
      modelDir,
      workers: 2,
      maxQueue: 2,
      ...extra,
    });
    return pool;
  }

  it('gives results identical to the serial path, loading the model once per worker with 1 thread', async () => {
    const tiling = { tile: 64, overlap: 12 };
    const serial = await runTiledInference(image, {
      imageId: 'img_A.fits', noiseSigma: SIGMA, tiling, executor: createSerialExecutor(await createConvRuntime('')),
    });
    const pooled = await runTiledInference(image, { imageId: 'img_A.fits', noiseSigma: SIGMA, tiling, executor: startPool() });
    expect(pooled.plan.tiles.length).toBeGreaterThan(4);
    expect(maxAbsDiff(pooled.output.data, serial.output.data)).toBe(0);
    const loads = fs.readFileSync(path.join(modelDir, 'loads.log'), 'utf8').trim().split('\n');
    expect(loads.length).toBeLessThanOrEqual(2);
    expect(new Set(loads).size).toBe(loads.length); // one load per worker thread
    for (const line of loads) expect(line.split(' ')[1]).toBe('1'); // intraOpThreads = 1
  });

  it('transfers tile buffers instead of copying them', async () => {
    const executor = startPool();
    const request = requestFor(planTiles(181, 143, { tile: 64, overlap: 12 }).tiles[4]);
    const response = await executor.runTile(request);
    expect(request.pixels.byteLength).toBe(0); // detached on this side: moved, not copied
    expect(response.output.length).toBe((request.core.x1 - request.core.x0) * (request.core.y1 - request.core.y0));
    expect(response.output.buffer.byteLength).toBe(response.output.byteLength); // a whole, owned buffer
  });

  it('fails a tile with an error naming the tile and image, and keeps working', async () => {
    const executor = startPool();
    const tiles = planTiles(181, 143, { tile: 64, overlap: 12 }).tiles;
    fs.writeFileSync(path.join(modelDir, 'fail'), '');
    const failure = executor.runTile(requestFor(tiles[2], 'survey/img_9.fits'));
    await expect(failure).rejects.toThrow(TileError);
    await expect(failure).rejects.toThrow(/^tile 2 \(x \d+\.\.\d+, y 0\.\.\d+\) of image survey\/img_9\.fits failed: test runtime: forced failure$/);
    fs.unlinkSync(path.join(modelDir, 'fail'));
    const serial = await createSerialExecutor(await createConvRuntime('')).runTile(requestFor(tiles[2]));
    const again = await executor.runTile(requestFor(tiles[2]));
    expect(maxAbsDiff(again.output, serial.output)).toBe(0);
  });

  it('survives a worker killed by resourceLimits: names the tile, keeps other tiles, and a retry succeeds', async () => {
    const executor = startPool({ resourceLimits: { maxOldGenerationSizeMb: 128 } });
    const tiles = planTiles(181, 143, { tile: 64, overlap: 12 }).tiles;
    // The crash hook matches the window shape: tile 0 is 48×48, tiles 1 and 6 are 60×48 and 60×60.
    const victim = tiles[0];
    const others = [tiles[1], tiles[6]];
    const shape = (t: Tile) => `${t.window.x1 - t.window.x0}x${t.window.y1 - t.window.y0}`;
    expect(others.map(shape)).not.toContain(shape(victim));
    const vw = victim.window;
    fs.writeFileSync(path.join(modelDir, 'crash-once'), `${vw.x1 - vw.x0}x${vw.y1 - vw.y0}`);
    const attempts = [victim, ...others].map((t) => executor.runTile(requestFor(t)).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    ));
    const [crashed, ...rest] = await Promise.all(attempts);
    expect(crashed.ok).toBe(false);
    const err = (crashed as { e: unknown }).e;
    expect(err).toBeInstanceOf(TileError);
    expect((err as TileError).retriable).toBe(true);
    expect((err as TileError).tileIndex).toBe(0);
    expect((err as Error).message).toMatch(/^tile 0 \(x 0\.\.\d+, y 0\.\.\d+\) of image img_A\.fits its worker died: /);
    const serial = createSerialExecutor(await createConvRuntime(''));
    for (const [i, result] of rest.entries()) {
      expect(result.ok).toBe(true);
      const expected = await serial.runTile(requestFor(others[i]));
      expect(maxAbsDiff((result as { r: { output: Float32Array } }).r.output, expected.output)).toBe(0);
    }
    const retry = await executor.runTile(requestFor(victim));
    expect(maxAbsDiff(retry.output, (await serial.runTile(requestFor(victim))).output)).toBe(0);
  });

  it('retries a crashed tile inside runTiledInference and still stitches the exact output', async () => {
    const executor = startPool({ resourceLimits: { maxOldGenerationSizeMb: 128 } });
    const tiling = { tile: 64, overlap: 12 };
    const first = planTiles(181, 143, tiling).tiles[0].window;
    fs.writeFileSync(path.join(modelDir, 'crash-once'), `${first.x1 - first.x0}x${first.y1 - first.y0}`);
    const pooled = await runTiledInference(image, { imageId: 'img_A.fits', noiseSigma: SIGMA, tiling, executor });
    const serial = await runTiledInference(image, {
      imageId: 'img_A.fits', noiseSigma: SIGMA, tiling, executor: createSerialExecutor(await createConvRuntime('')),
    });
    expect(fs.existsSync(path.join(modelDir, 'crash-once'))).toBe(false); // the crash did happen
    expect(maxAbsDiff(pooled.output.data, serial.output.data)).toBe(0);
  });

  it('bounds the queue: more than workers + maxQueue tiles at once is a typed error', async () => {
    const executor = startPool({ workers: 1, maxQueue: 1 });
    expect(executor.capacity).toBe(2);
    const tiles = planTiles(181, 143, { tile: 64, overlap: 12 }).tiles;
    const accepted = [executor.runTile(requestFor(tiles[0])), executor.runTile(requestFor(tiles[1]))];
    await expect(executor.runTile(requestFor(tiles[2]))).rejects.toThrow(TileQueueFullError);
    await Promise.all(accepted);
    await expect(executor.runTile(requestFor(tiles[2]))).resolves.toBeDefined();
  });
});
