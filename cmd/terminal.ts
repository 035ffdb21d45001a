// Questions and answers on a terminal, or on piped input: answers typed (or piped) before the
// question is asked are kept, and the end of input answers every open question with undefined.
//
// On a terminal the kiosk edits lines itself, in raw mode, so that a secret (the PIN, the
// maintenance password) is never echoed: the terminal's own echo would show it to whoever stands
// behind the resident or the technician. Piped input is read as lines and nothing is echoed.

import readline from 'node:readline';

export interface Terminal {
  /** The next line after showing the prompt, trimmed; undefined once input has ended. */
  ask(prompt: string): Promise<string | undefined>;
  /** As ask, but what is typed is not shown (a PIN, a password). */
  askSecret(prompt: string): Promise<string | undefined>;
  say(text: string): void;
  close(): void;
}

/** What a terminal's standard input offers beyond a stream (node:tty ReadStream). */
interface TtyInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export function createTerminal(input: NodeJS.ReadableStream, write: (text: string) => void): Terminal {
  const tty = input as TtyInput;
  if (tty.isTTY === true && typeof tty.setRawMode === 'function') return rawTerminal(tty, write);
  return lineTerminal(input, write);
}

function lineTerminal(input: NodeJS.ReadableStream, write: (text: string) => void): Terminal {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  const queued: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  lines.on('line', (line) => {
    const answer = waiting.shift();
    if (answer) answer(line.trim());
    else queued.push(line.trim());
  });
  lines.on('close', () => {
    ended = true;
    for (const answer of waiting.splice(0)) answer(undefined);
  });
  const ask = (prompt: string): Promise<string | undefined> => {
    write(prompt);
    if (queued.length > 0) return Promise.resolve(queued.shift());
    if (ended) return Promise.resolve(undefined);
    return new Promise((resolve) => waiting.push(resolve));
  };
  return {
    ask,
    // Piped input is not echoed by anyone: a secret reads like any other line.
    askSecret: ask,
    say: write,
    close() {
      lines.close();
    },
  };
}

const ENTER = new Set(['\r', '\n']);
const ERASE = new Set(['\u007f', '\b']);
/** Ctrl-C and Ctrl-D end the input, as closing a piped input does: every open question is cancelled. */
const END = new Set(['\u0003', '\u0004']);

/**
 * A line editor in raw mode: printable characters are echoed (or not, for a secret), backspace
 * erases the last character, Enter ends the line, Ctrl-C or Ctrl-D ends the input. Escape sequences
 * (arrow keys) are dropped rather than entered.
 */
function rawTerminal(tty: TtyInput, write: (text: string) => void): Terminal {
  let ended = false;
  let current: { secret: boolean; resolve: (line: string | undefined) => void } | undefined;
  const queued: string[] = [];
  let pending = '';
  let escape = false;

  const finishLine = () => {
    const line = pending.trim();
    pending = '';
    write('\n');
    if (current) {
      const { resolve } = current;
      current = undefined;
      resolve(line);
    } else queued.push(line);
  };
  const end = () => {
    if (ended) return;
    ended = true;
    if (current) {
      const { resolve } = current;
      current = undefined;
      write('\n');
      resolve(undefined);
    }
    restore();
  };
  const onData = (chunk: Buffer | string) => {
    for (const character of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
      if (ended) return;
      if (escape) {
        // CSI sequences end with a letter or ~; a lone ESC followed by something else ends there.
        if (/[A-Za-z~]/.test(character)) escape = false;
        continue;
      }
      if (character === '\u001b') escape = true;
      else if (END.has(character)) end();
      else if (ENTER.has(character)) finishLine();
      else if (ERASE.has(character)) {
        const characters = [...pending];
        if (characters.length === 0) continue;
        const erased = characters.pop()!;
        pending = characters.join('');
        if (!current?.secret) write(isWide(erased) ? '\b\b  \b\b' : '\b \b');
      } else if (character >= ' ') {
        pending += character;
        if (!current?.secret) write(character);
      }
    }
  };
  // However the process ends (an uncaught error, process.exit), the terminal goes back to cooked mode;
  // only a SIGKILL or SIGHUP leaves it raw (docs/runtime-facts.md, "Terminal"; README Troubleshooting).
  const cooked = () => tty.setRawMode?.(false);
  const restore = () => {
    tty.removeListener('data', onData);
    tty.removeListener('end', end);
    process.removeListener('exit', cooked);
    cooked();
    tty.pause();
  };
  process.once('exit', cooked);
  tty.setRawMode!(true);
  tty.on('data', onData);
  tty.on('end', end);
  tty.resume();

  const askWith = (prompt: string, secret: boolean): Promise<string | undefined> => {
    write(prompt);
    if (queued.length > 0) return Promise.resolve(queued.shift());
    if (ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      current = { secret, resolve };
    });
  };
  return {
    ask: (prompt) => askWith(prompt, false),
    askSecret: (prompt) => askWith(prompt, true),
    say: write,
    close() {
      if (!ended) {
        ended = true;
        restore();
      }
    },
  };
}

/** Full-width characters take two columns: erasing one takes two backspaces. */
function isWide(character: string): boolean {
  const code = character.codePointAt(0)!;
  return (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) || (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) || (code >= 0xffe0 && code <= 0xffe6) || code >= 0x20000;
}
