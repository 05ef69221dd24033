import assert from 'node:assert/strict';
import { parseTicketCommand } from './commands.ts';

describe('/ticket command text', () => {
  it('reads every command', () => {
    assert.deepEqual(parseTicketCommand(''), { kind: 'help' });
    assert.deepEqual(parseTicketCommand('help'), { kind: 'help' });
    assert.deepEqual(parseTicketCommand('create'), { kind: 'create' });
    assert.deepEqual(parseTicketCommand('42'), { kind: 'show', number: 42 });
    assert.deepEqual(parseTicketCommand('#42'), { kind: 'show', number: 42 });
    assert.deepEqual(parseTicketCommand('update 42 status=pending priority=high'), {
      kind: 'update',
      number: 42,
      changes: { status: 'pending', priority: 'high' },
    });
    assert.deepEqual(parseTicketCommand('assign 42 <@U0ADA00001|ada>'), {
      kind: 'assign',
      number: 42,
      assignee: { slackUserId: 'U0ADA00001' },
    });
    assert.deepEqual(parseTicketCommand('assign 42 me'), { kind: 'assign', number: 42, assignee: { me: true } });
    assert.deepEqual(parseTicketCommand('assign 42 <mailto:Ada@Acme.test|Ada@Acme.test>'), {
      kind: 'assign',
      number: 42,
      assignee: { email: 'ada@acme.test' },
    });
    assert.deepEqual(parseTicketCommand('comment 42 the fix is  deployed'), {
      kind: 'comment',
      number: 42,
      body: 'the fix is  deployed',
    });
  });

  it('says exactly what is wrong and how to write it', () => {
    const error = (text: string) => {
      const parsed = parseTicketCommand(text);
      assert.equal(parsed.kind, 'error');
      return (parsed as { message: string }).message;
    };
    assert.match(error('frobnicate 4'), /unknown command "frobnicate".*\/ticket help/);
    assert.match(error('update abc status=open'), /"abc" is not a ticket number: `\/ticket update 42/);
    assert.match(error('update 42 status=done'), /status "done" is not one of open, pending, on_hold, solved, closed/);
    assert.match(error('update 42 priority=asap'), /priority "asap" is not one of low, normal, high, urgent/);
    assert.match(error('update 42 subject=x'), /"subject" cannot be changed from Slack/);
    assert.match(error('update 42'), /say what to change/);
    assert.match(error('assign 42 @ada'), /plain text, not as a Slack mention/);
    assert.match(error('assign 42'), /say who, once/);
    assert.match(error('comment 42'), /the comment is empty/);
    assert.match(error('create now'), /takes no text/);
  });
});
