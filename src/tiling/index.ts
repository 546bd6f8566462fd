/**
 * Tiled CNN inference for large images (issue 5): plan → strips → tiles → pool → stitch.
 *
 * Typical use (the `detect` command, the composition root, picks the runtime):
 *
 *     const tiling = resolveTilingOptions({ tile, overlap, workers });        // validates flags
 *     const executor = tiling.workers === 0
 *       ? createSerialExecutor(runtime)
 *       : createTilePool({ runtimeModule, runtimeExport: 'createOnnxRuntime', modelDir,
 *                          workers: tiling.workers, maxQueue: tiling.maxQueue });
 *     const { output } = await runTiledInference(fitsFile, { imageId, noiseSigma, executor, tiling });
 *     await executor.close();
 */
export * from './plan';
export * from './tile-task';
export * from './pool';
export * from './stitch';
