// Proves the erasure of drivers/store/erase.ts overwrites a file's bytes in place before its name
// goes (a second hard link to the same data sees zeros), also for a file its owner deleted while
// it was held, and never follows a symbolic link out of the directory it erases.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eraseDirectory, eraseFile, holdForErasure } from '../../../drivers/store/erase.ts';

describe('erase', () => {
  let dir: string;
  const secret = Buffer.from('髙橋 一郎 東京都千代田区一番町1番地1 '.repeat(5000), 'utf8');
  /** A file with the secret, and a second name for the same data that outlives the erased one. */
  const fileWithWitness = (name: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, secret);
    fs.linkSync(file, `${file}.witness`);
    return file;
  };
  const zerosOnly = (file: string) => {
    const bytes = fs.readFileSync(file);
    return bytes.length === secret.length && bytes.every((byte) => byte === 0);
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-erase-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('overwrites the bytes with zeros, then removes the name', () => {
    const file = fileWithWitness('kiosk.db');
    assert.equal(eraseFile(file), true);
    assert.equal(fs.existsSync(file), false);
    assert.ok(zerosOnly(`${file}.witness`));
    assert.equal(eraseFile(file), false, 'nothing left to erase');
  });

  it('overwrites a held file after its owner deleted it', () => {
    const file = fileWithWitness('kiosk.db-wal');
    const held = holdForErasure(file)!;
    fs.unlinkSync(file); // what SQLite does with the WAL when the last connection closes
    held.erase();
    assert.ok(zerosOnly(`${file}.witness`));
    assert.equal(holdForErasure(file), undefined);
  });

  it('erases a directory tree, removing a symbolic link without touching what it points to', () => {
    const tree = path.join(dir, 'prints');
    fs.mkdirSync(path.join(tree, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'nested', 'copy1.pdf'), secret);
    const outside = path.join(dir, 'outside.pdf');
    fs.writeFileSync(outside, secret);
    fs.symlinkSync(outside, path.join(tree, 'link.pdf'));
    assert.deepEqual(eraseDirectory(tree).map((file) => path.relative(tree, file)).sort(), ['link.pdf', path.join('nested', 'copy1.pdf')]);
    assert.equal(fs.existsSync(tree), false);
    assert.deepEqual(fs.readFileSync(outside), secret);
  });
});
