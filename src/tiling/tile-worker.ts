/**
 * The piscina worker: loads the CNN runtime once per thread and runs the one tile function.
 *
 * Tiling may not choose a concrete runtime (ARCHITECTURE.md), so the composition root names it in
 * `workerData` as a module path plus export name (a CnnRuntimeFactory); this worker require()s it.
 * Each worker asks for one intra-op thread: parallelism comes from the pool, one tile per core.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { CnnRuntime, CnnRuntimeFactory } from '../model/runtime';
import { DeepSourceError } from '../core/errors';
import { runTileTask, type TileRequest, type TileResponse, transferablesOf } from './tile-task';

/** What the pool passes to every worker at start-up. */
export interface TileWorkerData {
  /** Absolute path or package name of a module exporting a CnnRuntimeFactory. */
  readonly runtimeModule: string;
  /** The export to call, e.g. 'createOnnxRuntime'. */
  readonly runtimeExport: string;
  readonly modelDir: string;
  readonly intraOpThreads: number;
}

let runtime: Promise<CnnRuntime> | undefined;

function loadRuntime(data: TileWorkerData): Promise<CnnRuntime> {
  if (!runtime) {
    runtime = (async () => {
      let factory: unknown;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        factory = (require(data.runtimeModule) as Record<string, unknown>)[data.runtimeExport];
      } catch (err) {
        throw new DeepSourceError(`cannot load the CNN runtime module ${data.runtimeModule}: ${(err as Error).message}`, { cause: err });
      }
      if (typeof factory !== 'function') {
        throw new DeepSourceError(`${data.runtimeModule} does not export a runtime factory named ${data.runtimeExport}`);
      }
      return (factory as CnnRuntimeFactory)(data.modelDir, { intraOpThreads: data.intraOpThreads });
    })();
    // A failed load is retried by the next task rather than cached forever.
    runtime.catch(() => {
      runtime = undefined;
    });
  }
  return runtime;
}

export default async function runTileInWorker(request: TileRequest): Promise<unknown> {
  const response = await runTileTask(await loadRuntime(workerData as TileWorkerData), request);
  return move(movable(response));
}

/** Wraps a response so piscina transfers its output buffer to the main thread instead of copying. */
function movable(response: TileResponse): Parameters<typeof move>[0] {
  const wrapper = {
    get [transferableSymbol]() {
      return transferablesOf(response);
    },
    get [valueSymbol]() {
      return response;
    },
  };
  return wrapper as unknown as Parameters<typeof move>[0];
}
