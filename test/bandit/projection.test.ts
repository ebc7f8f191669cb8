/** The template record a template event projects to, and the scope Recommend reads from it. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, isInScope, project, type DerivedReader, type LoggedEvent, type TemplateEvent } from '../../src/bandit/index.js';

const noState = { template: () => undefined } as unknown as DerivedReader;
const event = (extra: Partial<TemplateEvent> = {}): LoggedEvent =>
  ({ type: 'template', templateId: 'a@v1', parentTemplateId: '', status: 'active', description: '', implicit: false, actor: '', seq: 1, atMs: 5, ...extra }) as LoggedEvent;

describe('a template event', () => {
  test('logged before scopes existed projects to the same record as ever: no taskClasses key, every class', () => {
    const [change] = project(event(), noState, DEFAULT_POLICY_CONFIG);
    expect(JSON.stringify(change!.value)).toBe(
      '{"templateId":"a@v1","parentTemplateId":"","status":"active","description":"","implicit":false,"registeredAtMs":5,"updatedAtMs":5}',
    );
  });

  test('with task classes keeps them on the record', () => {
    const [change] = project(event({ taskClasses: ['bug-fix'] }), noState, DEFAULT_POLICY_CONFIG);
    expect(change!.value).toMatchObject({ taskClasses: ['bug-fix'] });
  });
});

test.each([
  [undefined, 'bug-fix', true],
  [['bug-fix'], 'bug-fix', true],
  [['feature'], 'bug-fix', false],
  [['feature'], '', true],
])('a template for %j is in scope for %j: %s', (taskClasses, taskClass, expected) => {
  expect(isInScope(taskClasses === undefined ? {} : { taskClasses }, taskClass)).toBe(expected);
});
