/**
 * Versioned wire messages of the streaming pipeline (issue 6). Each message is canonical JSON
 * (keys sorted, UTF-8) carrying `schema: "deepsource.<name>/<version>"`, validated against
 * schemas/v<version>/<name>.schema.json (ajv) when produced and again when consumed.
 * Golden fixtures (schemas/fixtures/) pin the bytes of each version.
 *
 * Tiles never travel inside messages: a 4096² float32 image is 64 MiB. Messages carry references
 * (bucket, key, etag, tile bounds, sha256 of outputs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { DeepSourceError } from '../core/errors';

export const MESSAGE_KINDS = ['image', 'tile-work', 'tile-result', 'catalogue', 'dead-letter'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface ObjectPointer {
  bucket: string;
  key: string;
}
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface ImageMessage {
  schema: 'deepsource.image/1';
  runId: string;
  imageId: string;
  source: ObjectPointer;
  announcedAt: number;
}

export interface TileWorkMessage {
  schema: 'deepsource.tile-work/1';
  runId: string;
  imageId: string;
  source: ObjectPointer & { etag: string; size: number };
  tile: { index: number; count: number; window: Box; core: Box };
  tiling: { tile: number; overlap: number };
  noiseSigma: number;
  output: ObjectPointer;
  announcedAt: number;
  enqueuedAt: number;
}

export interface TileMetrics {
  workerId: string;
  inferenceMs: number;
  queueWaitMs: number;
  noiseRms: number | null;
  maxCnn: number | null;
  attempts: number;
}

export interface TileResultMessage {
  schema: 'deepsource.tile-result/1';
  runId: string;
  imageId: string;
  tileIndex: number;
  tileCount: number;
  status: 'ok' | 'failed';
  output?: ObjectPointer & { sha256: string; bytes: number };
  core?: Box;
  reason?: string;
  metrics?: TileMetrics;
  announcedAt: number;
}

export interface CatalogueMessage {
  schema: 'deepsource.catalogue/1';
  runId: string;
  imageId: string;
  status: 'ok' | 'failed';
  sources?: number;
  catalogue?: { bucket: string; parquetKey: string; arrowKey: string; metricsKey: string };
  reason?: string;
  latencyMs?: number;
  announcedAt?: number;
  at: number;
}

export type DeadLetterReason = 'schema' | 'corrupt-fits' | 'missing-object' | 'source-changed' | 'retries-exhausted' | 'tile-failed' | 'bad-image';

export interface DeadLetterMessage {
  schema: 'deepsource.dead-letter/1';
  stage: 'ingest' | 'worker' | 'assemble';
  reason: DeadLetterReason;
  error: string;
  at: number;
  imageId?: string;
  original: { topic: string; partition: number; offset: string; key: string | null; value: string; truncated: boolean };
}

export interface MessageTypes {
  image: ImageMessage;
  'tile-work': TileWorkMessage;
  'tile-result': TileResultMessage;
  catalogue: CatalogueMessage;
  'dead-letter': DeadLetterMessage;
}

/** A message that does not parse or does not match its schema: never retriable, dead-lettered. */
export class SchemaError extends DeepSourceError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** schemas/ of the repository or package: found upwards from this file (src/, dist/ or a bench build). */
export const SCHEMAS_DIR = findSchemasDir();

function findSchemasDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'schemas');
    if (fs.existsSync(path.join(candidate, 'v1', 'image.schema.json'))) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', 'schemas');
}
export const CURRENT_VERSION = 1;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
const validators = new Map<string, ValidateFunction>();

function validator(kind: MessageKind, version: number): ValidateFunction {
  const id = `${kind}/${version}`;
  let v = validators.get(id);
  if (!v) {
    const file = path.join(SCHEMAS_DIR, `v${version}`, `${kind}.schema.json`);
    if (!fs.existsSync(file)) throw new SchemaError(`no schema for deepsource.${kind} version ${version} (${file})`);
    v = ajv.compile(JSON.parse(fs.readFileSync(file, 'utf8')));
    validators.set(id, v);
  }
  return v;
}

function check(kind: MessageKind, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) throw new SchemaError(`${where}: expected a JSON object for deepsource.${kind}, got ${typeof value}`);
  const tag = (value as { schema?: unknown }).schema;
  const m = typeof tag === 'string' ? /^deepsource\.([a-z-]+)\/(\d+)$/.exec(tag) : null;
  if (!m || m[1] !== kind) throw new SchemaError(`${where}: expected schema "deepsource.${kind}/N", got ${JSON.stringify(tag)}`);
  const v = validator(kind, Number(m[2]));
  if (!v(value)) {
    const errors = (v.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new SchemaError(`${where}: deepsource.${kind}/${m[2]} invalid: ${errors}`);
  }
}

/** Canonical JSON: object keys sorted at every level, so equal messages have equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** Validates and encodes a message (validation on produce). */
export function encodeMessage<K extends MessageKind>(kind: K, message: MessageTypes[K]): Uint8Array {
  check(kind, message, `outgoing ${kind} message`);
  return new TextEncoder().encode(canonicalJson(message));
}

/** Decodes and validates a message (validation on consume). Throws SchemaError. */
export function decodeMessage<K extends MessageKind>(kind: K, bytes: Uint8Array, where = `${kind} message`): MessageTypes[K] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new SchemaError(`${where}: not UTF-8 JSON (${(err as Error).message})`);
  }
  check(kind, value, where);
  return value as MessageTypes[K];
}
