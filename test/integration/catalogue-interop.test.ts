/**
 * Interop with the clients astronomers use (issue 7): pyarrow and DuckDB read our Parquet, astropy
 * reads our FITS table and VOTable with the right units, astropy-healpix agrees with our HEALPix.
 * Needs python3 with pyarrow, duckdb, astropy, astropy-healpix (infra/python, infra/postgres setup).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeCatalogue } from '../../src/catalogue/write';
import { readCatalogue } from '../../src/catalogue/read';
import { healpixNested29 } from '../../src/catalogue/ids';
import { Random } from '../../src/core/random';
import { emptyTable, oddDetectionTable, ODD_STRINGS } from '../catalogue/fixtures';

function python(code: string, ...args: string[]): any {
  const res = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`python3 failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** What a FITS reader shows for the odd strings that need escapes (hand-written). */
const FITS_SHOWN: Record<string, string> = {
  'line\nbreak\r\nand\ttab': 'line\\u000abreak\\u000d\\u000aand\\u0009tab',
  'ünïcödé – 東京 🚀': '\\u00fcn\\u00efc\\u00f6d\\u00e9 \\u2013 \\u6771\\u4eac \\ud83d\\ude80',
  'back\\slash and & trailing space ': 'back\\\\slash and & trailing space ',
};

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-interop-'));
  for (const f of ['parquet', 'fits', 'votable', 'csv'] as const) {
    await writeCatalogue(path.join(dir, `odd.${f}`), oddDetectionTable(), f);
    await writeCatalogue(path.join(dir, `empty.${f}`), emptyTable(), f);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pyarrow reads our Parquet', () => {
  const code = `
import sys, json, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
md = pq.read_metadata(sys.argv[1])
kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items() if k != b'ARROW:schema'}
out = {
  'rows': t.num_rows,
  'types': {f.name: str(f.type) for f in t.schema},
  'field_units': {f.name: (f.metadata or {}).get(b'unit', b'').decode() for f in t.schema},
  'schema_meta': {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items() if k != b'ARROW:schema'},
  'kv': kv,
  'compression': md.row_group(0).column(0).compression if md.num_row_groups else None,
  'image_id': t.column('image_id').to_pylist(),
  'hpx': [str(v) for v in t.column('_healpix_29').to_pylist()],
  'peak_flux': [None if v != v else v for v in t.column('peak_flux').to_pylist()],
  'flags': t.column('flags').to_pylist(),
}
print(json.dumps(out))`;

  test('same rows, types and metadata', () => {
    const table = oddDetectionTable();
    const r = python(code, path.join(dir, 'odd.parquet'));
    expect(r.rows).toBe(ODD_STRINGS.length);
    expect(r.types).toEqual({
      source_id: 'string', name: 'string', image_id: 'string', x: 'double', y: 'double', ra_deg: 'double', dec_deg: 'double',
      peak_flux: 'double', local_rms: 'double', snr: 'double', cnn_peak: 'float', area_px: 'int32', tile_id: 'int32', flags: 'int32', _healpix_29: 'int64',
    });
    expect(r.field_units.ra_deg).toBe('deg');
    expect(r.field_units.peak_flux).toBe('Jy/beam');
    expect(r.compression).toBe('ZSTD');
    expect(r.image_id).toEqual(ODD_STRINGS);
    expect(r.hpx).toEqual(Array.from(table.columns._healpix_29 as BigInt64Array, String));
    const peak = Array.from(table.columns.peak_flux as Float64Array, (v) => (Number.isNaN(v) ? null : v));
    expect(r.peak_flux).toEqual(peak);
    expect(r.flags).toEqual(Array.from(table.columns.flags as Int32Array));
    for (const [k, v] of Object.entries(table.metadata)) {
      expect([k, r.kv[k]]).toEqual([k, v]);
      expect([k, r.schema_meta[k]]).toEqual([k, v]);
    }
    expect(JSON.parse(r.kv['deepsource.columns']).ra_deg.ucd).toBe('pos.eq.ra;meta.main');
  });

  test('an empty catalogue is a valid file with the full schema', () => {
    const r = python(code, path.join(dir, 'empty.parquet'));
    expect(r.rows).toBe(0);
    expect(Object.keys(r.types)).toHaveLength(15);
    expect(r.kv['deepsource.image_name']).toBe('empty.fits');
  });
});

