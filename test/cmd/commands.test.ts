// Proves that the top-level help, which reads only cmd/commands.ts, says of every command what the
// command's own module says, and that the arguments pick the one command to load in full.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Help } from 'commander';
import { COMMANDS, type CommandName } from '../../cmd/commands.ts';
import { buildCommand, chosenCommand } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { run } from './cli-fixture.ts';

describe('the command table', () => {
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    it(`lists ${name} with the term and description its module gives it`, async () => {
      const command = await buildCommand(name, bufferIo());
      assert.deepEqual(
        { name: command.name(), term: new Help().subcommandTerm(command), description: command.description() },
        { name, ...COMMANDS[name] },
      );
    });
  }

  it('loads the command the arguments name, or the one after help, and none for the program\'s own options', () => {
    const cases: [string[], CommandName | undefined][] = [
      [[], undefined],
      [['--help'], undefined],
      [['-V'], undefined],
      [['help'], undefined],
      [['frobnicate'], undefined],
      [['kiosk', 'run', '--script', 'x.json'], 'kiosk'],
      [['-h', 'init'], 'init'],
      [['help', 'audit-log'], 'audit-log'],
      [['audit-log', 'help', 'verify'], 'audit-log'],
    ];
    assert.deepEqual(
      cases.map(([argv]) => chosenCommand(argv)),
      cases.map(([, chosen]) => chosen),
    );
  });

  it('answers "help COMMAND" with that command\'s full help', async () => {
    const result = await run('help', 'kiosk');
    assert.equal(result.code, 0);
    assert.equal(result.stdout, (await run('kiosk', '--help')).stdout);
    assert.match(result.stdout, /^ {2}close-day\b/m);
  });
});
