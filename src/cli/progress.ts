/**
 * Progress for long work (CONTRACT.md): a bar on a terminal, plain lines otherwise (CI logs, pipes).
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** Sets the done count and optional extra fields shown after the bar (e.g. loss). */
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgress(label: string, total: number, options: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted} {extra}`, stream, hideCursor: true, etaBuffer: 50 },
      Presets.shades_classic,
    );
    bar.start(total, 0, { extra: '' });
    return {
      update: (done, fields) => bar.update(done, { extra: formatFields(fields) }),
      stop: () => bar.stop(),
    };
  }
  // Non-terminal: at most one line per ~10% (and the last one), with ETA.
  const start = Date.now();
  let lastDecile = -1;
  return {
    update: (done, fields) => {
      const decile = total > 0 ? Math.floor((10 * done) / total) : 10;
      if (decile === lastDecile && done !== total) return;
      lastDecile = decile;
      const elapsed = (Date.now() - start) / 1000;
      const eta = done > 0 ? (elapsed * (total - done)) / done : NaN;
      stream.write(`${label}: ${done}/${total} (${total > 0 ? Math.round((100 * done) / total) : 100}%) elapsed ${elapsed.toFixed(1)}s ETA ${Number.isFinite(eta) ? eta.toFixed(1) + 's' : '?'} ${formatFields(fields)}\n`);
    },
    stop: () => undefined,
  };
}

function formatFields(fields?: Record<string, string | number>): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : +v.toFixed(5)) : v}`)
    .join(' ');
}
