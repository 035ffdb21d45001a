// Irrecoverable removal of a file (C§9-2, P5): its bytes are overwritten in place and flushed to
// the disk before the name goes, so the blocks a deleted file leaves behind hold zeros, not data.
// On a copy-on-write file system or an SSD's flash translation layer an overwrite may land on new
// blocks; there disposal also needs the disk's own erase or its encryption key destroyed (README.md,
// "kiosk decommission").

import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK_BYTES = 64 * 1024;

/** Overwrites a regular file with zeros, flushes, deletes it. Returns false when there was nothing there. */
export function eraseFile(path: string): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return false;
  if (stat.isFile()) {
    const zeros = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, stat.size)));
    const fd = openSync(path, 'r+');
    try {
      for (let written = 0; written < stat.size; ) written += writeSync(fd, zeros, 0, Math.min(zeros.length, stat.size - written), written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  // A symbolic link is removed, never followed: what it points to is not the kiosk's.
  unlinkSync(path);
  return true;
}

/** Erases every file under a directory, then the directories; returns the files erased. */
export function eraseDirectory(path: string): string[] {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return eraseFile(path) ? [path] : [];
  const erased: string[] = [];
  for (const name of readdirSync(path)) erased.push(...eraseDirectory(join(path, name)));
  rmdirSync(path);
  return erased;
}

/** An SQLite database and the files beside it that can hold its pages (WAL, shared memory, rollback journal). */
export function sqliteFiles(databasePath: string): string[] {
  return [databasePath, `${databasePath}-wal`, `${databasePath}-shm`, `${databasePath}-journal`];
}
