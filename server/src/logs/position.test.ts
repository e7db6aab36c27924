/**
 * Positions across Nomad's log rotation: a (file index, offset) maps to Nomad's cumulative origin=start offset over the
 * kept files (findClosest), and the cases where exact resume is impossible are named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparePositions, endOf, locate, type LogFile } from './position.ts';

const files = (...sizes: [number, number][]): LogFile[] => sizes.map(([index, size]) => ({ index, size }));

describe('locate', () => {
  it('adds up the kept files before the position, from the oldest kept (not from file 0)', () => {
    const sut = locate(files([3, 100], [4, 100], [5, 40]), { fileIndex: 5, offset: 25 });
    assert.deepEqual(sut, { offset: 225, exact: true, expected: { fileIndex: 5, offset: 25 } });
    assert.deepEqual(locate(files([5, 40], [3, 100], [4, 100]), { fileIndex: 3, offset: 0 }), { offset: 0, exact: true, expected: { fileIndex: 3, offset: 0 } });
  });

  it('expects the next non-empty file when the position is at the end of its file', () => {
    const sut = locate(files([0, 10], [1, 0], [2, 7]), { fileIndex: 0, offset: 10 });
    assert.deepEqual(sut, { offset: 10, exact: true, expected: { fileIndex: 2, offset: 0 } });
    assert.deepEqual(locate(files([0, 10]), { fileIndex: 0, offset: 10 }).expected, { fileIndex: 0, offset: 10 }, 'the newest file: wait at its end');
  });

  it('names what cannot be resumed exactly: a rotated-out file, a position past the log, a truncated file', () => {
    assert.deepEqual(locate(files([3, 100], [4, 5]), { fileIndex: 1, offset: 50 }), { offset: 0, exact: false, reason: 'rotated_out', expected: { fileIndex: 3, offset: 0 } });
    assert.deepEqual(locate(files([3, 100], [4, 5]), { fileIndex: 9, offset: 1 }), { offset: 105, exact: false, reason: 'unknown_position', expected: { fileIndex: 4, offset: 5 } });
    assert.deepEqual(locate(files([3, 100], [4, 5]), { fileIndex: 4, offset: 6 }), { offset: 105, exact: false, reason: 'truncated', expected: { fileIndex: 4, offset: 5 } });
    assert.equal(locate(files([3, 100], [5, 5]), { fileIndex: 4, offset: 1 }).reason, 'rotated_out', 'a hole in the kept indexes');
  });

  it('endOf is the total size and the newest file\'s end; positions order by file, then offset', () => {
    assert.deepEqual(endOf(files([2, 10], [3, 4])), { offset: 14, position: { fileIndex: 3, offset: 4 } });
    assert.deepEqual(endOf([]), { offset: 0, position: { fileIndex: 0, offset: 0 } });
    assert.ok(comparePositions({ fileIndex: 1, offset: 900 }, { fileIndex: 2, offset: 0 }) < 0);
    assert.ok(comparePositions({ fileIndex: 2, offset: 5 }, { fileIndex: 2, offset: 4 }) > 0);
  });
});
