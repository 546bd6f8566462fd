/**
 * `deepsource train`: trains the DeepSource CNN on directories written by `deepsource simulate`
 * (paper section 4.1; issue 3). Shows step, loss, validation loss and ETA; saves a checkpoint every
 * --checkpoint-every steps and on Ctrl-C; `--resume` continues exactly where a run stopped.
 *
 *   deepsource train --data sim/train --val sim/val --out models/mine --steps 2000
 */
import type { Command } from 'commander';
import { action, parseChoiceOption, parseFloatOption, parseIntOption } from '../common';
import { createProgress } from '../progress';
import { UserInputError } from '../../core/errors';
import { loadSimulatedDir, type TrainingImage } from '../../model/training-data';
import { DEFAULT_TRAIN_OPTIONS, LR_SCHEDULES, resolveTrainOptions, trainModel, type LrSchedule } from '../../model/train';
import { TF_BACKEND_PREFERENCES, type TfBackendPreference } from '../../model/tf-backend';

interface TrainCliOptions {
  data: string;
  out: string;
  val?: string;
  steps?: number;
  patch?: number;
  batch?: number;
  alpha?: number;
  bn?: number;
  resume?: boolean;
  seed?: number;
  lr?: number;
  lrSchedule?: LrSchedule;
  lrMin?: number;
  checkpointEvery?: number;
  validateEvery?: number;
  valPatches?: number;
  sourceFraction?: number;
  backend: string;
  name?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train the DeepSource CNN on simulated images (random patches, demand maps, Adam)')
    .requiredOption('--data <dir>', 'training images: a directory written by `deepsource simulate`')
    .requiredOption('--out <model_dir>', 'model directory to write (model.json, weights.bin, model.onnx, checkpoint/)')
    .option('--val <dir>', 'validation images (default: hold out the last 20% of --data, at least one image)')
    .option('--steps <n>', `total optimiser steps (default ${DEFAULT_TRAIN_OPTIONS.steps})`, parseIntOption('--steps', { min: 1 }))
    .option('--patch <px>', `patch side in pixels (default ${DEFAULT_TRAIN_OPTIONS.patch})`, parseIntOption('--patch', { min: 16, max: 4096 }))
    .option('--batch <n>', `patches per step (default ${DEFAULT_TRAIN_OPTIONS.batch})`, parseIntOption('--batch', { min: 1, max: 1024 }))
    .option('--alpha <a>', `demand-map exponent α, paper eq. 3 (default ${DEFAULT_TRAIN_OPTIONS.alpha})`, parseFloatOption('--alpha', { min: 0 }))
    .option('--bn <b>', `demand-map background weight bn, paper eq. 3 (default ${DEFAULT_TRAIN_OPTIONS.bn})`, parseFloatOption('--bn', { min: 0 }))
    .option('--resume', 'continue from <model_dir>/checkpoint exactly where training stopped')
    .option('--seed <s>', `random seed: initial weights, patches, augmentation (default ${DEFAULT_TRAIN_OPTIONS.seed})`, parseIntOption('--seed', { min: 0, max: 2 ** 32 - 1 }))
    .option('--lr <rate>', `Adam learning rate (default ${DEFAULT_TRAIN_OPTIONS.learningRate})`, parseFloatOption('--lr', { min: 0 }))
    .option('--lr-schedule <name>', `constant or cosine (from --lr down to --lr-min at the last step; default ${DEFAULT_TRAIN_OPTIONS.lrSchedule})`, parseChoiceOption('--lr-schedule', LR_SCHEDULES))
    .option('--lr-min <rate>', `final learning rate of the cosine schedule (default ${DEFAULT_TRAIN_OPTIONS.learningRateMin})`, parseFloatOption('--lr-min', { min: 0 }))
    .option('--checkpoint-every <n>', `checkpoint interval in steps (default ${DEFAULT_TRAIN_OPTIONS.checkpointEvery})`, parseIntOption('--checkpoint-every', { min: 1 }))
    .option('--validate-every <n>', `validation interval in steps (default ${DEFAULT_TRAIN_OPTIONS.validateEvery})`, parseIntOption('--validate-every', { min: 1 }))
    .option('--val-patches <n>', `number of fixed validation patches (default ${DEFAULT_TRAIN_OPTIONS.valPatches})`, parseIntOption('--val-patches', { min: 1 }))
    .option('--source-fraction <f>', `fraction of training patches that contain a true source (default ${DEFAULT_TRAIN_OPTIONS.sourceFraction})`, parseFloatOption('--source-fraction', { min: 0, max: 1 }))
    .option('--backend <name>', `TF.js backend: ${TF_BACKEND_PREFERENCES.join('|')}`, 'auto')
    .option('--name <name>', 'model name recorded in model.json (default: the --out directory name)')
    .option('--quiet', 'no progress output')
    .action(
      action(async (opts: TrainCliOptions) => {
        if (!TF_BACKEND_PREFERENCES.includes(opts.backend as TfBackendPreference)) throw new UserInputError(`--backend must be one of ${TF_BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(opts.backend)}`);
        const options = {
          steps: opts.steps,
          patch: opts.patch,
          batch: opts.batch,
          alpha: opts.alpha,
          bn: opts.bn,
          seed: opts.seed,
          learningRate: opts.lr,
          lrSchedule: opts.lrSchedule,
          learningRateMin: opts.lrMin,
          checkpointEvery: opts.checkpointEvery,
          validateEvery: opts.validateEvery,
          valPatches: opts.valPatches,
          sourceFraction: opts.sourceFraction,
          resume: opts.resume ?? false,
          backend: opts.backend as TfBackendPreference,
          name: opts.name,
          notes: { data: opts.data, val: opts.val ?? null },
        };
        const resolved = resolveTrainOptions(options); // validate before the (slow) loading
        const demand = { alpha: resolved.alpha, bn: resolved.bn };
        const log = (line: string): void => {
          if (!opts.quiet) process.stderr.write(line + '\n');
        };
        log(`loading training images from ${opts.data}`);
        let train: TrainingImage[] = await loadSimulatedDir(opts.data, demand);
        let val: TrainingImage[];
        if (opts.val) {
          log(`loading validation images from ${opts.val}`);
          val = await loadSimulatedDir(opts.val, demand);
        } else {
          if (train.length < 2) throw new UserInputError(`--data ${opts.data} has ${train.length} image; give --val DIR or at least 2 images so one can be held out`);
          const held = Math.max(1, Math.round(0.2 * train.length));
          val = train.slice(train.length - held);
          train = train.slice(0, train.length - held);
        }
        log(`${train.length} training and ${val.length} validation images; ${resolved.steps} steps of ${resolved.batch} x ${resolved.patch}² patches`);

        let stopRequested = false;
        const onSigint = (): void => {
          if (stopRequested) process.exit(130); // second Ctrl-C: leave now
          stopRequested = true;
          process.stderr.write('\ninterrupt: saving a checkpoint (Ctrl-C again to quit without saving)\n');
        };
        process.on('SIGINT', onSigint);
        const progress = createProgress('train', resolved.steps, { quiet: opts.quiet });
        try {
          const result = await trainModel(train, val, opts.out, options, {
            // 'eta' from the trainer's own rate: the bar's ETA counts resumed steps as instant.
            onStep: (p) => progress.update(p.step, { loss: p.loss, val: p.valLoss, elapsed_s: Math.round(p.elapsedSeconds), eta_s: Math.round(p.etaSeconds) }),
            shouldStop: () => stopRequested,
            onLog: log,
          });
          progress.stop();
          if (result.status === 'interrupted') {
            process.stderr.write(`stopped at step ${result.step}; checkpoint in ${opts.out}/checkpoint (continue with --resume)\n`);
            process.exitCode = 130;
            return;
          }
          process.stdout.write(
            `model written to ${opts.out}: ${result.step} steps, loss ${result.trainLoss.toPrecision(4)}, validation loss ${result.valLoss.toPrecision(4)}, ` +
              `${result.wallSeconds.toFixed(0)} s, ${result.patchesPerSecond.toFixed(2)} patches/s on ${result.backend}\n`,
          );
        } finally {
          progress.stop();
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
}
