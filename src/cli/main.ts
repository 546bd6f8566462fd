/**
 * The composition root. Each file in ./commands/ registers one command (or command group) on the
 * program; commands that are not built yet simply have no file, so `--help` never lists stubs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { reportError } from './common';

export interface CommandModule {
  /** Adds the command to the program. Actions should be wrapped with `action()` from common.ts. */
  register(program: Command): void;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('deepsource')
    .description('Find faint point sources in radio images with the DeepSource CNN (Vafaei Sadr et al. 2018).')
    .version(require('../../package.json').version as string)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
  const dir = join(__dirname, 'commands');
  const files = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.js')).sort();
  for (const file of files) {
    const mod = require(join(dir, file)) as CommandModule;
    if (typeof mod.register === 'function') mod.register(program);
  }
  // Every subcommand reports parse errors as one line and exits 2 (CONTRACT.md).
  for (const cmd of program.commands) applyExitOverride(cmd);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride().configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
  for (const sub of cmd.commands) applyExitOverride(sub);
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(err);
  }
}