describe('DuckDB reads our Parquet (the embedded catalogue database)', () => {
  test('Python duckdb: rows, a sky-box query, key-value metadata', () => {
    const r = python(
      `
import sys, json, duckdb
f = sys.argv[1]
con = duckdb.connect()
n = con.execute("select count(*) from read_parquet(?)", [f]).fetchone()[0]
box = con.execute("select name from read_parquet(?) where ra_deg between 150.0015 and 150.0045 order by ra_deg", [f]).fetchall()
kv = dict((k.decode(), v.decode()) for k, v in con.execute("select key, value from parquet_kv_metadata(?)", [f]).fetchall())
types = dict(con.execute("select column_name, column_type from (describe select * from read_parquet(?))", [f]).fetchall())
print(json.dumps({'n': n, 'box': [b[0] for b in box], 'model': kv.get('deepsource.model_name'), 'image': kv.get('deepsource.image_name'), 'types': types}))`,
      path.join(dir, 'odd.parquet'),
    );
    expect(r.n).toBe(ODD_STRINGS.length);
    // ra = 150 + i*0.001: rows 2, 3, 4 fall inside the box.
    expect(r.box).toEqual((oddDetectionTable().columns.name as string[]).slice(2, 5));
    expect(r.model).toBe('natural');
    expect(r.image).toBe('ïmage "N°1" <b>&\\ \'quoted\'.fits');
    expect(r.types).toMatchObject({ _healpix_29: 'BIGINT', area_px: 'INTEGER', cnn_peak: 'FLOAT', ra_deg: 'DOUBLE', source_id: 'VARCHAR' });
  });

  test('Python duckdb reads our CSV, skipping the ECSV header as comments', () => {
    const r = python(
      `
import sys, json, duckdb
rows = duckdb.connect().execute("select image_id, area_px, _healpix_29 from read_csv(?, comment='#', header=true) order by ra_deg", [sys.argv[1]]).fetchall()
print(json.dumps([[a, b, str(c)] for a, b, c in rows]))`,
      path.join(dir, 'odd.csv'),
    );
    const table = oddDetectionTable();
    // DuckDB reads a quoted empty string as NULL; everything else is exact.
    expect(r.map((row: unknown[]) => row[0] ?? '')).toEqual(ODD_STRINGS);
    expect(r.map((row: unknown[]) => row[1])).toEqual(Array.from(table.columns.area_px as Int32Array));
    expect(r.map((row: unknown[]) => row[2])).toEqual(Array.from(table.columns._healpix_29 as BigInt64Array, String));
  });

  test('@duckdb/node-api: the same file from Node', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    try {
      const file = path.join(dir, 'odd.parquet').replace(/'/g, "''");
      const reader = await con.runAndReadAll(`select image_id, _healpix_29, snr from read_parquet('${file}') order by ra_deg`);
      const rows = reader.getRows();
      const table = oddDetectionTable();
      expect(rows.map((r) => r[0])).toEqual(ODD_STRINGS);
      expect(rows.map((r) => r[1])).toEqual(Array.from(table.columns._healpix_29 as BigInt64Array));
      expect(rows[0][2]).toBe((table.columns.snr as Float64Array)[0]);
      const empty = await con.runAndReadAll(`select count(*) from read_parquet('${path.join(dir, 'empty.parquet')}')`);
      expect(empty.getRows()[0][0]).toBe(0n);
    } finally {
      con.closeSync();
      instance.closeSync();
    }
  });
});

