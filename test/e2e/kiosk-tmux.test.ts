// Proves the interactive kiosk (`kiosk run` without --script, the compiled binary) works for a person
// at a real terminal: driven through a tmux pseudo-terminal key by key, one resident is issued a
// certificate without the PIN ever showing on the screen, and at a kiosk whose printer jams on the
// second copy another is told the fee is refunded and the printed copy void; the terminal is back in
// cooked mode when the kiosk ends, and after a SIGKILL in raw mode `stty sane` restores it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';
import { privateTmux, terminalModes, tmuxMissing, waitForModes, type PrivateTmux, type ScreenMark, type TmuxPane } from '../tmux.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';

/**
 * What each pane runs, as a kiosk's login script would: the kiosk (its pid written first, then the
 * same process becomes the kiosk), its exit status, then a minimal shell that runs each line typed,
 * so that the terminal as the kiosk left it can be seen and repaired from the keyboard.
 */
const PANE_SCRIPT = `pidfile=$1; shift
sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@"
echo "[exit $?]"
while IFS= read -r line; do eval "$line"; done
`;

const CARD_PROMPT = 'カードを置いてください（カードID、例: card-r001。空欄で終了）>';
const PIN_PROMPT = '暗証番号（数字4桁、残り3回、空欄で中止）>';

/** Each test's bound: the screens wait up to 30 s each (test/tmux.ts) on a loaded machine. */
const TEST_TIMEOUT_MS = 180_000;

interface Services {
  workspace: BinaryWorkspace;
  tmux: PrivateTmux;
  dir: string;
  relayUrl: string;
  paneScript: string;
}

