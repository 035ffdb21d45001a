// Proves the kiosk's terminal (cmd/terminal.ts): on a terminal a secret (PIN, maintenance password)
// is never echoed while other answers are, backspace erases, Ctrl-C ends the input and the terminal
// is left as it was found; piped answers read as lines, typed-ahead ones kept.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { terminalInput } from '../../cmd/kiosk.ts';
import { createTerminal } from '../../cmd/terminal.ts';
import type { MenuItem } from '../../core/messages.ts';

/** A stand-in for a terminal's standard input: a stream that says it is a TTY and records raw mode. */
function fakeTty() {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode(mode: boolean): void; modes: boolean[] };
  stream.isTTY = true;
  stream.modes = [];
  stream.setRawMode = (mode) => void stream.modes.push(mode);
  return stream;
}

describe('kiosk terminal', () => {
  it('on a terminal echoes answers but never a secret, and restores cooked mode on close', async () => {
    const tty = fakeTty();
    let shown = '';
    const terminal = createTerminal(tty, (text) => (shown += text));
    const card = terminal.ask('card> ');
    tty.write('card-r001\r');
    assert.equal(await card, 'card-r001');
    const pin = terminal.askSecret('PIN> ');
    tty.write('12');
    tty.write('34\r');
    assert.equal(await pin, '1234');
    terminal.close();
    assert.equal(shown, 'card> card-r001\nPIN> \n');
    assert.doesNotMatch(shown, /1234/);
    assert.deepEqual(tty.modes, [true, false]);
  });

  it('erases with backspace (two columns for a full-width character) and drops arrow keys', async () => {
    const tty = fakeTty();
    let shown = '';
    const terminal = createTerminal(tty, (text) => (shown += text));
    const answer = terminal.ask('> ');
    tty.write('ab\u007fc\u001b[D漢\u007f字\r');
    assert.equal(await answer, 'ac字');
    assert.equal(shown, '> ab\b \bc漢\b\b  \b\b字\n');
    const secret = terminal.askSecret('> ');
    tty.write('pass\u007f\u007fss\r');
    assert.equal(await secret, 'pass');
    terminal.close();
  });

  it('ends the input on Ctrl-C or Ctrl-D: the open question and every later one get undefined', async () => {
    for (const key of ['\u0003', '\u0004']) {
      const tty = fakeTty();
      const terminal = createTerminal(tty, () => undefined);
      const pin = terminal.askSecret('PIN> ');
      tty.write(`12${key}`);
      assert.equal(await pin, undefined);
      assert.equal(await terminal.ask('again> '), undefined);
      assert.deepEqual(tty.modes, [true, false], 'cooked mode again at once');
      terminal.close();
    }
  });

  it('keeps lines typed before the question is asked', async () => {
    const tty = fakeTty();
    const terminal = createTerminal(tty, () => undefined);
    tty.write('first\rsecond\r');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await terminal.ask('> '), 'first');
    assert.equal(await terminal.askSecret('> '), 'second');
    terminal.close();
  });

  it('reads piped input as lines, a secret like any other, and answers undefined at its end', async () => {
    let shown = '';
    const terminal = createTerminal(Readable.from(['card-r001\n', '1234\n']), (text) => (shown += text));
    assert.equal(await terminal.ask('card> '), 'card-r001');
    assert.equal(await terminal.askSecret('PIN> '), '1234');
    assert.equal(await terminal.ask('more> '), undefined);
    assert.equal(shown, 'card> PIN> more> ');
    terminal.close();
  });
});

describe('kiosk menu on the terminal (Spec§8-2)', () => {
  const menu: MenuItem[] = [
    { certificateType: 'juminhyo', title: '住民票の写し', unitFeeYen: 200, maxCopies: 3, available: true, options: [], hoursText: '毎日6:30〜23:00' },
    { certificateType: 'koseki-zenbu', title: '戸籍謄本', unitFeeYen: 350, maxCopies: 3, available: false, options: [], hoursText: '平日9:00〜17:00' },
    { certificateType: 'inkan', title: '印鑑登録証明書', unitFeeYen: 250, maxCopies: 3, available: true, options: [], hoursText: '毎日6:30〜23:00' },
  ];

  it('numbers what can be issued now and shows the rest with when it can be', async () => {
    let shown = '';
    const terminal = createTerminal(Readable.from(['2\n', '1\n']), (text) => (shown += text));
    const choice = await terminalInput(terminal).chooseCertificate(menu);
    terminal.close();
    assert.deepEqual(choice, { certificateType: 'inkan', copies: 1 });
    assert.match(shown, /  1\. 住民票の写し  200円\/通  （毎日6:30〜23:00）\n  2\. 印鑑登録証明書  250円\/通/);
    assert.match(shown, /  －  戸籍謄本  ただいまの時間は発行できません（発行時間 平日9:00〜17:00）\n/);
    assert.doesNotMatch(shown, /[0-9]\. 戸籍謄本/);
  });
});
