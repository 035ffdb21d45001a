// docs/conformance.md maps each clause of the contract to the feature that carries it and the test
// that proves it. This keeps it honest: every test it names exists and contains the quoted title,
// every row has a known status, and a row marked done or partial names at least one test.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STATUSES = /^(done|partial(: .+)?|not done( \(.+\))?|not software|see [A-Z] rows)$/;

interface Row {
  clause: string;
  proof: string;
  status: string;
}

function rows(): Row[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs/conformance.md'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| clause') && !line.startsWith('|---'))
    .map((line) => {
      const cells = line.slice(2, -2).split(' | ');
      assert.equal(cells.length, 5, `a row has five cells: ${line.slice(0, 60)}`);
      return { clause: cells[0]!, proof: cells[3]!, status: cells[4]! };
    });
}

/** Each `test/....ts` "title" pair a proof cell names. */
function proofsOf(cell: string): { file: string; title: string }[] {
  return [...cell.matchAll(/`(test\/[^`]+\.test\.ts)` "([^"]+)"/g)].map((match) => ({ file: match[1]!, title: match[2]! }));
}

describe('docs/conformance.md', () => {
  it('names only tests that exist, with titles their files contain', () => {
    const all = rows();
    assert.ok(all.length >= 30, `${all.length} rows`);
    for (const row of all) {
      for (const { file, title } of proofsOf(row.proof)) {
        const where = path.join(ROOT, file);
        assert.ok(fs.existsSync(where), `${row.clause}: ${file} does not exist`);
        assert.ok(fs.readFileSync(where, 'utf8').includes(title), `${row.clause}: ${file} has no test "${title}"`);
      }
    }
  });

  it('gives every row a known status, and a test for every clause it says is carried', () => {
    for (const row of rows()) {
      assert.match(row.status, STATUSES, `${row.clause}: status "${row.status}"`);
      const carried = row.status === 'done' || row.status.startsWith('partial');
      if (carried && !row.status.includes('not tested here')) assert.ok(proofsOf(row.proof).length > 0, `${row.clause} is ${row.status} but names no test`);
      if (row.proof !== '—') assert.equal(proofsOf(row.proof).length, row.proof.split(';').length, `${row.clause}: every proof is \`file\` "title"`);
    }
  });
});