const astropyCode = `
import sys, json, warnings, math
from astropy.table import Table
warnings.simplefilter('ignore')
fmt = sys.argv[2]
t = Table.read(sys.argv[1], format=fmt) if fmt != 'fits' else Table.read(sys.argv[1], hdu=1)
desc = {c: t[c].description for c in t.colnames}
def unit(c):
    u = t[c].unit
    return None if u is None else u.to_string()
def val(v):
    try:
        v = v.item()
    except AttributeError:
        pass
    if isinstance(v, bytes): v = v.decode('utf-8')
    if isinstance(v, float) and math.isnan(v): return None
    return v
out = {
  'rows': len(t),
  'names': t.colnames,
  'units': {c: unit(c) for c in t.colnames},
  # astropy masks empty strings in FITS character columns; an empty string is what they hold.
  'image_id': [val(v) for v in (t['image_id'].filled('') if hasattr(t['image_id'], 'filled') else t['image_id'])] if 'image_id' in t.colnames else [],
  # astropy masks NaN floats on read (FITS and VOTable); fill them back with NaN -> null.
  'peak_flux': [val(v) for v in (t['peak_flux'].filled(float('nan')) if hasattr(t['peak_flux'], 'filled') else t['peak_flux'])] if 'peak_flux' in t.colnames else [],
  'hpx': [str(val(v)) for v in t['_healpix_29']] if '_healpix_29' in t.colnames else [],
  'meta': {str(k): str(v) for k, v in t.meta.items() if not isinstance(v, (list, dict))},
  'ucd': {c: getattr(t[c], 'meta', {}).get('ucd') for c in t.colnames},
  'description': desc,
  'dtypes': {c: str(t[c].dtype) for c in t.colnames},
}
if fmt == 'votable':
    from astropy.io.votable import parse
    vt = parse(sys.argv[1])
    out['ucd'] = {f.name: f.ucd for f in vt.get_first_table().fields}
    out['infos'] = {i.name: i.value for i in vt.resources[0].infos}
print(json.dumps(out))`;

describe.each([
  ['fits', 'fits'],
  ['votable', 'votable'],
  ['csv', 'ascii.ecsv'],
])('astropy reads our %s table', (ext, fmt) => {
  test('units, values and provenance', () => {
    const table = oddDetectionTable();
    const r = python(astropyCode, path.join(dir, `odd.${ext}`), fmt);
    expect(r.rows).toBe(ODD_STRINGS.length);
    expect(r.names).toEqual(Object.keys(table.columns));
    expect(r.units.ra_deg).toBe('deg');
    expect(r.units.x).toBe('pix');
    expect(r.units.peak_flux).toBe('Jy / beam');
    expect(r.peak_flux).toEqual(Array.from(table.columns.peak_flux as Float64Array, (v) => (Number.isNaN(v) ? null : v)));
    expect(r.hpx).toEqual(Array.from(table.columns._healpix_29 as BigInt64Array, String));
    // astropy strips trailing whitespace from FITS character columns and VOTable cells. VOTable
    // keeps the rest exactly, line breaks, '<&>' and non-ASCII included; FITS columns are ASCII, so
    // there astropy shows our escapes (\u00fc, \\). (Our own readers restore everything.)
    if (fmt === 'ascii.ecsv') {
      // astropy reads ECSV with Python's universal newlines (CRLF -> LF) and masks "" like a missing value.
      const shown = ODD_STRINGS.map((v) => (v === '' ? '' : v.replace(/\r\n/g, '\n').replace(/\s+$/, '')));
      expect(r.image_id.map((v: string | null) => v ?? '')).toEqual(shown);
      expect(r.ucd.ra_deg).toBe('pos.eq.ra;meta.main');
      expect(r.description.ra_deg).toBe('Right ascension, ICRS');
      expect(r.dtypes).toMatchObject({ _healpix_29: 'int64', cnn_peak: 'float32', area_px: 'int32', ra_deg: 'float64' });
      for (const [k, v] of Object.entries(table.metadata)) expect([k, r.meta[k]]).toEqual([k, v]);
      return;
    }
    const shown = fmt === 'votable' ? ODD_STRINGS : ODD_STRINGS.map((v) => FITS_SHOWN[v] ?? v);
    expect(r.image_id).toEqual(shown.map((s) => s.replace(/\s+$/, '')));
    if (fmt === 'votable') {
      expect(r.ucd.ra_deg).toBe('pos.eq.ra;meta.main');
      expect(r.infos['deepsource.image_name']).toBe(table.metadata['deepsource.image_name']);
    } else {
      expect(r.meta.MKEY1).toBe('deepsource.catalogue');
      const keys = Object.keys(r.meta).filter((k) => k.startsWith('MKEY'));
      const imageKey = keys.find((k) => r.meta[k] === 'deepsource.image_name')!;
      // Non-ASCII in headers is escaped (\\u00ef), quotes doubled and undone by astropy.
      expect(r.meta[imageKey.replace('MKEY', 'MVAL')]).toBe('\\u00efmage "N\\u00b01" <b>&\\\\ \'quoted\'.fits');
      const longKey = keys.find((k) => r.meta[k] === 'deepsource.long_note')!;
      expect(r.meta[longKey.replace('MKEY', 'MVAL')]).toBe('x'.repeat(150) + " it's long, with a quote ' and non-ASCII \\u00e9");
    }
  });

  test('an empty catalogue is a valid, empty table', () => {
    const r = python(astropyCode, path.join(dir, `empty.${ext}`), fmt);
    expect(r.rows).toBe(0);
    expect(r.names).toHaveLength(15);
    expect(r.units.dec_deg).toBe('deg');
  });
});

