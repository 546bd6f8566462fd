/**
 * The PostgreSQL + q3c catalogue sink against a real server (infra/postgres/start.sh, which
 * `npm test` runs; called again here, it is idempotent, so the file also runs on its own).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPostgresSink, redactConnectionString, type PostgresCatalogueSink } from '../../src/adapters/postgres';
import { buildDetectionTable } from '../../src/catalogue/schema';
import { writeCatalogue } from '../../src/catalogue/write';
import { ServiceError } from '../../src/core/errors';
import { oddDetectionTable, ODD_STRINGS } from '../catalogue/fixtures';

const repo = path.resolve(__dirname, '../..');
let url: string;
let dir: string;
let sink: PostgresCatalogueSink;
const TABLE = `test_sources_${process.pid}`;

beforeAll(() => {
  const res = spawnSync('bash', [path.join(repo, 'infra/postgres/start.sh')], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`infra/postgres/start.sh failed: ${res.stderr}`);
  const state = process.env.DEEPSOURCE_INFRA_STATE ?? path.join(repo, '.infra');
  url = fs.readFileSync(path.join(state, 'postgres/url'), 'utf8').trim();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pg-'));
  sink = createPostgresSink({ connectionString: url, table: TABLE, batchSize: 3 });
});

afterAll(async () => {
  await sink.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_provenance`);
  await sink.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A field of n sources on a 10-arcsec grid around (ra0, dec0). */
function field(n: number, imageId: string, ra0 = 150, dec0 = -30) {
  const side = Math.ceil(Math.sqrt(n));
  const ra = Array.from({ length: n }, (_, i) => ra0 + ((i % side) * 10) / 3600 / Math.cos((dec0 * Math.PI) / 180));
  const dec = Array.from({ length: n }, (_, i) => dec0 + (Math.floor(i / side) * 10) / 3600);
  return buildDetectionTable(
    { image_id: imageId, x: ra.map((_, i) => i), y: ra.map((_, i) => i), ra_deg: ra, dec_deg: dec, peak_flux: ra.map(() => 1e-4), local_rms: ra.map(() => 1e-5), cnn_peak: ra.map(() => 0.9), area_px: ra.map(() => 5) },
    { modelName: 'natural', imageName: `${imageId}.fits` },
  );
}

test('creates the table with a q3c index, and loading twice does not duplicate', async () => {
  const table = oddDetectionTable();
  expect(await sink.upsert(table)).toEqual({ rows: ODD_STRINGS.length });
  expect(await sink.upsert(table)).toEqual({ rows: ODD_STRINGS.length });
  const [{ n }] = await sink.query(`SELECT count(*)::int AS n FROM ${TABLE}`);
  expect(n).toBe(ODD_STRINGS.length);
  const idx = await sink.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [TABLE]);
  expect(idx.map((r) => r.indexdef).join('\n')).toMatch(/q3c_ang2ipix\(ra_deg, dec_deg\)/);
  // Values and odd strings arrive intact; NaN stays NaN; bigint keeps all 64 bits.
  const rows = await sink.query(`SELECT image_id, peak_flux, _healpix_29::text AS hpx, cnn_peak FROM ${TABLE} ORDER BY ra_deg`);
  expect(rows.map((r) => r.image_id)).toEqual(ODD_STRINGS);
  expect(Number.isNaN(rows[3].peak_flux)).toBe(true);
  expect(rows.map((r) => r.hpx)).toEqual(Array.from(table.columns._healpix_29 as BigInt64Array, String));
  expect(rows[0].cnn_peak).toBeCloseTo(0.1, 6);
  const prov = await sink.query(`SELECT metadata FROM ${TABLE}_provenance WHERE image_id = $1`, [ODD_STRINGS[4]]);
  expect((prov[0].metadata as Record<string, string>)['deepsource.model_name']).toBe('natural');
});

test('an upsert replaces changed rows by source_id', async () => {
  const a = field(4, 'upd');
  await sink.upsert(a);
  const b = field(4, 'upd');
  (b.columns.flags as Int32Array)[2] = 4;
  await sink.upsert(b);
  const rows = await sink.query(`SELECT flags FROM ${TABLE} WHERE image_id = 'upd' ORDER BY source_id`);
  expect(rows.map((r) => r.flags).sort()).toEqual([0, 0, 0, 4]);
});

test('q3c_radial_query cone search finds exactly the sources inside the radius', async () => {
  await sink.upsert(field(100, 'cone', 200, 45));
  // Grid spacing 10 arcsec. A 15-arcsec cone on the corner source (0, 0) holds it, its neighbours
  // east and north at 10 arcsec and the diagonal one at 14.1 arcsec; (2, 0) at 20 arcsec is out.
  // A 12-arcsec cone drops the diagonal one.
  const hits = await sink.coneSearch(200, 45, 15 / 3600);
  expect(hits.filter((h) => h.image_id === 'cone')).toHaveLength(4);
  expect(hits[0].ra_deg).toBeCloseTo(200, 9);
  expect(hits[0].dec_deg).toBeCloseTo(45, 9);
  const tight = await sink.coneSearch(200, 45, 12 / 3600);
  expect(tight.filter((h) => h.image_id === 'cone')).toHaveLength(3);
  expect(await sink.coneSearch(10, 10, 1 / 3600)).toEqual([]);
});

