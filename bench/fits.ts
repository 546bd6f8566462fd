/**
 * Benchmark (issue 2, FITS/WCS): write and read a 4096² float32 image, read it in 64-row strips,
 * read a 16-bit scaled image, and convert pixels to sky and back. Prints one JSON object per line;
 * not a test, nothing is asserted.
 *
 *   npx tsc --outDir tmp/bench-fits --rootDir . --module node16 --moduleResolution node16 \
 *     --target es2022 --strict --skipLibCheck --esModuleInterop --types node bench/fits.ts
 *   node tmp/bench-fits/bench/fits.js [--size 4096]
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFits, readFitsImage } from '../src/fits/read';
import { Wcs, sinWcsCards } from '../src/fits/wcs';
import { writeFitsImage } from '../src/fits/write';
import { headerFromCards } from '../src/fits/header';

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const sizeArg = process.argv.indexOf('--size');
  const size = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 4096;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-fits-'));
  try {
    const data = new Float32Array(size * size);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001) * 1e-3;
    const cards = sinWcsCards({ raDeg: 50, decDeg: -20, cdeltDeg: 1.5 / 3600, width: size, height: size });
    const file = path.join(dir, 'img.fits');

    let t = process.hrtime.bigint();
    await writeFitsImage(file, { data, width: size, height: size }, cards);
    const writeS = seconds(t);

    t = process.hrtime.bigint();
    const { image } = await readFitsImage(file);
    const readS = seconds(t);
    if (image.data[12345] !== data[12345]) throw new Error('read back differs');

    const f = await openFits(file);
    t = process.hrtime.bigint();
    for (let y = 0; y < size; y += 64) await f.readRows(y, Math.min(size, y + 64));
    const stripsS = seconds(t);
    await f.close();
    const mb = (size * size * 4) / 1e6;
    console.log(JSON.stringify({ bench: 'fits-float32', size, megabytes: mb, writeS, readS, strips64S: stripsS, readMBps: mb / readS, writeMBps: mb / writeS }));

    const wcs = Wcs.fromHeader(headerFromCards([{ key: 'NAXIS', value: 2 }, ...cards]));
    const n = 1_000_000;
    t = process.hrtime.bigint();
    let checksum = 0;
    for (let i = 0; i < n; i++) {
      const sky = wcs.pixToSky(i % size, (i * 7) % size);
      const p = wcs.skyToPix(sky.ra, sky.dec);
      checksum += p.x;
    }
    const wcsS = seconds(t);
    console.log(JSON.stringify({ bench: 'wcs-roundtrip', conversions: n, seconds: wcsS, perSecond: n / wcsS, checksum }));
    console.log(JSON.stringify({ bench: 'fits-peak-rss', rssMB: process.memoryUsage().rss / 1e6 }));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
