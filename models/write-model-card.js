#!/usr/bin/env node
/**
 * Writes models/NAME/README.md (the model card) from models/NAME/model.json and the simulation
 * manifests of its training and validation data. Called by models/train-shipped.sh after training;
 * extra lines (e.g. the validation PC3 once measured) can be appended by hand below the generated
 * part.
 *
 *   node models/write-model-card.js NAME|MODEL_DIR TRAIN_DIR VAL_DIR
 */
'use strict';
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');

const [nameOrDir, trainDir, valDir] = process.argv.slice(2);
if (!nameOrDir || !trainDir || !valDir) {
  process.stderr.write('usage: node models/write-model-card.js NAME|MODEL_DIR TRAIN_DIR VAL_DIR\n');
  process.exit(2);
}
// A bare name is a shipped model (models/NAME); anything with a slash is a model directory.
const modelDir = nameOrDir.includes('/') ? require('node:path').resolve(nameOrDir) : join(__dirname, nameOrDir);
const meta = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
const name = meta.name;
const trainManifest = JSON.parse(readFileSync(join(trainDir, 'manifest.json'), 'utf8'));
const valManifest = JSON.parse(readFileSync(join(valDir, 'manifest.json'), 'utf8'));
const t = meta.training;
let commit = 'unknown';
try {
  commit = require('node:child_process').execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim();
} catch {
  /* not a git checkout */
}
const p = trainManifest.parameters;
const fmt = (v, d = 4) => (typeof v === 'number' ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : v.toFixed(d)) : String(v));
const beams = trainManifest.images.map((i) => i.beam_arcsec).filter((b) => typeof b === 'number');
const lines = [
  `# Model card: \`${name}\``,
  '',
  `DeepSource CNN (paper Fig. 8: five 5×5 convolutions of 12 filters, shortcut, BN as per-channel scale/shift; ${meta.architecture.parameterCount} parameters), trained on images simulated by this project with **${p.weighting}** weighting.`,
  '',
  '**Under-trained relative to the paper.** The authors trained on GPUs for far longer; this model',
  `had ${t.steps} Adam steps (${fmt(t.wallSeconds / 60, 1)} min on one shared CPU core, TF.js ${t.backend}). Treat its`,
  'detections as a working baseline, not as the paper\'s figures.',
  '',
  '## Data (`deepsource simulate`)',
  '',
  `| | training | validation |`,
  `|---|---|---|`,
  `| images | ${trainManifest.count} | ${valManifest.count} |`,
  `| seed | ${trainManifest.seed} | ${valManifest.seed} |`,
  `| field | ${p.field} | ${valManifest.parameters.field} |`,
  '',
  `Simulation parameters: ${p.size}×${p.size} px at ${p.pixel_scale_arcsec}"/px, ${p.weighting} weighting, ${p.sources_per_deg2} sources/deg² (${trainManifest.sources_per_image} per image), ` +
    `min separation ${p.min_separation_arcsec}", SNR ≥ ${p.snr_min} with ${100 * p.fraction_below_snr1}% below SNR 1, CLEAN ${p.clean ? `on (≤ ${p.clean_iterations} iterations, gain ${p.clean_gain}, threshold ${p.clean_threshold_sigma}σ)` : 'off'}, ` +
    `${p.synthesis_hours} h synthesis, ${p.channels} channels, visibility noise ${p.vis_noise_jy} Jy` +
    (beams.length ? `; restoring beam ${Math.min(...beams).toFixed(1)}–${Math.max(...beams).toFixed(1)}" (geometric mean).` : '.'),
  `Software: ${trainManifest.software}, repository commit ${commit} when the card was written (the simulator may change later; the manifests record every parameter).`,
  '',
  '## Training (`deepsource train`)',
  '',
  `| setting | value |`,
  `|---|---|`,
  `| demand map (eq. 3) | α = ${meta.demand.alpha}, bn = ${meta.demand.bn}, horn radius ${meta.demand.hornRadius} px, Gaussian σ ${meta.demand.gaussianSigma} px |`,
  `| input normalisation | ${meta.normalisation.method}: ${meta.normalisation.softening}·asinh(x / σ_MAD / ${meta.normalisation.softening}); demand I saturates at SNR ${meta.normalisation.demandSaturationSnr} |`,
  `| patches | ${t.patch}×${t.patch} px, batch ${t.batch}, 8 flips/rotations, ${100 * t.sourceFraction}% placed on a true source |`,
  `| optimiser | Adam, learning rate ${t.learningRate}${t.lrSchedule === 'cosine' ? ` with a cosine decay to ${t.learningRateMin}` : ''}, seed ${t.seed} |`,
  `| steps | ${t.steps} |`,
  `| wall time | ${fmt(t.wallSeconds, 0)} s (${fmt(t.patchesPerSecond, 2)} patches/s, machine shared with other jobs) |`,
  `| validation | ${t.valPatches} fixed, uniformly random ${t.patch} px patches of the validation images |`,
  '',
  '## Losses (mean squared error against the demand map)',
  '',
  `| | value |`,
  `|---|---|`,
  `| validation loss of an all-zero output (baseline) | ${fmt(t.zeroOutputValLoss)} |`,
  `| validation loss at initialisation | ${fmt(t.initialValLoss)} |`,
  `| final training loss (mean of the last 20 steps; source-rich patches) | ${fmt(t.finalTrainLoss)} |`,
  `| final validation loss | ${fmt(t.finalValLoss)} |`,
  '',
  'History (step: train / validation):',
  '',
  t.history.map((h) => `${h.step}: ${fmt(h.loss)} / ${fmt(h.valLoss)}`).join(', '),
  '',
  '## Reproduce',
  '',
  '```',
  `bash models/train-shipped.sh ${name}`,
  '```',
  '',
  'Simulates the data above into tmp/shipped-data/ (gitignored) and trains; deterministic for these seeds on the wasm backend.',
  '',
];
const out = join(modelDir, 'README.md');
writeFileSync(out + '.tmp', lines.join('\n'));
renameSync(out + '.tmp', out);
process.stdout.write(`wrote ${out}\n`);
