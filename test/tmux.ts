// A private tmux server for the tests that drive the interactive kiosk as a person does, through a
// real pseudo-terminal: keys go in with `send-keys`, the screen comes back with `capture-pane`. A
// machine without tmux skips those tests and says why; CI (.ci/run sets CVS_ISSUE_REQUIRE_TMUX=1)
// runs them regardless, so a missing tmux fails there instead of passing unseen.
//
// The server has a socket of its own (`-S`, in the test's folder) and no configuration (`-f
// /dev/null`), so neither the machine's tmux nor the developer's ~/.tmux.conf takes part.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';

/** Where tmux is looked for, whatever the test's own PATH: the bare PATH the e2e tests give the binary. */
const SEARCH_PATH = '/usr/bin:/bin';

const installed = spawnSync('tmux', ['-V'], { env: { PATH: SEARCH_PATH } }).error === undefined;

export const tmuxMissing: false | string = installed || process.env.CVS_ISSUE_REQUIRE_TMUX === '1' ? false : 'tmux is not installed (apt-get install tmux)';

/** How long a screen may take to show what a test waits for: generous, for a loaded 2-core machine. */
const SCREEN_DEADLINE_MS = 30_000;
const POLL_MS = 50;

export interface TmuxPane {
  /** Types the text as it stands (no key names). */
  type(text: string): void;
  /** Presses keys by tmux's names: Enter, BSpace, C-j … */
  press(...keys: string[]): void;
  /** The whole screen and its scrollback, wrapped lines joined, trailing blank lines dropped. */
  screen(): string[];
  /** The screen now: a mark to wait for what comes after it. */
  mark(): ScreenMark;
  /**
   * Waits until more lines hold the text (or match the pattern) than at the mark (default: until
   * one does); returns the lines from the mark's last line on. Fails, showing the screen, at the
   * deadline. Counting, not looking below the mark, because the mark's last line may still be the
   * line being typed, and may hold the text already (a prompt shown again).
   */
  waitFor(text: string | RegExp, since?: ScreenMark): Promise<string[]>;
  /** The pseudo-terminal's device, e.g. /dev/pts/3. */
  tty(): string;
}

export interface ScreenMark {
  lines: string[];
}

export interface PrivateTmux {
  /** A new session of a columns × rows terminal running argv in cwd; the environment is the server's. */
  open(name: string, argv: string[], cwd: string): TmuxPane;
  /** Kills the server and whatever still runs in its panes. */
  close(): void;
}

export function privateTmux(folder: string, environment: NodeJS.ProcessEnv, size = { columns: 100, rows: 40 }): PrivateTmux {
  const socket = path.join(folder, 'tmux.sock');
  // -u: tmux takes the terminal as UTF-8 whatever the locale says (the bare environment sets none).
  // What capture-pane and send-keys do here: docs/runtime-facts.md, "Terminal".
  const tmux = (...args: string[]): string => {
    const result = spawnSync('tmux', ['-u', '-S', socket, '-f', '/dev/null', ...args], { env: { ...environment, PATH: SEARCH_PATH }, encoding: 'utf8', timeout: 10_000 });
    assert.equal(result.status, 0, `tmux ${args[0]}: ${result.error ?? result.stderr}`);
    return result.stdout;
  };
  return {
    open(name, argv, cwd) {
      tmux('new-session', '-d', '-s', name, '-x', String(size.columns), '-y', String(size.rows), '-c', cwd, '--', ...argv);
      const target = `${name}:0.0`;
      const screen = () => {
        const lines = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', target).split('\n');
        while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
        return lines;
      };
      return {
        type: (text) => void tmux('send-keys', '-t', target, '-l', text),
        press: (...keys) => void tmux('send-keys', '-t', target, ...keys),
        screen,
        mark: () => ({ lines: screen() }),
        async waitFor(text, since = { lines: [] }) {
          const deadline = Date.now() + SCREEN_DEADLINE_MS;
          // Lines only grow: the screen's scrollback keeps them (tmux keeps 2,000) and -J joins wrapped ones.
          const holding = (lines: string[]) => lines.filter((line) => (typeof text === 'string' ? line.includes(text) : text.test(line))).length;
          const before = holding(since.lines);
          for (;;) {
            const lines = screen();
            if (holding(lines) > before) return lines.slice(Math.max(0, since.lines.length - 1));
            if (Date.now() > deadline) assert.fail(`the screen did not show ${String(text)} within ${SCREEN_DEADLINE_MS} ms:\n${screen().join('\n')}`);
            await sleep(POLL_MS);
          }
        },
        tty: () => tmux('display-message', '-p', '-t', target, '#{pane_tty}').trim(),
      };
    },
    close() {
      spawnSync('tmux', ['-S', socket, 'kill-server'], { env: { PATH: SEARCH_PATH }, timeout: 10_000 });
    },
  };
}

export interface TerminalModes {
  icanon: boolean;
  echo: boolean;
  isig: boolean;
  icrnl: boolean;
}

/**
 * Waits until the terminal is in these modes, e.g. after a command typed to change them: what is
 * typed before they change is read under the old ones (a CR typed under -icrnl ends no line).
 */
export async function waitForModes(tty: string, modes: TerminalModes): Promise<void> {
  const deadline = Date.now() + SCREEN_DEADLINE_MS;
  while (!isDeepStrictEqual(terminalModes(tty), modes)) {
    if (Date.now() > deadline) assert.deepEqual(terminalModes(tty), modes, `${tty} within ${SCREEN_DEADLINE_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** The terminal's line discipline as `stty -a` reports it: the flags that tell raw mode from cooked. */
export function terminalModes(tty: string): TerminalModes {
  const result = spawnSync('stty', ['-F', tty, '-a'], { env: { PATH: SEARCH_PATH }, encoding: 'utf8' });
  assert.equal(result.status, 0, `stty -F ${tty}: ${result.stderr}`);
  const words = new Set(result.stdout.split(/\s+/));
  const flag = (name: string) => {
    assert.ok(words.has(name) || words.has(`-${name}`), `stty -a shows ${name}`);
    return words.has(name);
  };
  return { icanon: flag('icanon'), echo: flag('echo'), isig: flag('isig'), icrnl: flag('icrnl') };
}
