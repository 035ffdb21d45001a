// What the end-to-end tests share: the compiled binary copied into a folder of its own, away from the
// source tree, and the processes run from there (a command to completion, or a role that serves
// until stopped).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BUILT_BINARY = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

/** A bare environment: nothing of the developer's shell reaches the binary. */
export const BARE_ENVIRONMENT = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), TZ: 'UTC', NO_COLOR: '1' };

export interface BinaryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface BinaryWorkspace {
  /** The folder the binary runs in (its working directory). */
  work: string;
  binary: string;
  run(environment: NodeJS.ProcessEnv, ...args: string[]): BinaryRun;
  /** Starts a long-running role and resolves once it prints the URL it listens on. */
  serve(environment: NodeJS.ProcessEnv, args: string[]): Promise<{ child: ChildProcess; url: string }>;
  /** SIGTERM, as an operator's service manager stops it; resolves with the exit code. */
  stop(child: ChildProcess): Promise<number | null>;
  /** Kills what still runs and removes the folder. */
  close(): void;
}

export function binaryWorkspace(prefix: string): BinaryWorkspace {
  assert.ok(fs.existsSync(BUILT_BINARY), 'dist/cvs-issue exists (npm run build)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const binary = path.join(work, 'bin', 'cvs-issue');
  fs.mkdirSync(path.dirname(binary));
  fs.copyFileSync(BUILT_BINARY, binary);
  fs.chmodSync(binary, 0o755);
  const running: ChildProcess[] = [];
  return {
    work,
    binary,
    run(environment, ...args) {
      const result = spawnSync(binary, args, { cwd: work, env: environment, encoding: 'utf8', timeout: 120_000 });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    serve(environment, args) {
      const child = spawn(binary, args, { cwd: work, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
      running.push(child);
      return new Promise((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stderr!.on('data', (chunk) => (stderr += chunk));
        child.stdout!.on('data', (chunk) => {
          stdout += chunk;
          // The whole URL: a chunk may end inside it.
          const match = /listening on (https:\/\/[^\s;]+)[;\s]/.exec(stdout);
          if (match) resolve({ child, url: match[1]! });
        });
        child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`)));
      });
    },
    stop(child) {
      return new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      });
    },
    close() {
      for (const child of running) child.kill('SIGKILL');
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