test('duplicate source_ids within one catalogue keep the last row', async () => {
  const t = field(3, 'dup');
  const ids = t.columns.source_id as string[];
  ids[2] = ids[0];
  (t.columns.flags as Int32Array)[2] = 16;
  expect(await sink.upsert(t)).toEqual({ rows: 2 });
  const rows = await sink.query(`SELECT flags FROM ${TABLE} WHERE source_id = $1`, [ids[0]]);
  expect(rows).toEqual([{ flags: 16 }]);
});

test('a wrong password fails with a ServiceError whose message hides the password', async () => {
  const bad = url.replace(/:[^:@/]+@/, ':not-the-password@');
  const s = createPostgresSink({ connectionString: bad, table: TABLE });
  try {
    const err = await s.upsert(field(1, 'x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toMatch(/cannot connect to PostgreSQL at postgres:\/\/deepsource:\*\*\*@127\.0\.0\.1/);
    expect((err as Error).message).not.toContain('not-the-password');
  } finally {
    await s.close();
  }
});

test('redactConnectionString', () => {
  expect(redactConnectionString('postgres://u:s3cret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  expect(redactConnectionString('postgresql://u@h/db?password=s3cret&ssl=true')).toBe('postgresql://u@h/db?password=***&ssl=true');
  expect(redactConnectionString('host=h password=s3cret dbname=d')).toBe('host=h password=*** dbname=d');
});

describe('deepsource catalogue load (CLI)', () => {
  const cli = path.join(repo, 'bin/deepsource.js');
  const haveBuild = fs.existsSync(path.join(repo, 'dist/cli/commands/catalogue.js'));
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  (haveBuild ? test : test.skip)('loads a Parquet file twice without duplicates and never prints the password', async () => {
    const file = path.join(dir, 'cli.parquet');
    await writeCatalogue(file, field(25, 'cli'), 'parquet');
    const table = `${TABLE}_cli`;
    for (let i = 0; i < 2; i++) {
      const res = run(['catalogue', 'load', '--db', url, '--table', table, file]);
      expect([res.status, res.stderr]).toEqual([0, expect.any(String)]);
      expect(res.stdout).toMatch(/upserted 25 rows from 1 file\(s\)/);
      const password = new URL(url).password;
      expect(res.stdout + res.stderr).not.toContain(password);
    }
    const cone = run(['catalogue', 'cone', '--table', table, '--ra', '150', '--dec', '-30', '--radius-arcsec', '1'], { DEEPSOURCE_DB: url });
    expect(cone.status).toBe(0);
    expect(cone.stdout.trim().split('\n')).toHaveLength(1);
    const [{ n }] = await sink.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(n).toBe(25);
    await sink.query(`DROP TABLE ${table}, ${table}_provenance`);
  });

  (haveBuild ? test : test.skip)('user errors exit 2 with one line', () => {
    const res = run(['catalogue', 'load', '--db', 'mysql://x', 'a.parquet']);
    expect(res.status).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/--db must be a postgres:\/\/ connection string/);
    const missing = run(['catalogue', 'load', path.join(dir, 'none.parquet')], { DEEPSOURCE_DB: url });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/none\.parquet: no such file/);
  });
});

test('concurrent loaders on a new table: schema setup is serialised and every row lands once', async () => {
  const table = `${TABLE}_conc`;
  const sinks = [0, 1, 2].map(() => createPostgresSink({ connectionString: url, table, batchSize: 7 }));
  try {
    // Three loaders, overlapping catalogues (each shares rows with the next).
    const all = field(30, 'conc', 120, 10);
    const part = (a: number, b: number) => {
      const cols: Record<string, any> = {};
      for (const [k, v] of Object.entries(all.columns)) cols[k] = (v as any).slice(a, b);
      return { columns: cols, info: all.info, metadata: all.metadata };
    };
    const results = await Promise.all([sinks[0].upsert(part(0, 15)), sinks[1].upsert(part(10, 25)), sinks[2].upsert(part(20, 30))]);
    expect(results.map((r) => r.rows)).toEqual([15, 15, 10]);
    const [{ n }] = await sink.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(n).toBe(30);
  } finally {
    await sink.query(`DROP TABLE IF EXISTS ${table}, ${table}_provenance`);
    await Promise.all(sinks.map((s) => s.close()));
  }
});

test('a catalogue with an extra column extends the table', async () => {
  const t = field(2, 'extra');
  const withExtra = { ...t, columns: { ...t.columns, major_arcsec: Float64Array.from([1.5, 2.5]) } };
  await sink.upsert(withExtra);
  const rows = await sink.query(`SELECT major_arcsec FROM ${TABLE} WHERE image_id = 'extra' ORDER BY major_arcsec`);
  expect(rows.map((r) => r.major_arcsec)).toEqual([1.5, 2.5]);
});
