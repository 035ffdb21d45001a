// Proves that piped output arrives whole, in the compiled binary and under Node: megabytes of
// `audit-log export` and `audit-log show --json` read slowly through a pipe are byte for byte what
// the same command writes to a file, and a reader that stops early (`| head -1`) ends the program
// quietly with 141, as SIGPIPE ends a native tool.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../../drivers/store/audit-log.ts';
import { openDatabase } from '../../drivers/store/database.ts';
import { migrate } from '../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../drivers/store/schema.ts';

const root = path.resolve(import.meta.dirname, '../..');
const built = path.join(root, 'dist/cvs-issue');
/** About 300 bytes of export per entry: some 1.8 MB, far beyond any pipe's capacity (64 KiB on Linux). */
const ENTRIES = 6_000;
const environment = { PATH: '/usr/bin:/bin', TZ: 'UTC', NO_COLOR: '1' };

const runtimes = [
  { name: 'the binary', command: built, prefix: [] as string[] },
  { name: 'Node', command: process.execPath, prefix: ['--import', 'tsx', path.join(root, 'cmd/cvs-issue.ts')] },
];

interface Finished {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the command with stdout on a pipe that this reader drains late and in small, slow reads. */
async function runWithSlowReader(command: string, args: string[]): Promise<Finished> {
  const child = spawn(command, args, { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const chunks: Buffer[] = [];
  // Let the writer fill the pipe and block (or, before the fix, believe it was done and exit).
  await sleep(300);
  for await (const chunk of child.stdout) {
    chunks.push(chunk as Buffer);
    await sleep(2);
  }
  return { code: await exited, stdout: Buffer.concat(chunks), stderr };
}

/** Reads the first line, then closes the pipe, as `| head -1` does. */
async function runWithEarlyClose(command: string, args: string[]): Promise<Finished & { firstLine: string }> {
  const child = spawn(command, args, { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const firstChunk: Buffer = await new Promise((resolve) => child.stdout.once('data', resolve));
  child.stdout.destroy();
  return { code: await exited, stdout: firstChunk, stderr, firstLine: firstChunk.toString('utf8').split('\n')[0]! };
}

function fingerprint(bytes: Buffer): { bytes: number; sha256: string } {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

describe('piped output is complete', () => {
  let work: string;
  let database: string;
  let key: string;

  before(() => {
    assert.ok(fs.existsSync(built), 'dist/cvs-issue exists (npm run build)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-pipe-'));
    database = path.join(work, 'kiosk.db');
    const db = openDatabase(database);
    migrate(db, 'kiosk', KIOSK_MIGRATIONS);
    let clockMs = Date.parse('2026-11-02T01:00:00Z');
    const log = new AuditLog(db, { origin: auditOrigin('kiosk', 'K0001'), privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => (clockMs += 1) } });
    const batch = 1_000;
    for (let first = 0; first < ENTRIES; first += batch) {
      log.append(...Array.from({ length: batch }, (_, offset) => ({ kind: 'certificate.printed', data: { requestId: `r${(first + offset).toString(16).padStart(12, '0')}`, copy: 1 } })));
    }
    key = log.verifierKey;
    db.close();
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  const commands = [
    { name: 'audit-log export', args: () => ['audit-log', 'export', '--db', database, '--key', key] },
    { name: 'audit-log show --json', args: () => ['audit-log', 'show', '--json', '--db', database, '--key', key] },
  ];

  for (const runtime of runtimes) {
    // The binary is the product and runs both commands; Node, the reference it must match, one
    // (each Node run compiles the program through tsx: seconds of CPU, issue 9).
    for (const command of runtime.name === 'Node' ? commands.slice(0, 1) : commands) {
      it(`${runtime.name}: ${command.name} read slowly through a pipe is what it writes to a file`, async () => {
        const file = path.join(work, `${runtime.name}-${command.name}.out`.replace(/[^a-z0-9.-]+/gi, '-'));
        const descriptor = fs.openSync(file, 'w');
        const toFile = spawnSync(runtime.command, [...runtime.prefix, ...command.args()], { cwd: root, env: environment, stdio: ['ignore', descriptor, 'pipe'], encoding: 'utf8', timeout: 120_000 });
        fs.closeSync(descriptor);
        assert.deepEqual({ code: toFile.status, stderr: toFile.stderr }, { code: 0, stderr: '' });
        const expected = fs.readFileSync(file);
        assert.ok(expected.length > 1024 * 1024, `more than 1 MB (${expected.length} bytes)`);

        const piped = await runWithSlowReader(runtime.command, [...runtime.prefix, ...command.args()]);
        assert.deepEqual({ code: piped.code, stderr: piped.stderr, ...fingerprint(piped.stdout) }, { code: 0, stderr: '', ...fingerprint(expected) });
      });
    }

    it(`${runtime.name}: a reader that stops after one line ends the export quietly with 141`, async () => {
      const result = await runWithEarlyClose(runtime.command, [...runtime.prefix, ...commands[0]!.args()]);
      assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 141, stderr: '' });
      assert.equal(JSON.parse(result.firstLine).format, 'cvs-issue-audit-export/2');
    });
  }
});
