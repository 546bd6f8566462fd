/**
 * PostgreSQL + q3c catalogue sink (issue 7). q3c (Koposov & Bartunov 2006) is the usual sky index
 * of astronomical PostgreSQL databases: a functional index on q3c_ang2ipix(ra, dec), used by
 * q3c_radial_query / q3c_join for cone searches and crossmatches.
 *
 * Loading is an upsert by source_id (INSERT ... ON CONFLICT DO UPDATE) in one transaction, so a
 * retried or repeated load leaves one row per source and a failed load leaves nothing. Rows go in
 * batches through unnest() over one array parameter per column: one round trip per batch and
 * no per-row SQL text.
 *
 * Connection strings may carry passwords: every message this file produces names the database
 * through redactConnectionString() only.
 */
import { Pool, type PoolClient } from 'pg';
import { ServiceError, UserInputError, describeValue } from '../core/errors';
import type { Column, ColumnTable } from '../catalogue/table';
import { DETECTION_COLUMNS, columnTypeOf, type ColumnType } from '../catalogue/schema';
import type { CatalogueSink } from './ports';

export interface PostgresSinkOptions {
  /** postgres://user:password@host:port/db */
  connectionString: string;
  /** Table name, optionally schema-qualified (default deepsource_sources). */
  table?: string;
  /** Rows per INSERT statement (default 10000). */
  batchSize?: number;
}

export const DEFAULT_POSTGRES_SINK_OPTIONS = Object.freeze({ table: 'deepsource_sources', batchSize: 10000 });

const SQL_TYPE: Record<ColumnType, { sql: string; array: string }> = {
  string: { sql: 'text', array: 'text[]' },
  float64: { sql: 'double precision', array: 'float8[]' },
  float32: { sql: 'real', array: 'float4[]' },
  int32: { sql: 'integer', array: 'int4[]' },
  int64: { sql: 'bigint', array: 'int8[]' },
  uint8: { sql: 'smallint', array: 'int2[]' },
};

/** Replaces the password in a postgres:// URL or a key=value connection string with ***. */
export function redactConnectionString(conn: string): string {
  return conn
    .replace(/^(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/i, '$1***@')
    .replace(/([?&]password=)[^&\s]*/gi, '$1***')
    .replace(/(\bpassword\s*=\s*)('[^']*'|[^\s&]+)/gi, '$1***');
}

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

function qualifiedTable(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name)) {
    throw new UserInputError(`PostgreSQL table name must be [schema.]identifier (letters, digits, _), got ${describeValue(name)}`);
  }
  return name.split('.').map(quoteIdent).join('.');
}

export class PostgresCatalogueSink implements CatalogueSink {
  readonly kind = 'postgres';
  readonly tableName: string;
  private readonly pool: Pool;
  private readonly table: string;
  private readonly provenanceTable: string;
  private readonly batchSize: number;
  private readonly where: string;

