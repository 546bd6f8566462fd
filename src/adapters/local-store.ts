/**
 * ObjectStore on a local directory (the embedded default, pipelines/local.yaml): bucket = a
 * sub-directory of `root`, key = a relative path under it. Writes go to a temporary file that is
 * renamed into place, so a reader (or a crash) never sees half an object.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserInputError } from '../core/errors';
import { ObjectNotFoundError, type ByteRange, type ObjectInfo, type ObjectRef, type ObjectStore } from './ports';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function createLocalStore(root: string): ObjectStore {
  const base = path.resolve(root);

  /** Maps a ref to a file path, refusing anything that would leave the bucket directory. */
  function filePath(ref: ObjectRef): string {
    checkBucket(ref.bucket);
    if (ref.key === '' || ref.key.startsWith('/') || ref.key.includes('\0') || ref.key.split('/').some((s) => s === '..' || s === '.' || s === '')) {
      throw new UserInputError(`object key ${JSON.stringify(ref.key)} is not a clean relative path`);
    }
    const bucketDir = path.join(base, ref.bucket);
    const file = path.resolve(bucketDir, ref.key);
    if (!file.startsWith(bucketDir + path.sep)) throw new UserInputError(`object key ${JSON.stringify(ref.key)} escapes bucket ${ref.bucket}`);
    return file;
  }

  async function info(file: string, key: string): Promise<ObjectInfo | null> {
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return null;
      return { key, size: st.size, etag: `${st.size}-${Math.round(st.mtimeMs)}` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  return {
    kind: 'local',
    async get(ref) {
      try {
        return new Uint8Array(await fs.readFile(filePath(ref)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(ref, { cause: err });
        throw err;
      }
    },
    async getRange(ref, range: ByteRange) {
      checkRange(range);
      let handle;
      try {
        handle = await fs.open(filePath(ref), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(ref, { cause: err });
        throw err;
      }
      try {
        const size = (await handle.stat()).size;
        const end = Math.min(range.end, size);
        const out = new Uint8Array(Math.max(0, end - range.start));
        let done = 0;
        while (done < out.length) {
          const { bytesRead } = await handle.read(out, done, out.length - done, range.start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return out.subarray(0, done);
      } finally {
        await handle.close();
      }
    },
    async put(ref, body) {
      const file = filePath(ref);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await fs.writeFile(tmp, body);
        await fs.rename(tmp, file);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    },
    async head(ref) {
      return info(filePath(ref), ref.key);
    },
    async list(bucket, prefix) {
      checkBucket(bucket);
      const bucketDir = path.join(base, bucket);
      const out: ObjectInfo[] = [];
      async function walk(dir: string, rel: string): Promise<void> {
        let entries;
        try {
          entries = await fs.readdir(dir, { withFileTypes: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw err;
        }
        for (const entry of entries) {
          const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
          if (entry.isDirectory()) {
            // Only descend where the prefix can still match.
            if (prefix.startsWith(key + '/') || key.startsWith(prefix) || (key + '/').startsWith(prefix)) await walk(path.join(dir, entry.name), key);
          } else if (entry.isFile() && key.startsWith(prefix) && !entry.name.endsWith('.tmp')) {
            const i = await info(path.join(dir, entry.name), key);
            if (i) out.push(i);
          }
        }
      }
      await walk(bucketDir, '');
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async ensureBucket(bucket) {
      checkBucket(bucket);
      await fs.mkdir(path.join(base, bucket), { recursive: true });
    },
    async close() {},
  };
}

function checkBucket(bucket: string): void {
  if (!BUCKET_PATTERN.test(bucket) || bucket.includes('..')) {
    throw new UserInputError(`bucket name must be 3-63 characters of a-z, 0-9, '.' and '-', got ${JSON.stringify(bucket)}`);
  }
}

function checkRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new UserInputError(`byte range must satisfy 0 <= start <= end, got [${range.start}, ${range.end})`);
  }
}