test('astropy finds our FITS files standard-conformant (HDUList.verify)', () => {
  const r = python(
    `
import sys, json, warnings
from astropy.io import fits
out = {}
for f in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        with fits.open(f) as h:
            h.verify('exception')
            out[f] = {'hdus': len(h), 'ext': h[1].header['XTENSION'], 'rows': h[1].header['NAXIS2'], 'warnings': [str(x.message) for x in w]}
print(json.dumps(out))`,
    path.join(dir, 'odd.fits'),
    path.join(dir, 'empty.fits'),
  );
  expect(r[path.join(dir, 'odd.fits')]).toEqual({ hdus: 2, ext: 'BINTABLE', rows: ODD_STRINGS.length, warnings: [] });
  expect(r[path.join(dir, 'empty.fits')]).toEqual({ hdus: 2, ext: 'BINTABLE', rows: 0, warnings: [] });
});

test("astropy's VOTable parser accepts our files with verify='exception' (no spec warnings)", () => {
  const r = python(
    `
import sys, json
from astropy.io.votable import parse
print(json.dumps([len(parse(f, verify='exception').get_first_table().array) for f in sys.argv[1:]]))`,
    path.join(dir, 'odd.votable'),
    path.join(dir, 'empty.votable'),
  );
  expect(r).toEqual([ODD_STRINGS.length, 0]);
});

test('astropy-healpix agrees with healpixNested29, including near the poles and RA 0/360', () => {
  const rng = new Random(7);
  // (0, 0) itself is left out: it is the exact corner of four order-29 cells, where the HEALPix C++
  // loc2pix we follow (iy = nside - jp - 1) and astropy-healpix's algorithm pick different cells.
  const ra: number[] = [1e-7, 359.9999999, 45.000001, 90, 180, 270, 12.3, 0, 0];
  const dec: number[] = [1e-7, 1e-7, 41.8103149, -41.8103149, 89.9999999, -89.9999999, 90, -90, 66.5];
  for (let i = 0; i < 2000; i++) {
    ra.push(rng.uniform() * 360);
    dec.push((Math.asin(2 * rng.uniform() - 1) * 180) / Math.PI);
  }
  const r = python(
    `
import sys, json, numpy as np, astropy.units as u
from astropy_healpix import HEALPix
d = json.load(open(sys.argv[1]))
h = HEALPix(nside=2**29, order='nested')
print(json.dumps([str(v) for v in h.lonlat_to_healpix(np.array(d['ra'])*u.deg, np.array(d['dec'])*u.deg)]))`,
    writeJson({ ra, dec }),
  );
  const ours = ra.map((a, i) => healpixNested29(a, dec[i]).toString());
  const mismatches = ours.flatMap((v, i) => (v !== r[i] ? [`ra=${ra[i]} dec=${dec[i]} ours=${v} astropy=${r[i]}`] : []));
  expect(mismatches).toEqual([]);
});

