/**
 * `deepsource pipeline run|ingest|worker|assemble --config pipelines/NAME.yaml` (issue 6).
 *
 * - run:      all three stages in this process for the configured input; exits when every image
 *             has a catalogue (or failed), with a progress report (bulk reprocessing, local.yaml).
 * - ingest:   announces the input, then plans tiles for every announcement; with
 *             input.watchIntervalSec it keeps watching the input prefix (continuous survey ingest).
 * - worker:   a member of the worker consumer group; start one per machine (or more).
 * - assemble: a member of the assembler group.
 * Long-running stages stop cleanly on SIGINT/SIGTERM (in-flight tiles finish, offsets committed).
 */
import type { Command } from 'commander';
import { action, parseIntOption } from '../common';
import { createProgress, type Progress } from '../progress';
import { UserInputError } from '../../core/errors';
import { loadPipelineConfig } from '../../pipeline/config';
import { runPipeline, runService, type ServiceStage } from '../../pipeline/wiring';

interface PipelineCliOptions {
  config: string;
  timeout?: number;
  quiet?: boolean;
}

const MODES = ['run', 'ingest', 'worker', 'assemble'] as const;

export function register(program: Command): void {
  program
    .command('pipeline')
    .description('Streaming survey pipeline: object storage → queue → CNN worker pools → catalogues (run | ingest | worker | assemble)')
    .argument('<mode>', 'run (all stages, bulk, exits when done) | ingest | worker | assemble (long-running group members)')
    .requiredOption('--config <FILE>', 'pipeline configuration, e.g. pipelines/local.yaml')
    .option('--timeout <SECONDS>', 'run: give up after this long', parseIntOption('--timeout', { min: 1 }))
    .option('--quiet', 'no progress lines')
    .action(
      action(async (mode: string, opts: PipelineCliOptions) => {
        if (!(MODES as readonly string[]).includes(mode)) throw new UserInputError(`pipeline mode must be one of ${MODES.join('|')}, got ${JSON.stringify(mode)}`);
        const config = loadPipelineConfig(opts.config);
        const log = (line: string): void => {
          if (!opts.quiet) process.stderr.write(line + '\n');
        };
        if (mode === 'run') {
          let progress: Progress | undefined;
          let failed = 0;
          const report = await runPipeline(config, {
            log,
            timeoutMs: opts.timeout ? opts.timeout * 1000 : undefined,
            onImage: (done, total, event) => {
              progress ??= createProgress(`pipeline ${config.name}`, total, { quiet: opts.quiet });
              if (event.status === 'failed') failed++;
              progress.update(done, failed > 0 ? { failed } : undefined);
            },
          });
          progress?.stop();
          for (const e of report.events) {
            if (e.status === 'failed') log(`failed: ${e.imageId}: ${e.reason}`);
          }
          process.stdout.write(JSON.stringify({ images: report.images, ok: report.ok, failed: report.failed, sources: report.sources, seconds: report.seconds }) + '\n');
          if (report.failed > 0) process.exitCode = 1;
          return;
        }
        let stop: () => void = () => {};
        const stopSignal = new Promise<void>((resolve) => (stop = resolve));
        const onSignal = (): void => {
          log(`${mode}: stopping (in-flight work finishes first)`);
          stop();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        await runService(config, mode as ServiceStage, { log, stopSignal });
      }),
    );
}
