import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCatalogue } from '../../src/catalogue/read';
import { CATALOGUE_FORMATS, encodeCatalogue, parseCatalogueFormat, writeCatalogue, type CatalogueFormat } from '../../src/catalogue/write';
import { escapeHeaderText, unescapeHeaderText } from '../../src/catalogue/fits-table';
import { xmlEscape } from '../../src/catalogue/votable';
import type { ColumnTable } from '../../src/catalogue/table';
import { FormatError, UserInputError } from '../../src/core/errors';
import { emptyTable, oddDetectionTable, truthTable, ODD_STRINGS } from './fixtures';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-cat-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const READABLE: CatalogueFormat[] = ['parquet', 'csv', 'arrow', 'fits', 'votable'];

function expectSameTable(actual: ColumnTable, expected: ColumnTable): void {
  expect(Object.keys(actual.columns)).toEqual(Object.keys(expected.columns));
  for (const [name, col] of Object.entries(expected.columns)) {
    const got = actual.columns[name];
    expect([name, got.constructor.name]).toEqual([name, col.constructor.name]);
    // Exact equality: every format stores full precision (NaN compares equal under toEqual).
    expect([name, Array.from(got as ArrayLike<unknown>)]).toEqual([name, Array.from(col as ArrayLike<unknown>)]);
    expect([name, actual.info[name].unit ?? '']).toEqual([name, expected.info[name].unit ?? '']);
    expect([name, actual.info[name].description]).toEqual([name, expected.info[name].description]);
    expect([name, actual.info[name].ucd]).toEqual([name, expected.info[name].ucd]);
  }
  expect(actual.metadata).toEqual(expected.metadata);
}

describe.each(READABLE)('%s round trip', (format) => {
  test('odd strings, NaN, all column types, provenance', async () => {
    const table = oddDetectionTable();
    const file = path.join(dir, `odd.${format}`);
    await writeCatalogue(file, table, format);
    expectSameTable(await readCatalogue(file), table);
  });

  test('truth catalogue', async () => {
    const file = path.join(dir, `truth.${format}`);
    await writeCatalogue(file, truthTable(), format);
    expectSameTable(await readCatalogue(file), truthTable());
  });

  test('empty catalogue keeps its columns and metadata', async () => {
    const file = path.join(dir, `empty.${format}`);
    await writeCatalogue(file, emptyTable(), format);
    const back = await readCatalogue(file);
    expectSameTable(back, emptyTable());
  });
});

test('Arrow IPC stream round trip', async () => {
  const file = path.join(dir, 'odd.arrows');
  await writeCatalogue(file, oddDetectionTable(), 'arrow', { arrowIpc: 'stream' });
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  expectSameTable(await readCatalogue(file), oddDetectionTable());
});

test('writing leaves no temporary files behind and replaces an existing file', async () => {
  const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
  for (const format of CATALOGUE_FORMATS) {
    await writeCatalogue(path.join(sub, `a.${format}`), truthTable(), format);
    await writeCatalogue(path.join(sub, `a.${format}`), truthTable(), format);
  }
  expect(fs.readdirSync(sub).sort()).toEqual(CATALOGUE_FORMATS.map((f) => `a.${f}`).sort());
});