function writeJson(value: unknown): string {
  const file = path.join(dir, `in-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('we read what the reference clients write', () => {
  let files: { parquet: string; fits: string; vot: string; csv: string; ecsv: string };
  beforeAll(() => {
    files = { parquet: path.join(dir, 'py.parquet'), fits: path.join(dir, 'py.fits'), vot: path.join(dir, 'py.vot'), csv: path.join(dir, 'py.csv'), ecsv: path.join(dir, 'py.ecsv') };
    python(
      `
import sys, json, numpy as np, pyarrow as pa, pyarrow.parquet as pq
from astropy.table import Table
import astropy.units as u
p, f, v, c, e = sys.argv[1:6]
pq.write_table(pa.table({'Source_id': pa.array([1, 2, None], pa.int64()), 'RA': pa.array([10.5, None, 12.25]), 'name': pa.array(['a', None, 'ü']), 'ok': pa.array([True, False, True]), 'f': pa.array([1.5, 2.5, 3.5], pa.float32()), 'i16': pa.array([1, -2, 3], pa.int16())}), p)
t = Table({'Source_id': np.array([1, 2, 3], dtype=np.int32), 'RA': np.array([10.5, 11.0, 12.25]) * u.deg, 'Peak_flux': np.array([1e-3, 2e-3, 3e-3], dtype=np.float32) * u.Jy / u.beam, 'Name': ['x', 'yy', 'zzz']})
t.write(f, format='fits', overwrite=True)
t.write(v, format='votable', overwrite=True)
t.write(c, format='ascii.csv', overwrite=True)
from collections import OrderedDict
t.meta = OrderedDict([('observer', 'me'), ('nested', {'a': 1})])
t['RA'].description = 'Right ascension'
t.write(e, format='ascii.ecsv', overwrite=True)
print('{}')`,
      files.parquet, files.fits, files.vot, files.csv, files.ecsv,
    );
  });

  test('pyarrow Parquet with nulls, bool, int16, float32', async () => {
    const t = await readCatalogue(files.parquet);
    expect(Array.from(t.columns.Source_id as BigInt64Array)).toEqual([1n, 2n, 0n]);
    expect(Array.from(t.columns.RA as Float64Array)).toEqual([10.5, NaN, 12.25]);
    expect(t.columns.name).toEqual(['a', '', 'ü']);
    expect(Array.from(t.columns.ok as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(t.columns.f as Float32Array)).toEqual([1.5, 2.5, 3.5]);
    expect(Array.from(t.columns.i16 as Int32Array)).toEqual([1, -2, 3]);
  });

  test.each(['fits', 'vot'] as const)('astropy %s table with units', async (kind) => {
    const t = await readCatalogue(files[kind]);
    expect(Array.from(t.columns.Source_id as Int32Array)).toEqual([1, 2, 3]);
    expect(Array.from(t.columns.RA as Float64Array)).toEqual([10.5, 11, 12.25]);
    expect(Array.from(t.columns.Peak_flux as Float32Array)).toEqual([1e-3, 2e-3, 3e-3].map(Math.fround));
    expect(t.columns.Name).toEqual(['x', 'yy', 'zzz']);
    expect(t.info.RA.unit).toBe('deg');
    // Units come back as the writer spelled them (FITS 'Jy beam-1', VOUnit 'Jy.beam**-1'); we do not normalise.
    expect(t.info.Peak_flux.unit).toBe(kind === 'fits' ? 'Jy beam-1' : 'Jy.beam**-1');
  });

  test('astropy ECSV (block-style YAML, ordered metadata)', async () => {
    const t = await readCatalogue(files.ecsv);
    expect(t.columns.Source_id).toBeInstanceOf(Int32Array);
    expect(t.columns.Peak_flux).toBeInstanceOf(Float32Array);
    expect(Array.from(t.columns.RA as Float64Array)).toEqual([10.5, 11, 12.25]);
    expect(t.columns.Name).toEqual(['x', 'yy', 'zzz']);
    expect(t.info.RA).toEqual({ unit: 'deg', description: 'Right ascension' });
    expect(t.info.Peak_flux.unit).toBe('Jy / beam');
    expect(t.metadata).toEqual({ observer: 'me', nested: '{"a":1}' });
  });

  test('astropy CSV without our header: types are inferred', async () => {
    const t = await readCatalogue(files.csv);
    expect(Array.from(t.columns.Source_id as Int32Array)).toEqual([1, 2, 3]);
    expect(t.columns.Source_id).toBeInstanceOf(Int32Array);
    expect(Array.from(t.columns.RA as Float64Array)).toEqual([10.5, 11, 12.25]);
    expect(t.columns.Name).toEqual(['x', 'yy', 'zzz']);
  });
});