  constructor(options: PostgresSinkOptions) {
    if (!/^postgres(ql)?:\/\//i.test(options.connectionString)) {
      throw new UserInputError(`--db must be a postgres:// connection string, got ${describeValue(redactConnectionString(options.connectionString))}`);
    }
    this.tableName = options.table ?? DEFAULT_POSTGRES_SINK_OPTIONS.table;
    this.table = qualifiedTable(this.tableName);
    this.provenanceTable = qualifiedTable(`${this.tableName}_provenance`);
    this.batchSize = options.batchSize ?? DEFAULT_POSTGRES_SINK_OPTIONS.batchSize;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new UserInputError(`batch size must be an integer >= 1, got ${this.batchSize}`);
    this.where = redactConnectionString(options.connectionString);
    this.pool = new Pool({ connectionString: options.connectionString, max: 2 });
    // An idle client's error (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  private async withClient<T>(what: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new ServiceError(`cannot connect to PostgreSQL at ${this.where}: ${scrub((err as Error).message, this.where)}`, { cause: err });
    }
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof UserInputError || err instanceof ServiceError) throw err;
      const code = (err as { code?: string }).code;
      // Class 08 (connection), 40 (transaction rollback: serialisation, deadlock), 53 (resources), 57P (shutdown) are transient.
      const retriable = code === undefined || /^(08|40|53|57P)/.test(code);
      throw new ServiceError(`PostgreSQL ${what} failed at ${this.where}: ${scrub((err as Error).message, this.where)}`, { retriable, cause: err });
    } finally {
      client.release();
    }
  }

  async ensureSchema(columns?: Readonly<Record<string, Column>>): Promise<void> {
    await this.withClient('schema setup', async (client) => {
      // Concurrent loaders (pipeline workers) would race on CREATE ... IF NOT EXISTS, which is
      // not atomic in PostgreSQL: serialise schema setup with a transaction-scoped advisory lock.
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`deepsource-schema:${this.tableName}`]);
        await this.createSchema(client, columns);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  private async createSchema(client: PoolClient, columns?: Readonly<Record<string, Column>>): Promise<void> {
    await client.query('CREATE EXTENSION IF NOT EXISTS q3c');
    // Without a table to go by, the detection catalogue schema (CONTRACT.md).
    const types: [string, ColumnType][] = columns
      ? Object.entries(columns).map(([name, col]) => [name, columnTypeOf(col)])
      : DETECTION_COLUMNS.map((c) => [c.name, c.type]);
    const defs = types.map(([name, type]) => `${quoteIdent(name)} ${SQL_TYPE[type].sql}${name === 'source_id' ? ' PRIMARY KEY' : ''}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (${defs.join(', ')}, loaded_at timestamptz NOT NULL DEFAULT now())`);
    // A catalogue with extra columns extends an existing table rather than failing the load.
    // (Only missing columns: ALTER TABLE takes an exclusive lock even when it changes nothing.)
    const existing = await client.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, [this.table]);
    const have = new Set(existing.rows.map((r: { attname: string }) => r.attname));
    for (const [name, type] of types) {
      if (!have.has(name)) await client.query(`ALTER TABLE ${this.table} ADD COLUMN ${quoteIdent(name)} ${SQL_TYPE[type].sql}`);
    }
    const base = this.tableName.split('.').pop()!;
    await client.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${base}_q3c_idx`)} ON ${this.table} (q3c_ang2ipix(ra_deg, dec_deg))`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.provenanceTable} (image_id text PRIMARY KEY, metadata jsonb NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())`);
  }

  async upsert(table: ColumnTable): Promise<{ rows: number }> {
    const names = Object.keys(table.columns);
    for (const required of ['source_id', 'ra_deg', 'dec_deg']) {
      if (!names.includes(required)) throw new UserInputError(`catalogue has no ${required} column; the database sink needs source_id, ra_deg and dec_deg`);
    }
    if (!Array.isArray(table.columns['source_id'])) throw new UserInputError('catalogue column source_id must be strings');
    await this.ensureSchema(table.columns);
    const n = table.columns['source_id'].length;
    const ids = table.columns['source_id'] as string[];
    // ON CONFLICT cannot touch one row twice in a statement: keep the last row per source_id.
    const last = new Map<string, number>();
    for (let i = 0; i < n; i++) last.set(ids[i], i);
    const order = last.size === n ? null : Int32Array.from([...last.values()].sort((a, b) => a - b));
    const rows = order ? order.length : n;
    const cols = names.map((name) => ({ name, col: table.columns[name], type: columnTypeOf(table.columns[name]) }));
    const insertCols = cols.map((c) => quoteIdent(c.name)).join(', ');
    const unnest = cols.map((c, i) => `$${i + 1}::${SQL_TYPE[c.type].array}`).join(', ');
    const updates = cols.filter((c) => c.name !== 'source_id').map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
    updates.push('loaded_at = now()');
    const sql =
      `INSERT INTO ${this.table} (${insertCols}) SELECT * FROM unnest(${unnest}) ` +
      `ON CONFLICT (source_id) DO UPDATE SET ${updates.join(', ')}`;
    await this.withClient('upsert', async (client) => {
      await client.query('BEGIN');
      try {
        for (let start = 0; start < rows; start += this.batchSize) {
          const end = Math.min(rows, start + this.batchSize);
          const params = cols.map((c) => sliceForPg(c.col, start, end, order));
          await client.query(sql, params);
        }
        const imageIds = table.columns['image_id'];
        const images = Array.isArray(imageIds) ? [...new Set(imageIds)] : [];
        if (images.length > 0) {
          await client.query(
            `INSERT INTO ${this.provenanceTable} (image_id, metadata) SELECT unnest($1::text[]), $2::jsonb ` +
              `ON CONFLICT (image_id) DO UPDATE SET metadata = EXCLUDED.metadata, loaded_at = now()`,
            [images, JSON.stringify(table.metadata)],
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    return { rows };
  }

  /** Sources within radiusDeg of (ra, dec), by q3c_radial_query (uses the q3c index). */
  async coneSearch(raDeg: number, decDeg: number, radiusDeg: number): Promise<Record<string, unknown>[]> {
    return this.withClient('cone search', async (client) => {
      const res = await client.query(
        `SELECT * FROM ${this.table} WHERE q3c_radial_query(ra_deg, dec_deg, $1, $2, $3) ORDER BY q3c_dist(ra_deg, dec_deg, $1, $2)`,
        [raDeg, decDeg, radiusDeg],
      );
      return res.rows as Record<string, unknown>[];
    });
  }

  /** Runs a read-only query (tests, tools). */
  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.withClient('query', async (client) => (await client.query(sql, params)).rows as Record<string, unknown>[]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** One column slice as a JS array node-pg serialises into a PostgreSQL array literal. */
function sliceForPg(col: Column, start: number, end: number, order: Int32Array | null): unknown[] {
  const out = new Array<unknown>(end - start);
  if (col instanceof BigInt64Array) {
    for (let i = start; i < end; i++) out[i - start] = col[order ? order[i] : i].toString();
  } else {
    // NaN and ±Infinity become 'NaN' / 'Infinity' / '-Infinity', which float8 and float4 accept.
    for (let i = start; i < end; i++) out[i - start] = (col as ArrayLike<unknown>)[order ? order[i] : i];
  }
  return out;
}

/** Removes a connection string (and its password) from a driver message. */
function scrub(message: string, redacted: string): string {
  return redactConnectionString(message).replace(/postgres(ql)?:\/\/\S+/gi, redacted);
}

export function createPostgresSink(options: PostgresSinkOptions): PostgresCatalogueSink {
  return new PostgresCatalogueSink(options);
}
