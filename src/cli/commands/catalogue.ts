/**
 * `deepsource catalogue load|convert|info|cone`: catalogue files and the catalogue database.
 *
 *   deepsource catalogue load --db postgres://user:pw@host:5432/db cat.parquet [more...]
 *   deepsource catalogue convert cat.parquet cat.vot [--format votable]
 *   deepsource catalogue info cat.parquet
 *   deepsource catalogue cone --db postgres://... --ra 150.1 --dec -30.2 --radius-arcsec 10
 *
 * --db may be left out when DEEPSOURCE_DB holds the connection string (keeps passwords out of
 * shell history and process lists). Connection strings are never printed unredacted.
 */
import type { Command } from 'commander';
import { action, parseFloatOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError } from '../../core/errors';
import { readCatalogue } from '../../catalogue/read';
import { formatFromPath, parseCatalogueFormat, writeCatalogue } from '../../catalogue/write';
import { tableLength } from '../../catalogue/table';
import { columnTypeOf } from '../../catalogue/schema';
import { createPostgresSink, redactConnectionString } from '../../adapters/postgres';

function dbFrom(opt: string | undefined): string {
  const db = opt ?? process.env.DEEPSOURCE_DB;
  if (!db) throw new UserInputError('--db is required (or set DEEPSOURCE_DB), e.g. --db postgres://user@localhost:5432/catalogue');
  return db;
}

export function register(program: Command): void {
  const group = program.command('catalogue').description('Catalogue files (Parquet, CSV, Arrow, FITS, VOTable, regions) and the catalogue database');

  group
    .command('load')
    .description('Upsert catalogues into PostgreSQL + q3c by source_id (loading twice does not duplicate)')
    .argument('<files...>', 'catalogue files (Parquet, Arrow, CSV, FITS, VOTable)')
    .option('--db <url>', 'postgres:// connection string (default: $DEEPSOURCE_DB)')
    .option('--table <name>', 'table name, optionally schema-qualified', 'deepsource_sources')
    .option('--batch <rows>', 'rows per INSERT statement', parseIntOption('--batch', { min: 1, max: 1_000_000 }), 10000)
    .action(
      action(async (files: string[], opts: { db?: string; table: string; batch: number }) => {
        const db = dbFrom(opts.db);
        const sink = createPostgresSink({ connectionString: db, table: opts.table, batchSize: opts.batch });
        const progress = createProgress('load', files.length);
        const started = Date.now();
        let total = 0;
        try {
          await sink.ensureSchema();
          for (let i = 0; i < files.length; i++) {
            const table = await readCatalogue(files[i]);
            const { rows } = await sink.upsert(table);
            total += rows;
            progress.update(i + 1, { rows: total });
          }
        } finally {
          progress.stop();
          await sink.close();
        }
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(`upserted ${total} rows from ${files.length} file(s) into ${opts.table} at ${redactConnectionString(db)} in ${seconds.toFixed(2)} s\n`);
      }),
    );

  group
    .command('convert')
    .description('Convert a catalogue between formats (format from --format or the output extension)')
    .argument('<input>', 'catalogue file')
    .argument('<output>', 'output file')
    .option('--format <format>', 'parquet|csv|arrow|fits|votable|reg')
    .option('--beam-arcsec <arcsec>', 'region circle size: beam FWHM in arcsec', parseFloatOption('--beam-arcsec', { min: 0 }))
    .action(
      action(async (input: string, output: string, opts: { format?: string; beamArcsec?: number }) => {
        const format = opts.format ? parseCatalogueFormat(opts.format) : formatFromPath(output);
        if (!format) throw new UserInputError(`cannot tell the format of ${output} from its extension; pass --format`);
        const table = await readCatalogue(input);
        await writeCatalogue(output, table, format, { beamArcsec: opts.beamArcsec });
        process.stdout.write(`wrote ${tableLength(table)} rows to ${output} (${format})\n`);
      }),
    );

  group
    .command('info')
    .description('Print rows, columns (type, unit, UCD) and provenance metadata of a catalogue as JSON')
    .argument('<file>', 'catalogue file')
    .action(
      action(async (file: string) => {
        const table = await readCatalogue(file);
        const columns = Object.entries(table.columns).map(([name, col]) => ({
          name,
          type: columnTypeOf(col),
          ...table.info[name],
        }));
        process.stdout.write(JSON.stringify({ file, rows: tableLength(table), columns, metadata: table.metadata }, null, 2) + '\n');
      }),
    );

  group
    .command('cone')
    .description('Cone search in the catalogue database (q3c_radial_query); prints one JSON object per source')
    .option('--db <url>', 'postgres:// connection string (default: $DEEPSOURCE_DB)')
    .option('--table <name>', 'table name', 'deepsource_sources')
    .requiredOption('--ra <deg>', 'centre right ascension, degrees', parseFloatOption('--ra', { min: 0, max: 360 }))
    .requiredOption('--dec <deg>', 'centre declination, degrees', parseFloatOption('--dec', { min: -90, max: 90 }))
    .requiredOption('--radius-arcsec <arcsec>', 'cone radius, arcsec', parseFloatOption('--radius-arcsec', { min: 0 }))
    .action(
      action(async (opts: { db?: string; table: string; ra: number; dec: number; radiusArcsec: number }) => {
        const sink = createPostgresSink({ connectionString: dbFrom(opts.db), table: opts.table });
        try {
          const rows = await sink.coneSearch(opts.ra, opts.dec, opts.radiusArcsec / 3600);
          for (const row of rows) process.stdout.write(JSON.stringify(row) + '\n');
        } finally {
          await sink.close();
        }
      }),
    );
}