describe('the interactive kiosk on a real terminal (tmux)', { skip: tmuxMissing }, () => {
  let workspace: BinaryWorkspace | undefined;
  let tmux: PrivateTmux | undefined;
  let started: Promise<Services> | undefined;

  /**
   * One deployment, centre and relay for both tests, started by the first test rather than in a
   * before hook: `bun test` gives a hook 5 s whatever its options say, and a cold deployment
   * template alone (test/cmd/deployment-fixture.ts) can take longer.
   */
  async function start(): Promise<Services> {
    workspace = binaryWorkspace('cvs-e2e-tmux-');
    const environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())) };
    const dir = path.join(workspace.work, 'site');
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const center = (await workspace.serve(environment, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0'])).url;
    const relayUrl = (await workspace.serve(environment, ['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center])).url;
    const paneScript = path.join(workspace.work, 'kiosk-pane.sh');
    fs.writeFileSync(paneScript, PANE_SCRIPT);
    tmux = privateTmux(workspace.work, environment);
    return { workspace, tmux, dir, relayUrl, paneScript };
  }
  const services = () => (started ??= start());

  after(() => {
    tmux?.close();
    workspace?.close();
  });

  /** A kiosk in a pane of its own; its pid is in the returned file once it runs. */
  async function openKiosk(name: string, ...extra: string[]): Promise<{ pane: TmuxPane; pidFile: string }> {
    const { workspace, tmux, dir, relayUrl, paneScript } = await services();
    const pidFile = path.join(workspace.work, `${name}.pid`);
    const pane = tmux.open(name, ['sh', paneScript, pidFile, workspace.binary, 'kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relayUrl, ...extra], workspace.work);
    return { pane, pidFile };
  }

  /**
   * Types a line and presses Enter once the screen asks for it (since the mark); returns the mark
   * taken just before Enter, which everything the kiosk answers comes after.
   */
  async function answer(pane: TmuxPane, prompt: string, text: string, since?: ScreenMark): Promise<ScreenMark> {
    await pane.waitFor(prompt, since);
    pane.type(text);
    const sent = pane.mark();
    pane.press('Enter');
    return sent;
  }

  /**
   * The 住民票's options, each asked with its choices (core/certificate-types.ts): an empty answer
   * keeps the default; `chosen` gives an option's number instead.
   */
  async function answerOptions(pane: TmuxPane, since: ScreenMark, chosen: Record<string, string> = {}): Promise<void> {
    for (const label of ['世帯', '世帯主・続柄', '本籍・筆頭者', '個人番号']) {
      await pane.waitFor(`${label}の番号（空欄で既定）>`, since);
      if (chosen[label] !== undefined) pane.type(chosen[label]);
      pane.press('Enter');
    }
  }

  const printed = async () => {
    const folder = path.join((await services()).dir, 'prints', 'K0001');
    return fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
  };

  /** The menu's number and fee for 住民票の写し: residents of different municipalities see different menus. */
  function juminhyoOnMenu(menu: string[]): { choice: string; unitFeeYen: number } {
    for (const line of menu) {
      const match = /^ {2}([0-9]+)\. 住民票の写し {2}([0-9]+)円\/通 {2}（毎日 06:30〜23:00）$/.exec(line);
      if (match) return { choice: match[1]!, unitFeeYen: Number(match[2]) };
    }
    assert.fail(`no 住民票の写し on the menu:\n${menu.join('\n')}`);
  }

  it('issues a certificate to a resident who types the card id, the PIN (never shown), the choice and the cash', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { pane } = await openKiosk('issuance');
    const session = await answer(pane, CARD_PROMPT, 'card-r002');
    // The PIN is typed with a slip corrected by backspace, as a person does: 2581 ⌫ 0.
    await pane.waitFor(PIN_PROMPT, session);
    pane.type('2581');
    pane.press('BSpace');
    pane.type('0');
    pane.press('Enter');
    const { choice, unitFeeYen } = juminhyoOnMenu(await pane.waitFor('番号を選んでください（空欄で中止）>', session));
    await answer(pane, '番号を選んでください（空欄で中止）>', choice, session);
    // 本籍・筆頭者 shown (2. 記載), the rest as they are.
    await answerOptions(pane, session, { '本籍・筆頭者': '2' });
    await answer(pane, '通数（1〜10）>', '1', session);
    await pane.waitFor(`住民票の写し 1通　手数料 ${unitFeeYen}円`, session);
    await answer(pane, `投入する金額（10,50,100,500,1000,2000,5000,10000円、残り${unitFeeYen}円、空欄で中止）>`, '1000', session);
    // The session is over when the kiosk asks for the next card.
    const done = await pane.waitFor(CARD_PROMPT, session);
    const changeYen = 1000 - unitFeeYen;
    assert.deepEqual(
      done.filter((line) => /印刷|おつり|お取りください|^\[K0001\]/.test(line)),
      [
        '  印刷しています（1/1通）。',
        `  おつり ${changeYen}円をお取りください。`,
        '  証明書と領収書、カードをお取りください。ご利用ありがとうございました。',
        `[K0001] issued juminhyo ×1 (${unitFeeYen} yen, change ${changeYen} yen)`,
      ],
    );
    // Nothing of the PIN reached the screen, not even the slip: its line ends at the prompt's own
    // trailing space (capture-pane -J keeps trailing spaces).
    const screen = pane.screen();
    assert.deepEqual(
      screen.filter((line) => line.startsWith(PIN_PROMPT)),
      [`${PIN_PROMPT} `],
    );
    assert.ok(!screen.some((line) => line.includes('258')), screen.join('\n'));
    const files = await printed();
    assert.equal(files.length, 2, files.join(', '));
    assert.match(files[0]!, /^[0-9a-f]{32}-certificate-copy1\.pdf$/);
    assert.equal(files[1], files[0]!.replace('certificate-copy1', 'receipt'));

    // An empty card id ends the kiosk: exit 0, the terminal back in cooked mode (echo, lines, signals).
    await pane.waitFor('[exit 0]', await answer(pane, CARD_PROMPT, '', session));
    assert.deepEqual(terminalModes(pane.tty()), { icanon: true, echo: true, isig: true, icrnl: true });
  });

  it('refunds a resident whose second copy jams, at a kiosk set to jam (--printer folder:jam-on-copy=2), and ends the session', { timeout: TEST_TIMEOUT_MS }, async () => {
    const earlier = new Set(await printed());
    const { pane, pidFile } = await openKiosk('misprint', '--printer', 'folder:jam-on-copy=2');
    await pane.waitFor('[K0001] test mode: the printer jams on certificate copy 2 of every transaction (--printer folder:jam-on-copy=2)');
    const session = await answer(pane, CARD_PROMPT, 'card-r001');
    await answer(pane, PIN_PROMPT, '1234', session);
    const { choice, unitFeeYen } = juminhyoOnMenu(await pane.waitFor('番号を選んでください（空欄で中止）>', session));
    await answer(pane, '番号を選んでください（空欄で中止）>', choice, session);
    await answerOptions(pane, session);
    await answer(pane, '通数（1〜10）>', '2', session);
    await answer(pane, `投入する金額（10,50,100,500,1000,2000,5000,10000円、残り${2 * unitFeeYen}円、空欄で中止）>`, '1000', session);
    // The session ends (the kiosk asks for the next card) with the money back: every yen inserted.
    const ended = await pane.waitFor(CARD_PROMPT, session);
    const text = ended.join('\n');
    const jammed = ended.indexOf('  印刷しています（2/2通）。');
    assert.ok(jammed >= 0, text);
    // What the screen says after the jam, however its lines are laid out: a refund, of 1,000 yen.
    const afterJam = ended.slice(jammed + 1);
    assert.ok(afterJam.some((line) => line.includes('返金')), text);
    assert.ok(afterJam.some((line) => line.includes('1,000円')), text);
    assert.ok(!ended.some((line) => line.includes('お取りください。ご利用ありがとうございました')), text);
    assert.ok(!text.includes('1234'), text);
    // Copy 1 came out and is voided by the slip beside it; copy 2 jammed; no receipt for a refund.
    const files = (await printed()).filter((file) => !earlier.has(file));
    assert.equal(files.length, 2, files.join(', '));
    const requestId = files[0]!.slice(0, 32);
    assert.deepEqual(files, [`${requestId}-certificate-copy1.pdf`, `${requestId}-void-notice.pdf`]);
    // The clerk is told to stamp every copy 「返金済・無効」, by serial, printed or not (C§9); the
    // outcome line names the serials whose void goes to the centre through the outbox.
    const serials = [`${requestId}-1`, `${requestId}-2`];
    const stamp = afterJam.find((line) => line.includes('「返金済・無効」'));
    assert.ok(stamp !== undefined && serials.every((serial) => stamp.includes(serial)), text);
    assert.ok(ended.includes(`[K0001] refunded 1000 yen after printer.jam; void, sent to the centre through the outbox: ${serials.join(', ')}`), text);

    // SIGKILL while the kiosk waits in raw mode: nothing of the kiosk runs to restore the terminal.
    assert.deepEqual(terminalModes(pane.tty()), { icanon: false, echo: false, isig: false, icrnl: false });
    const killed = pane.mark();
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    await pane.waitFor('[exit 137]', killed);
    assert.deepEqual(terminalModes(pane.tty()), { icanon: false, echo: false, isig: false, icrnl: false });
    // The repair README.md gives: type `stty sane` (not shown) and end it with Ctrl-J, as Enter no longer ends a line.
    // Then, as a person would once the terminal answers again, a command typed with Enter is shown and runs.
    const typed = pane.mark();
    pane.type('stty sane');
    pane.press('C-j');
    await waitForModes(pane.tty(), { icanon: true, echo: true, isig: true, icrnl: true });
    pane.type('echo "[repaired]"');
    pane.press('Enter');
    const repaired = await pane.waitFor(/^\[repaired\]$/, typed);
    assert.ok(!repaired.some((line) => line.includes('stty sane')), repaired.join('\n'));
    assert.ok(repaired.includes('echo "[repaired]"'), repaired.join('\n'));
  });
});
