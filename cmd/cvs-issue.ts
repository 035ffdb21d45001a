#!/usr/bin/env node
// The cvs-issue program: builds the commander tree, runs it, and maps every error to an exit code.
// This is the only place that calls process.exit.

import { Command, CommanderError, Help } from 'commander';
import { AppError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from '../core/errors.ts';
import { COMMANDS, isCommandName, type CommandName } from './commands.ts';
import type { Factory, FactoryParts } from './factory.ts';
import { useServingAllocator } from '../drivers/allocator-policy.ts';
import { processIo, type Io } from './io.ts';

export const VERSION = '0.1.0';

/**
 * Each command's module, imported only when that command runs: a command's drivers (pdfkit and its
 * font, node-forge, SQLite, holidays, undici) cost start-up time that `--help` or another command
 * should not pay. The factory, too, is made for the chosen command only.
 */
const LOADERS: Record<CommandName, (factory: Factory) => Promise<Command>> = {
  init: async (factory) => (await import('./init.ts')).makeInitCommand(factory),
  demo: async (factory) => (await import('./demo.ts')).makeDemoCommand(factory),
  kiosk: async (factory) => (await import('./kiosk.ts')).makeKioskCommand(factory),
  relay: async (factory) => (await import('./relay.ts')).makeRelayCommand(factory),
  center: async (factory) => (await import('./center.ts')).makeCenterCommand(factory),
  reconcile: async (factory) => (await import('./reconcile.ts')).makeReconcileCommand(factory),
  invoice: async (factory) => (await import('./invoice.ts')).makeInvoiceCommand(factory),
  'audit-log': async (factory) => (await import('./audit-log.ts')).makeAuditLogCommand(factory),
  municipality: async (factory) => (await import('./municipality-serve.ts')).makeMunicipalityCommand(factory),
  'verify-document': async (factory) => (await import('./verify-document.ts')).makeVerifyDocumentCommand(factory),
  simulate: async (factory) => (await import('./simulate.ts')).makeSimulateCommand(factory),
};

async function loadCommand(name: CommandName, io: Io, parts: FactoryParts): Promise<Command> {
  const { createFactory } = await import('./factory.ts');
  return LOADERS[name](createFactory(io, parts));
}

/**
 * The command these arguments run, if any: the first word that is not an option (the program's
 * own options take no values), or the word after `help`.
 */
export function chosenCommand(argv: readonly string[]): CommandName | undefined {
  const words = argv.filter((argument) => !argument.startsWith('-'));
  const chosen = words[0] === 'help' ? words[1] : words[0];
  return isCommandName(chosen) ? chosen : undefined;
}

/** commander's addCommand does not pass these down, so every command gets them (STYLE.md). */
function configureTree(command: Command, io: Io): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.out(text),
    writeErr: (text) => io.err(text),
    outputError: (text, write) => write(text.replace(/^error: /, 'cvs-issue: ')),
    // commander's defaults read process.stdout and process.stderr, which the Io keeps away from.
    getOutHelpWidth: () => io.stdoutColumns ?? 80,
    getErrHelpWidth: () => io.stderrColumns ?? 80,
    getOutHasColors: () => io.color,
    getErrHasColors: () => false,
  });
  command.showSuggestionAfterError(true);
  for (const sub of command.commands) configureTree(sub, io);
}

/**
 * The program, with the chosen command (if any) built in full; every other command is its name and
 * description only, which is all the top-level help and commander's suggestions read.
 */
export async function buildProgram(io: Io, argv: readonly string[], parts: FactoryParts = {}): Promise<Command> {
  const program = new Command('cvs-issue')
    .description("Japan's convenience-store certificate issuance service (コンビニ交付): kiosk, relay, centre and monthly settlement")
    .version(VERSION)
    .addHelpText('after', '\nExit codes: 0 done, 1 unexpected failure, 2 usage or bad input, 3 differences or tampering found.')
    // A listed-only command has no options to show, so the help takes each term from the table.
    .configureHelp({ subcommandTerm: (command) => (isCommandName(command.name()) ? COMMANDS[command.name() as CommandName].term : new Help().subcommandTerm(command)) })
    // A subcommand's options belong to it (`invoice pay --month` is pay's --month, not invoice's);
    // commander honours that only when the root parses positionally too.
    .enablePositionalOptions();
  const chosen = chosenCommand(argv);
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    program.addCommand(name === chosen ? await loadCommand(name, io, parts) : new Command(name).description(COMMANDS[name].description));
  }
  configureTree(program, io);
  return program;
}

/** Every command in full, as `cvs-issue <name>` builds it: for tests that compare them with the table. */
export async function buildCommand(name: CommandName, io: Io, parts: FactoryParts = {}): Promise<Command> {
  return loadCommand(name, io, parts);
}

/**
 * Runs the program and returns the exit code; prints one line for any error, never a stack. `parts`
 * replaces real parts of the factory (tests: a fixed clock).
 */
export async function main(argv: string[], io: Io, parts: FactoryParts = {}): Promise<number> {
  try {
    const program = await buildProgram(io, argv, parts);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
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

/** What a native tool killed by SIGPIPE reports (128 + 13); Node and Bun ignore the signal and see EPIPE. */
const EXIT_BROKEN_PIPE = 141;

if (isEntryPoint) {
  useServingAllocator(process.argv.slice(2));
  const io: Io = processIo({
    stdoutFailed(error) {
      // The reader has gone (`| head -1`): stop at once, quietly, as a native tool would.
      if (error.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
      io.err(`cvs-issue: cannot write to standard output: ${error.code ?? error.message}\n`);
      process.exit(EXIT_FAILURE);
    },
  });
  const code = await main(process.argv.slice(2), io);
  // The Io writes synchronously, so everything written is with the kernel already. Exiting here,
  // not when the event loop empties, also ends keep-alive connections and idle timers at once.
  process.exit(code);
}