describe('CSV', () => {
  test('ECSV 1.0 header with units, then RFC 4180 rows', () => {
    const text = (encodeCatalogue(truthTable(), 'csv') as string[]).join('');
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual(['# %ECSV 1.0', '# ---', "# delimiter: ','", '# datatype:']);
    expect(lines).toContain('# - {name: "ra_deg", unit: "deg", datatype: "float64", description: "Right ascension, ICRS", meta: {ucd: "pos.eq.ra;meta.main"}}');
    expect(lines).toContain('# - {name: "id", datatype: "int32", description: "Source index within the simulated image", meta: {ucd: "meta.id;meta.main"}}');
    expect(lines).toContainEqual(expect.stringMatching(/^# meta: \{"deepsource\.catalogue": "truth", "deepsource\.software_version": "deepsource-ts [^"]+", "deepsource\.image_name": "img_000\.fits"\}$/));
    expect(lines).toContain('# schema: astropy-2.0');
    expect(lines).toContain('id,x,y,ra_deg,dec_deg,flux_jy,snr');
    expect(lines).toContain('0,1,3,10.5,-45,0.00001,3.5');
  });

  test('quotes fields with commas, quotes, line breaks and a leading #', () => {
    const text = (encodeCatalogue(oddDetectionTable(), 'csv') as string[]).join('');
    expect(text).toContain('"comma, ""quotes"" and \'apostrophes\'"');
    expect(text).toContain('"line\nbreak\r\nand\ttab"');
    expect(text).toContain('"#hash at start"');
    // An empty string is quoted: an unquoted empty field is a missing value in ECSV.
    expect(text).toMatch(/^[^#\n]*,"",[^\n]*$/m);
  });

  test('float32 columns are written as the shortest decimal that reads back exactly', () => {
    const text = (encodeCatalogue(oddDetectionTable(), 'csv') as string[]).join('');
    // cnn_peak 0.1 as float32 is 0.10000000149011612 in float64; CSV says 0.1.
    expect(text).toMatch(/,0\.1,3,0,0,/);
  });
});

describe('FITS table', () => {
  test('header text escapes are reversible and ASCII', () => {
    for (const s of ODD_STRINGS) {
      const e = escapeHeaderText(s);
      expect(e).toMatch(/^[\x20-\x7e]*$/);
      expect(unescapeHeaderText(e)).toBe(s);
    }
  });

  test('80-character cards in 2880-byte blocks with TTYPE/TFORM/TUNIT and CONTINUE for long values', () => {
    const bytes = encodeCatalogue(oddDetectionTable(), 'fits') as Uint8Array;
    expect(bytes.length % 2880).toBe(0);
    const text = Buffer.from(bytes).toString('latin1');
    const cards = text.slice(2880, 2880 * 4).match(/.{80}/g)!;
    expect(cards[0]).toMatch(/^XTENSION= 'BINTABLE'/);
    expect(cards).toContainEqual(expect.stringMatching(/^TTYPE6  = 'ra_deg  '/));
    expect(cards).toContainEqual(expect.stringMatching(/^TFORM6  = 'D       '/));
    expect(cards).toContainEqual(expect.stringMatching(/^TUNIT6  = 'deg     '/));
    expect(cards).toContainEqual(expect.stringMatching(/^TFORM15 = 'K       '/));
    expect(cards).toContainEqual(expect.stringMatching(/^CONTINUE  '/));
    for (const c of cards) expect(c).toMatch(/^[\x20-\x7e]{80}$/);
  });
});

describe('VOTable', () => {
  test('FIELDs carry unit and ucd; text is escaped', () => {
    const text = (encodeCatalogue(oddDetectionTable(), 'votable') as string[]).join('');
    expect(text).toContain('<FIELD name="ra_deg" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main">');
    expect(text).toContain('<FIELD name="image_id" datatype="unicodeChar" arraysize="*"');
    expect(text).toContain('<TD>&lt;xml&gt; &amp; ampersand &lt;/TD&gt;</TD>');
    expect(text).toContain('<TD>NaN</TD>');
  });

  test('xmlEscape replaces characters XML 1.0 cannot carry', () => {
    expect(xmlEscape('a\u0001b\ud800c')).toBe('a\ufffdb\ufffdc');
    expect(xmlEscape('🚀')).toBe('🚀');
  });
});

describe('regions', () => {
  test('fk5 circles of half the beam with IAU-name labels', () => {
    const text = (encodeCatalogue(oddDetectionTable(), 'reg') as string[]).join('');
    const lines = text.split('\n');
    expect(lines[0]).toBe('# Region file format: DS9 version 4.1');
    expect(lines).toContain('fk5');
    // beam 6.4 arcsec from the provenance: radius 3.2".
    expect(lines).toContain('circle(150.00000000,-30.00000000,3.2") # text={DS J100000.00-300000.0}');
    // Metadata comment lines stay single lines even with line breaks in values.
    for (const l of lines.filter((x) => x.startsWith('#'))) expect(l).not.toMatch(/[\r]/);
  });

  test('an empty catalogue gives a valid header-only file', () => {
    const text = (encodeCatalogue(emptyTable(), 'reg') as string[]).join('');
    expect(text.trim().split('\n').pop()).toBe('fk5');
  });

  test('needs ra_deg and dec_deg', () => {
    const t: ColumnTable = { columns: { x: new Float64Array(1) }, info: {}, metadata: {} };
    expect(() => encodeCatalogue(t, 'reg')).toThrow(/ra_deg and dec_deg/);
  });
});

describe('errors', () => {
  test('missing file names the file', async () => {
    await expect(readCatalogue(path.join(dir, 'nope.parquet'))).rejects.toThrow(/nope\.parquet: no such file/);
    await expect(readCatalogue(path.join(dir, 'nope.parquet'))).rejects.toBeInstanceOf(UserInputError);
  });

  test('a damaged Parquet file is a FormatError naming the file', async () => {
    const file = path.join(dir, 'bad.parquet');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from('PAR1')]));
    await expect(readCatalogue(file)).rejects.toThrow(/bad\.parquet: not a readable Parquet file/);
    await expect(readCatalogue(file)).rejects.toBeInstanceOf(FormatError);
  });

  test('unknown format and ragged columns are rejected with the value received', async () => {
    expect(() => parseCatalogueFormat('xlsx')).toThrow(/--format must be one of parquet\|csv\|arrow\|fits\|votable\|reg, got "xlsx"/);
    expect(parseCatalogueFormat('VOT')).toBe('votable');
    const ragged: ColumnTable = { columns: { a: new Float64Array(2), b: new Int32Array(3) }, info: {}, metadata: {} };
    await expect(writeCatalogue(path.join(dir, 'r.csv'), ragged, 'csv')).rejects.toThrow(/column b has 3 rows, expected 2/);
    await expect(writeCatalogue(path.join(dir, 'no/such/dir/r.csv'), truthTable(), 'csv')).rejects.toThrow(/directory .* does not exist/);
  });

  test('a CSV row with the wrong number of fields is a FormatError', async () => {
    const file = path.join(dir, 'ragged.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n3\n');
    await expect(readCatalogue(file)).rejects.toThrow(/ragged\.csv: row 2 has 1 fields, expected 2/);
  });
});

test('CSV reader: CRLF line ends, blank lines, and text after a closing quote', async () => {
  const ok = path.join(dir, 'crlf.csv');
  fs.writeFileSync(ok, 'a,b\r\n1,"x, ""y"""\r\n\r\n2,z\r\n');
  const t = await readCatalogue(ok);
  expect(Array.from(t.columns.a as Int32Array)).toEqual([1, 2]);
  expect(t.columns.b).toEqual(['x, "y"', 'z']);
  const bad = path.join(dir, 'badquote.csv');
  fs.writeFileSync(bad, 'a,b\n1,"x"y\n');
  await expect(readCatalogue(bad)).rejects.toThrow(/badquote\.csv: unexpected character after a quoted field in record 2/);
});

test('columns sharing one buffer (the same array twice, or views of one ArrayBuffer) encode correctly', async () => {
  const shared = new Float64Array([1, 2, 3, 4]);
  const backing = new Float64Array(8).map((_, i) => i * 1.5);
  const table: ColumnTable = {
    columns: { a: shared, b: shared, c: backing.subarray(0, 4), d: backing.subarray(4, 8) },
    info: {},
    metadata: {},
  };
  for (const format of ['parquet', 'arrow'] as const) {
    const file = path.join(dir, `shared.${format}`);
    await writeCatalogue(file, table, format);
    const back = await readCatalogue(file);
    expect(Array.from(back.columns.b as Float64Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(back.columns.d as Float64Array)).toEqual([6, 7.5, 9, 10.5]);
  }
});

test('writeCatalogue sortBy _healpix_29 writes rows in HEALPix order', async () => {
  const file = path.join(dir, 'sorted.parquet');
  await writeCatalogue(file, oddDetectionTable(), 'parquet', { sortBy: '_healpix_29' });
  const back = await readCatalogue(file);
  const h = Array.from(back.columns._healpix_29 as BigInt64Array);
  expect(h).toEqual([...h].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  expect([...(back.columns.image_id as string[])].sort()).toEqual([...ODD_STRINGS].sort());
});

test('write options are checked, naming the option and the value', () => {
  expect(() => encodeCatalogue(truthTable(), 'parquet', { rowGroupSize: 0 })).toThrow(/rowGroupSize must be an integer >= 1, got 0/);
  expect(() => encodeCatalogue(truthTable(), 'arrow', { arrowIpc: 'pipe' as never })).toThrow(/arrowIpc must be 'file' or 'stream', got "pipe"/);
  expect(() => encodeCatalogue(truthTable(), 'reg', { beamArcsec: -1 })).toThrow(/beamArcsec must be a finite number > 0, got -1/);
});

test('a damaged ECSV header is a FormatError naming the file', async () => {
  const file = path.join(dir, 'bad.csv');
  fs.writeFileSync(file, '# %ECSV 1.0\n# ---\n# datatype: [\n# - {name: a\na\n1\n');
  await expect(readCatalogue(file)).rejects.toThrow(/bad\.csv: bad ECSV header/);
  fs.writeFileSync(file, '# %ECSV 1.0\n# ---\n# delimiter: ";"\n# datatype:\n# - {name: a, datatype: int32}\na\n1\n');
  await expect(readCatalogue(file)).rejects.toThrow(/bad\.csv: ECSV delimiter must be ',' or ' ', got ";"/);
});

test('CSV files with the earlier JSON-comment header still read with types, units and metadata', async () => {
  const file = path.join(dir, 'old.csv');
  fs.writeFileSync(
    file,
    [
      '# DeepSource catalogue. Lines starting with # are metadata (JSON); the first other line names the columns.',
      '# meta: {"key":"deepsource.catalogue","value":"truth"}',
      '# column: {"name":"id","type":"int32","unit":"","ucd":"meta.id;meta.main","description":"Source index"}',
      '# column: {"name":"flux_jy","type":"float64","unit":"Jy","ucd":"phot.flux.density","description":"Flux"}',
      '# meta: {"key":"test"}',
      'id,flux_jy',
      '0,1.5',
      '1,nan',
    ].join('\n') + '\n',
  );
  const t = await readCatalogue(file);
  expect(Array.from(t.columns.id as Int32Array)).toEqual([0, 1]);
  expect(Array.from(t.columns.flux_jy as Float64Array)).toEqual([1.5, NaN]);
  expect(t.info.flux_jy).toEqual({ unit: 'Jy', ucd: 'phot.flux.density', description: 'Flux' });
  expect(t.metadata).toEqual({ 'deepsource.catalogue': 'truth', test: '' });
});
