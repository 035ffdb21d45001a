// Output goes through an injected IO object, so tests get stdout and stderr as buffers.

import { Readable } from 'node:stream';

export interface Io {
  /** What a person types (the interactive kiosk); tests pass their own lines. */
  readonly stdin: NodeJS.ReadableStream;
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: tables and colour are for people only. */
  readonly stdoutIsTty: boolean;
  readonly color: boolean;
}

export function processIo(): Io {
  const stdoutIsTty = Boolean(process.stdout.isTTY);
  return {
    stdin: process.stdin,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdoutIsTty,
    color: stdoutIsTty && !process.env.NO_COLOR,
  };
}

export interface BufferIo extends Io {
  stdout(): string;
  stderr(): string;
}

export function bufferIo(stdin: NodeJS.ReadableStream = Readable.from([])): BufferIo {
  let stdout = '';
  let stderr = '';
  return {
    stdin,
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    stdoutIsTty: false,
    color: false,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
