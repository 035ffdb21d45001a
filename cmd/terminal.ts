// Questions and answers on a terminal, or on piped input: answers typed (or piped) before the
// question is asked are kept, and the end of input answers every open question with undefined.

import readline from 'node:readline';

export interface Terminal {
  /** The next line after showing the prompt, trimmed; undefined once input has ended. */
  ask(prompt: string): Promise<string | undefined>;
  say(text: string): void;
  close(): void;
}

export function createTerminal(input: NodeJS.ReadableStream, write: (text: string) => void): Terminal {
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
  return {
    ask(prompt) {
      write(prompt);
      if (queued.length > 0) return Promise.resolve(queued.shift());
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiting.push(resolve));
    },
    say(text) {
      write(text);
    },
    close() {
      lines.close();
    },
  };
}
