/**
 * TOPCAT reads our catalogues: STIL, TOPCAT's table library (Maven Central, fetched by
 * infra/postgres/setup.sh), opens our FITS table, VOTable and ECSV and sees the columns' units,
 * UCDs and types, and the same first row.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeCatalogue } from '../../src/catalogue/write';
import { DETECTION_COLUMNS } from '../../src/catalogue/schema';
import { oddDetectionTable, ODD_STRINGS } from '../catalogue/fixtures';

const m2 = path.join(os.homedir(), '.m2/repository');
const jars = [path.join(m2, 'uk/ac/starlink/stil/4.3.5/stil-4.3.5.jar'), path.join(m2, 'org/yaml/snakeyaml/2.2/snakeyaml-2.2.jar')];

const JAVA = `
import uk.ac.starlink.table.*;
public class StilRead {
  public static void main(String[] a) throws Exception {
    StarTableFactory f = new StarTableFactory();
    StringBuilder sb = new StringBuilder("[");
    for (int k = 0; k + 1 < a.length; k += 2) {
      StarTable t = Tables.randomTable(f.makeStarTable(a[k], a[k + 1]));
      if (k > 0) sb.append(',');
      sb.append("{\\"rows\\":" + t.getRowCount() + ",\\"cols\\":[");
      for (int i = 0; i < t.getColumnCount(); i++) {
        ColumnInfo c = t.getColumnInfo(i);
        if (i > 0) sb.append(',');
        sb.append("{\\"name\\":" + q(c.getName()) + ",\\"unit\\":" + q(c.getUnitString()) + ",\\"ucd\\":" + q(c.getUCD()) + ",\\"class\\":" + q(c.getContentClass().getSimpleName()) + "}");
      }
      sb.append("],\\"first\\":[");
      if (t.getRowCount() > 0) {
        Object[] r = t.getRow(0);
        for (int i = 0; i < r.length; i++) { if (i > 0) sb.append(','); sb.append(q(String.valueOf(r[i]))); }
      }
      sb.append("]}");
    }
    System.out.println(sb.append("]"));
  }
  static String q(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\\"");
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\\\') b.append('\\\\').append(ch);
      else if (ch < 0x20 || ch > 0x7e) b.append(String.format("\\\\u%04x", (int) ch));
      else b.append(ch);
    }
    return b.append('"').toString();
  }
}
`;

let dir: string;
beforeAll(async () => {
  for (const jar of jars) if (!fs.existsSync(jar)) throw new Error(`${jar} missing: run infra/postgres/setup.sh (needs java and mvn)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-topcat-'));
  fs.writeFileSync(path.join(dir, 'StilRead.java'), JAVA);
  for (const [name, format] of [['odd.fits', 'fits'], ['odd.vot', 'votable'], ['odd.csv', 'csv'], ['empty.fits', 'fits'], ['empty.vot', 'votable'], ['empty.csv', 'csv']] as const) {
    const table = name.startsWith('odd') ? oddDetectionTable() : { ...oddDetectionTable(), columns: Object.fromEntries(Object.entries(oddDetectionTable().columns).map(([k, v]) => [k, v.slice(0, 0)])) };
    await writeCatalogue(path.join(dir, name), table as never, format);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('STIL reads FITS, VOTable and ECSV with units, UCDs and types', () => {
  const files = ['odd.fits', 'fits', 'odd.vot', 'votable', 'odd.csv', 'ecsv', 'empty.fits', 'fits', 'empty.vot', 'votable', 'empty.csv', 'ecsv'];
  const args = files.map((f, i) => (i % 2 === 0 ? path.join(dir, f) : f));
  const res = spawnSync('java', ['-cp', jars.join(path.delimiter), path.join(dir, 'StilRead.java'), ...args], { encoding: 'utf8', timeout: 110_000 });
  if (res.status !== 0) throw new Error(`java failed (${res.status}): ${res.stderr}`);
  const tables = JSON.parse(res.stdout) as { rows: number; cols: { name: string; unit: string | null; ucd: string | null; class: string }[]; first: string[] }[];
  const javaClass: Record<string, string> = { string: 'String', float64: 'Double', float32: 'Float', int32: 'Integer', int64: 'Long' };
  tables.forEach((t, k) => {
    const label = files[2 * k];
    expect([label, t.rows]).toEqual([label, k < 3 ? ODD_STRINGS.length : 0]);
    expect(t.cols.map((c) => c.name)).toEqual(DETECTION_COLUMNS.map((c) => c.name));
    for (const spec of DETECTION_COLUMNS) {
      const c = t.cols.find((x) => x.name === spec.name)!;
      expect([label, spec.name, c.unit ?? '', c.ucd, c.class]).toEqual([label, spec.name, spec.unit, spec.ucd, javaClass[spec.type]]);
    }
  });
  // The first row, as TOPCAT shows it, holds our values.
  const first = oddDetectionTable();
  for (const k of [0, 1, 2]) {
    expect(Number(tables[k].first[5])).toBe((first.columns.ra_deg as Float64Array)[0]);
    expect(Number(tables[k].first[7])).toBe((first.columns.peak_flux as Float64Array)[0]);
    expect(tables[k].first[14]).toBe(String((first.columns._healpix_29 as BigInt64Array)[0]));
    expect(tables[k].first[2]).toBe('plain');
  }
});
