import assert from 'node:assert/strict';
import { fixProblemsGoal, MAX_LISTED_PROBLEMS, writeTestsGoal, type Problem } from '../../src/extension/task-goals.ts';

describe('extension: command-palette task goals', () => {
  it('lists errors and warnings by line, errors first on a line, and leaves out hints', () => {
    const problems: Problem[] = [
      { line: 12, severity: 'warning', message: "'x' is declared\n  but never used.", source: 'ts' },
      { line: 3, severity: 'hint', message: 'could be const' },
      { line: 12, severity: 'error', message: "Cannot find name 'y'.", source: 'ts' },
      { line: 1, severity: 'information', message: 'fyi' },
    ];
    const goal = fixProblemsGoal('src/a.ts', problems)!;
    assert.deepEqual(goal.split('\n').slice(0, 3), [
      'Fix the problems the editor reports in src/a.ts:',
      "- line 12 (error, ts): Cannot find name 'y'.",
      "- line 12 (warning, ts): 'x' is declared but never used.",
    ]);
    assert.ok(!goal.includes('could be const') && !goal.includes('fyi'));
  });

  it('has no goal when nothing needs fixing, and counts what it does not list', () => {
    assert.equal(fixProblemsGoal('a.ts', [{ line: 1, severity: 'hint', message: 'h' }]), undefined);
    const many = Array.from({ length: MAX_LISTED_PROBLEMS + 3 }, (_, i): Problem => ({ line: i + 1, severity: 'error', message: `e${i}` }));
    const goal = fixProblemsGoal('a.ts', many)!;
    assert.equal(goal.split('\n').filter((l) => l.startsWith('- line')).length, MAX_LISTED_PROBLEMS);
    assert.ok(goal.includes('- and 3 more'));
  });

  it('names the file to write tests for', () => {
    assert.match(writeTestsGoal('src/util/math.ts'), /^Write tests for src\/util\/math\.ts,/);
  });
});
