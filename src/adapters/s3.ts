/**
 * ObjectStore on an S3-compatible server (@aws-sdk/client-s3). `endpoint` + `forcePathStyle` point it
 * at a non-AWS server (versitygw in the tests). Credentials are never read from the repository: they
 * come from the SDK's standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
 * ~/.aws, web identity, instance metadata) unless the caller passes explicit ones from its own
 * environment. Error messages name the bucket and key, never a credential.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ServiceError, UserInputError } from '../core/errors';
import { ObjectNotFoundError, type ObjectInfo, type ObjectRef, type ObjectStore } from './ports';
import { redactSecrets } from './redact';

export interface S3StoreOptions {
  /** e.g. http://127.0.0.1:7070 for a local server; omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (http://host/bucket/key); needed by most non-AWS servers. */
  forcePathStyle?: boolean;
  /** Explicit credentials (e.g. from the environment by the caller); omit to use the SDK chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK-level attempts per request (the pipeline retries whole tiles on top of this). */
  maxAttempts?: number;
  /** Milliseconds before a request is abandoned. */
  requestTimeoutMs?: number;
}

export function createS3Store(options: S3StoreOptions = {}): ObjectStore {
  if (options.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(options.endpoint)) {
    throw new UserInputError(`s3 endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  const config: S3ClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    maxAttempts: options.maxAttempts ?? 2,
    // Only checksum when the operation requires it: non-AWS servers differ in CRC support.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  const client = new S3Client(config);
  const timeout = options.requestTimeoutMs ?? 60_000;
  const secrets = [options.credentials?.secretAccessKey, options.credentials?.sessionToken, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN];

  async function call<T>(what: string, ref: ObjectRef | { bucket: string; key?: string }, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(AbortSignal.timeout(timeout));
    } catch (err) {
      throw mapError(err, what, ref, secrets);
    }
  }

  return {
    kind: 's3',
    async get(ref) {
      return call('GET', ref, async (abortSignal) => {
        const out = await client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { abortSignal });
        return readBody(out.Body);
      });
    },
    async getRange(ref, range) {
      if (!(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
        throw new UserInputError(`byte range must satisfy 0 <= start <= end, got [${range.start}, ${range.end})`);
      }
      if (range.end === range.start) return new Uint8Array(0);
      return call('GET range', ref, async (abortSignal) => {
        const out = await client.send(
          new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${range.start}-${range.end - 1}` }),
          { abortSignal },
        );
        return readBody(out.Body);
      });
    },
    async put(ref, body, opts = {}) {
      await call('PUT', ref, (abortSignal) =>
        client.send(
          new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentLength: body.byteLength, ContentType: opts.contentType ?? 'application/octet-stream' }),
          { abortSignal },
        ),
      );
    },
    async head(ref) {
      try {
        const out = await call('HEAD', ref, (abortSignal) => client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { abortSignal }));
        return { key: ref.key, size: Number(out.ContentLength ?? 0), etag: String(out.ETag ?? '') };
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return null;
        throw err;
      }
    },
    async list(bucket, prefix) {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const page = await call('LIST', { bucket, key: prefix }, (abortSignal) =>
          client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key !== undefined) out.push({ key: o.Key, size: Number(o.Size ?? 0), etag: String(o.ETag ?? '') });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async ensureBucket(bucket) {
      try {
        await call('HEAD bucket', { bucket }, (abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }));
        return;
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
      }
      try {
        await call('CREATE bucket', { bucket }, (abortSignal) => client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal }));
      } catch (err) {
        // Another process created it in between.
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(String((err as Error).message))) throw err;
      }
    },
    async close() {
      client.destroy();
    },
  };
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> };
  if (typeof b.transformToByteArray === 'function') return b.transformToByteArray();
  throw new ServiceError('S3 response body has no byte reader');
}

/** Turns an SDK error into our taxonomy: missing → ObjectNotFoundError, throttling/5xx/network → retriable. */
function mapError(err: unknown, what: string, ref: { bucket: string; key?: string }, secrets: readonly (string | undefined)[]): Error {
  if (err instanceof UserInputError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const where = ref.key === undefined ? ref.bucket : `${ref.bucket}/${ref.key}`;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket') {
    return new ObjectNotFoundError({ bucket: ref.bucket, key: ref.key ?? '' }, { cause: err });
  }
  const retriable =
    status === undefined || status >= 500 || status === 429 || status === 408 ||
    /Timeout|Throttl|SlowDown|ECONNREFUSED|ECONNRESET|EPIPE|socket|AbortError/i.test(`${name} ${e.code ?? ''} ${e.message ?? ''}`);
  const message = redactSecrets(`S3 ${what} ${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`, secrets);
  return new ServiceError(message, { retriable, cause: err });
}
