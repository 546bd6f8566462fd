/**
 * An ObjectStore decorator that counts requests and bytes (issue 6 benchmark: S3 bytes read versus
 * image bytes). Pure bookkeeping: every call goes to the wrapped store unchanged.
 */
import type { ObjectStore } from './ports';

export interface StoreTraffic {
  getRequests: number;
  /** Bytes returned by get and getRange. */
  bytesRead: number;
  putRequests: number;
  bytesWritten: number;
  headRequests: number;
  listRequests: number;
}

export interface MeteredStore extends ObjectStore {
  readonly traffic: StoreTraffic;
}

export function emptyTraffic(): StoreTraffic {
  return { getRequests: 0, bytesRead: 0, putRequests: 0, bytesWritten: 0, headRequests: 0, listRequests: 0 };
}

export function meteredStore(inner: ObjectStore): MeteredStore {
  const traffic = emptyTraffic();
  return {
    kind: inner.kind,
    traffic,
    async get(ref) {
      traffic.getRequests++;
      const bytes = await inner.get(ref);
      traffic.bytesRead += bytes.byteLength;
      return bytes;
    },
    async getRange(ref, range) {
      traffic.getRequests++;
      const bytes = await inner.getRange(ref, range);
      traffic.bytesRead += bytes.byteLength;
      return bytes;
    },
    async put(ref, body, options) {
      traffic.putRequests++;
      await inner.put(ref, body, options);
      traffic.bytesWritten += body.byteLength;
    },
    async head(ref) {
      traffic.headRequests++;
      return inner.head(ref);
    },
    async list(bucket, prefix) {
      traffic.listRequests++;
      return inner.list(bucket, prefix);
    },
    ensureBucket: (bucket) => inner.ensureBucket(bucket),
    close: () => inner.close(),
  };
}
