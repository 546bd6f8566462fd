/**
 * Tile executors: the piscina worker pool and the serial path. Both run `runTileTask`, so a test
 * can assert that they give identical results (STYLE.md habit 8).
 *
 * The pool is bounded (STYLE.md habit 9): at most `workers` tiles compute and `maxQueue` wait;
 * submitting beyond that is a typed error, and `runTiledInference` never does it because it waits
 * for a free slot (`capacity`) before reading the next tile. A tile whose worker fails or crashes
 * (e.g. out of memory under `resourceLimits`) rejects with an error naming the tile and the image;
 * piscina replaces the dead worker, the other tiles keep running, and resubmitting the tile works.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { DeepSourceError } from '../core/errors';
import type { CnnRuntime } from '../model/runtime';
import { describeTile } from './plan';
import { runTileTask, type TileRequest, type TileResponse, transferablesOf } from './tile-task';
import type { TileWorkerData } from './tile-worker';

/** Anything that runs tiles: the pool or the serial path. */
export interface TileExecutor {
  /** Tiles that may be in flight at once before `runTile` would overflow. */
  readonly capacity: number;
  /** Runs one tile. The request's pixel buffer is transferred (detached) when a pool runs it. */
  runTile(request: TileRequest): Promise<TileResponse>;
  close(): Promise<void>;
}

/** A tile failed: names the tile and the image. `retriable` when the worker died (crash, OOM). */
export class TileError extends DeepSourceError {
  constructor(
    readonly imageId: string,
    readonly tileIndex: number,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** More tiles submitted than the pool can hold; callers should wait for a free slot. */
export class TileQueueFullError extends DeepSourceError {}

/** The serial path: tiles run one at a time on the calling thread, with the same tile function. */
export function createSerialExecutor(runtime: CnnRuntime): TileExecutor {
  return {
    capacity: 1,
    async runTile(request) {
      try {
        return await runTileTask(runtime, request);
      } catch (err) {
        throw tileError(request, err, false);
      }
    },
    async close() {
      // The runtime belongs to the caller.
    },
  };
}

export interface TilePoolOptions {
  /**
   * Module exporting a CnnRuntimeFactory (absolute path or package name); see tile-worker.ts.
   * The composition root picks it, e.g. `require.resolve('../../adapters/onnx-runtime')` from
   * src/cli/commands/, with runtimeExport 'createOnnxRuntime'.
   */
  runtimeModule: string;
  /** The factory's export name, e.g. 'createOnnxRuntime'. */
  runtimeExport: string;
  modelDir: string;
  /** Worker threads (≥ 1). */
  workers: number;
  /** Tiles that may wait beyond those computing. */
  maxQueue: number;
  /** onnxruntime intra-op threads per worker; 1, so that workers, not threads, use the cores. */
  intraOpThreads?: number;
  /** Per-worker V8 limits; a worker exceeding them dies and its tile fails with a retriable error. */
  resourceLimits?: ResourceLimits;
  /** Worker entry file; defaults to defaultWorkerFile(). */
  workerFile?: string;
}

/** Starts a piscina pool of tile workers. Each loads the model once, on its first tile. */
export function createTilePool(options: TilePoolOptions): TileExecutor {
  if (!Number.isSafeInteger(options.workers) || options.workers < 1) {
    throw new DeepSourceError(`workers must be an integer >= 1, got ${options.workers}`);
  }
  if (!Number.isSafeInteger(options.maxQueue) || options.maxQueue < 0) {
    throw new DeepSourceError(`maxQueue must be an integer >= 0, got ${options.maxQueue}`);
  }
  const workerData: TileWorkerData = {
    runtimeModule: options.runtimeModule,
    runtimeExport: options.runtimeExport,
    modelDir: options.modelDir,
    intraOpThreads: options.intraOpThreads ?? 1,
  };
  const piscina = new Piscina({
    filename: options.workerFile ?? defaultWorkerFile(),
    minThreads: options.workers,
    maxThreads: options.workers,
    concurrentTasksPerWorker: 1,
    // maxQueue 0 would make piscina refuse work whenever all workers are busy; keep ≥ 1 slot.
    maxQueue: Math.max(1, options.maxQueue),
    idleTimeout: 60_000,
    workerData,
    resourceLimits: options.resourceLimits,
  });
  const capacity = options.workers + Math.max(1, options.maxQueue);
  let inFlight = 0;
  let closed = false;
  let destroyed: Promise<void> | undefined;
  return {
    capacity,
    async runTile(request) {
      if (closed) throw new DeepSourceError('the tile pool is closed');
      if (inFlight >= capacity) {
        throw new TileQueueFullError(`tile pool is full (${capacity} tiles in flight); wait for a tile to finish`);
      }
      inFlight++;
      try {
        return (await piscina.run(request, { transferList: transferablesOf(request) })) as TileResponse;
      } catch (err) {
        throw tileError(request, err, isWorkerDeath(err));
      } finally {
        inFlight--;
      }
    },
    async close() {
      // Idempotent: detect closes the pool as soon as the last image's CNN is done (its workers'
      // memory is not needed for TBD), and again on the way out.
      closed = true;
      destroyed ??= piscina.destroy();
      await destroyed;
    },
  };
}

function tileError(request: TileRequest, err: unknown, retriable: boolean): TileError {
  const reason = messageOf(err);
  const what = retriable ? 'its worker died' : 'failed';
  return new TileError(
    request.imageId,
    request.tileIndex,
    `${describeTile({ index: request.tileIndex, window: request.window })} of image ${request.imageId} ${what}: ${reason}`,
    { retriable, cause: err },
  );
}

/** Worker exit or resource-limit kills (ERR_WORKER_OUT_OF_MEMORY, "worker exited"): worth a retry. */
function isWorkerDeath(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY' || code === 'ERR_WORKER_INIT_FAILED') return true;
  return /worker (exited|terminated)|out of memory/i.test(messageOf(err));
}

/** An error's message; errors cloned from a worker may come from another realm, so no instanceof. */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * The worker entry file. From compiled code (dist/, the CLI) it is tile-worker.js next to this
 * module. When the TypeScript sources run directly (jest, which transforms .ts in-process only), a
 * worker thread cannot load .ts, so a small shim is written once to the OS temp directory: it
 * compiles .ts files on require with @swc/core (the compiler jest uses; a dev dependency) and loads
 * tile-worker.ts, so runtime modules may then be .ts paths too.
 */
export function defaultWorkerFile(): string {
  const compiled = path.join(__dirname, 'tile-worker.js');
  if (!__filename.endsWith('.ts')) {
    if (fs.existsSync(compiled)) return compiled;
    throw new DeepSourceError(`tile worker not found at ${compiled}; rebuild with \`npx tsc -p tsconfig.json\``);
  }
  const entry = path.join(__dirname, 'tile-worker.ts');
  const shim = [
    "'use strict';",
    "const fs = require('node:fs');",
    `const { transformSync } = require(${JSON.stringify(require.resolve('@swc/core', { paths: [__dirname] }))});`,
    "if (!require.extensions['.ts']) {",
    "  require.extensions['.ts'] = (module, filename) => {",
    "    const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {",
    "      filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });",
    '    module._compile(code, filename);',
    '  };',
    '}',
    `module.exports = require(${JSON.stringify(entry)});`,
    '',
  ].join('\n');
  const hash = createHash('sha256').update(shim).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `deepsource-tile-worker-${hash}.js`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, shim);
    fs.renameSync(tmp, file);
  }
  return file;
}
