#!/usr/bin/env node
// The cvs-issue program: builds the commander tree, runs it, and maps every error to an exit code.
// This is the only place that calls process.exit.

import { Command, CommanderError } from 'commander';
import { AppError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from '../core/errors.ts';
import { makeAuditLogCommand } from './audit-log.ts';
import { makeCenterCommand } from './center.ts';
import { systemClock } from './deps.ts';
import { makeDemoCommand } from './demo.ts';
import { makeInitCommand } from './init.ts';
import { makeInvoiceCommand } from './invoice.ts';
import { processIo, type Io } from './io.ts';
import { makeKioskCommand } from './kiosk.ts';
import { makeReconcileCommand } from './reconcile.ts';
import { makeRelayCommand } from './relay.ts';

export const VERSION = '0.1.0';

/** commander's addCommand does not pass these down, so every command gets them (STYLE.md). */
function configureTree(command: Command, io: Io): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.out(text),
    writeErr: (text) => io.err(text),
    outputError: (text, write) => write(text.replace(/^error: /, 'cvs-issue: ')),
  });
  command.showSuggestionAfterError(true);
  for (const sub of command.commands) configureTree(sub, io);
}

export function buildProgram(io: Io): Command {
  const program = new Command('cvs-issue')
    .description("Japan's convenience-store certificate issuance service (コンビニ交付): kiosk, relay, centre and monthly settlement")
    .version(VERSION)
    .addHelpText('after', '\nExit codes: 0 done, 1 unexpected failure, 2 usage or bad input, 3 differences or tampering found.')
    // A subcommand's options belong to it (`invoice pay --month` is pay's --month, not invoice's);
    // commander honours that only when the root parses positionally too.
    .enablePositionalOptions()
    .addCommand(makeInitCommand(io, () => systemClock.nowMs()))
    .addCommand(makeDemoCommand(io))
    .addCommand(makeKioskCommand(io))
    .addCommand(makeRelayCommand(io))
    .addCommand(makeCenterCommand(io))
    .addCommand(makeReconcileCommand(io))
    .addCommand(makeInvoiceCommand(io))
    .addCommand(makeAuditLogCommand(io));
  configureTree(program, io);
  return program;
}

/** Runs the program and returns the exit code; prints one line for any error, never a stack. */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end in "errors" too; commander has already printed what there is to say.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof AppError) {
      io.err(`cvs-issue: ${error.summary()}\n`);
      return exitCodeFor(error);
    }
    io.err(`cvs-issue: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.CVS_ISSUE_DEBUG) io.err(`${error instanceof Error ? error.stack : ''}\n`);
    return EXIT_FAILURE;
  }
}

const isEntryPoint = typeof Bun !== 'undefined' ? Bun.main === import.meta.path : process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));

if (isEntryPoint) {
  const code = await main(process.argv.slice(2), processIo());
  // Exit only once stdout has drained: a piped --json summary must arrive whole.
  process.stdout.write('', () => process.exit(code));
}
