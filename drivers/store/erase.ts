// Irrecoverable removal of a file (C§9-2, P5): its bytes are overwritten in place and flushed to
// the disk before the name goes, so the blocks a deleted file leaves behind hold zeros, not data.
// On a copy-on-write file system or an SSD's flash translation layer an overwrite may land on new
// blocks; there disposal also needs the disk's own erase or its encryption key destroyed (README.md,
// "kiosk decommission").

import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK_BYTES = 64 * 1024;

/**
 * Opens the regular file `path` was found to be, for writing, never through a symbolic link (one
 * swapped in since the lstat is refused by O_NOFOLLOW) and only if it is still that file.
 */
function openSame(path: string, found: { ino: number; dev: number }): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP' || (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const opened = fstatSync(fd);
  if (opened.ino !== found.ino || opened.dev !== found.dev || !opened.isFile()) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Writes zeros over the whole file behind `fd` and flushes them to the disk. */
function overwrite(fd: number): void {
  const size = fstatSync(fd).size;
  const zeros = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, size)));
  for (let written = 0; written < size; ) written += writeSync(fd, zeros, 0, Math.min(zeros.length, size - written), written);
  fsyncSync(fd);
}

/** Overwrites a regular file with zeros, flushes, deletes it. Returns false when there was nothing there. */
export function eraseFile(path: string): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return false;
  const fd = stat.isFile() ? openSame(path, stat) : undefined;
  if (fd !== undefined) {
    try {
      overwrite(fd);
    } finally {
      closeSync(fd);
    }
  }
  // A symbolic link is removed, never followed: what it points to is not the kiosk's.
  unlinkSync(path);
  return true;
}

/**
 * Opens a file now so that it can be erased after its owner deletes it: SQLite removes a
 * database's WAL and shared-memory files when the last connection closes, without overwriting
 * them, and the blocks of a file still open here are not freed until it is overwritten. Returns
 * undefined when there is no such file.
 */
export function holdForErasure(path: string): { path: string; erase(): void } | undefined {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) return undefined;
  const fd = openSame(path, stat);
  if (fd === undefined) return undefined;
  return {
    path,
    erase() {
      try {
        overwrite(fd);
      } finally {
        closeSync(fd);
      }
      // Still there (the owner kept it): the name goes too, unless it now names another file.
      const now = lstatSync(path, { throwIfNoEntry: false });
      if (now && now.ino === stat.ino && now.dev === stat.dev) unlinkSync(path);
    },
  };
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
