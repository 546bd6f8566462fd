/** Library entry point: re-exports added as modules land. */
export * from './core/image';
export * from './core/errors';
