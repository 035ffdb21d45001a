// Output goes through an injected IO object, so tests get stdout and stderr as buffers.
//
// The process's IO writes synchronously to file descriptors 1 and 2: when `out` returns, the
// kernel holds the bytes, so exiting at any moment afterwards loses nothing, and a slow reader
// holds the writer back as it would a native tool. Bun's `process.stdout` writes to a pipe
// asynchronously and reports `writableLength: 0` while megabytes are pending, so exiting after
// writing to it cut piped output at the pipe's capacity (64-128 KiB); Node can lose output the
// same way. Not touching process.stdout also saves the binary ~12 ms at start.

import fs from 'node:fs';
import type { Readable } from 'node:stream';

export interface Io {
  /** What a person types (the interactive kiosk); tests pass their own lines. */
  readonly stdin: NodeJS.ReadableStream;
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: tables and colour are for people only. */
  readonly stdoutIsTty: boolean;
  readonly color: boolean;
  /** The terminal's width, for help text; undefined when the stream is not a terminal (help then wraps at 80). */
  readonly stdoutColumns: number | undefined;
  readonly stderrColumns: number | undefined;
}

/** What the process's IO does when a standard stream cannot take more output. */
export interface OutputFailures {
  /** stdout failed (EPIPE: its reader has gone, as with `| head -1`); nothing more reaches it. */
  stdoutFailed(error: NodeJS.ErrnoException): void;
}

const STDOUT = 1;
const STDERR = 2;
/** How long to wait before trying again when a non-blocking descriptor is full (EAGAIN). */
const RETRY_WAIT_MS = 2;

export function processIo(failures: OutputFailures): Io {
  let stderrBroken = false;
  // Terminal checks are made on first use: most runs never ask, and in the binary the first
  // touch of process.stdout costs more than the whole of `cvs-issue --help` otherwise does.
  let stdoutIsTty: boolean | undefined;
  return {
    get stdin() {
      return process.stdin;
    },
    out(text) {
      try {
        writeAll(STDOUT, text);
      } catch (error) {
        failures.stdoutFailed(error as NodeJS.ErrnoException);
      }
    },
    err(text) {
      if (stderrBroken) return;
      try {
        writeAll(STDERR, text);
      } catch {
        // Nowhere is left to say so: drop diagnostics, keep doing the work.
        stderrBroken = true;
      }
    },
    get stdoutIsTty() {
      stdoutIsTty ??= isTty(STDOUT);
      return stdoutIsTty;
    },
    get color() {
      return this.stdoutIsTty && !process.env.NO_COLOR;
    },
    get stdoutColumns() {
      return this.stdoutIsTty ? process.stdout.columns : undefined;
    },
    get stderrColumns() {
      return isTty(STDERR) ? process.stderr.columns : undefined;
    },
  };
}

/**
 * A terminal is a character device; pipes and files are not, and need no further look. /dev/null
 * is one too, so node:tty (~4 ms to load in the binary) decides, for character devices only.
 */
function isTty(fd: number): boolean {
  try {
    if (!fs.fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/** Writes every byte, waiting while a non-blocking descriptor is full; throws EPIPE and the like. */
function writeAll(fd: number, text: string): void {
  if (text === '') return;
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < bytes.length) {
    try {
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      retryWaiter ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(retryWaiter, 0, 0, RETRY_WAIT_MS);
    }
  }
}

/** Atomics.wait sleeps without spinning; the word is never notified. */
let retryWaiter: Int32Array | undefined;

export interface BufferIo extends Io {
  stdout(): string;
  stderr(): string;
}

/** Output kept in memory (tests, and commands that run other commands); stdin is empty unless given. */
export function bufferIo(stdin?: Readable): BufferIo {
  let stdout = '';
  let stderr = '';
  let input = stdin;
  return {
    get stdin() {
      input ??= emptyInput();
      return input;
    },
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    stdoutIsTty: false,
    color: false,
    stdoutColumns: undefined,
    stderrColumns: undefined,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** An input that has already ended; node:stream is loaded only when a command reads stdin. */
function emptyInput(): Readable {
  const { Readable: ReadableStream } = process.getBuiltinModule('node:stream');
  return ReadableStream.from([]);
}
