// The Slack setup's channel rules as the form holds them must be what the API's schema accepts (domain/slack/config.ts),
// and a stored config must come back unchanged through the form; the preview must read the server's own Block Kit
// (common/slack/blocks.ts) the way Slack does: mrkdwn's bold, links, escapes and dates, and nothing a ticket's text
// could turn into a link or formatting.
import assert from 'node:assert/strict';
import { escapeMrkdwn, ticketMessage } from '../../common/slack/blocks.ts';
import { applyMergePatch } from '../../domain/merge-patch.ts';
import { slackConfigSchema } from '../../domain/slack/config.ts';
import { mergePatchBetween } from '../../packages/dashboard/src/merge-patch.ts';
import {
  describeConditions,
  emptySlackRuleDraft,
  formatSlackDate,
  type MrkdwnNode,
  newRuleId,
  parseMrkdwn,
  readSlackConfig,
  slackConfigFromDrafts,
  slackRuleDraft,
} from '../../packages/dashboard/src/slack.ts';

const stored = slackConfigSchema.parse({
  rules: [
    {
      id: 'rule-billing',
      name: 'Billing',
      channelId: 'C0BILLING1',
      channelName: 'billing',
      kinds: ['new_ticket', 'sla'],
      tags: ['billing', 'invoices'],
      requesterDomains: ['customer.test'],
    },
    {
      id: 'rule-urgent',
      name: 'Urgent from email',
      channelId: 'C0URGENT01',
      kinds: ['high_priority'],
      priorities: ['urgent'],
      statuses: ['open', 'pending'],
      assignees: ['unassigned', 'user-1'],
      ticketChannels: ['email'],
    },
  ],
  publicReplyPrefix: '!customer',
});

/** The text a reader sees, with each node's kind around it: `b(…)`, `link(url|…)`, `date(…)`. */
function shape(nodes: MrkdwnNode[]): string {
  return nodes
    .map((n) => {
      switch (n.type) {
        case 'text':
          return n.text;
        case 'break':
          return '\n';
        case 'bold':
          return `b(${shape(n.children)})`;
        case 'italic':
          return `i(${shape(n.children)})`;
        case 'strike':
          return `s(${shape(n.children)})`;
        case 'quote':
          return `q(${shape(n.children)})`;
        case 'code':
          return `code(${n.text})`;
        case 'pre':
          return `pre(${n.text})`;
        case 'link':
          return `link(${n.url}|${shape(n.children)})`;
        case 'mention':
          return `mention(${n.text})`;
        case 'date':
          return `date(${n.text})`;
        case 'emoji':
          return n.text;
      }
      return '';
    })
    .join('');
}

describe('dashboard: the Slack channel rules form', () => {
  it('gives the stored config back unchanged when nothing is edited', () => {
    const config = readSlackConfig(stored);
    const drafts = config.rules.map((rule, i) => slackRuleDraft(rule, i));
    const again = slackConfigFromDrafts(drafts, config.publicReplyPrefix ?? '');
    assert.deepEqual(slackConfigSchema.parse(again), stored);
    assert.deepEqual(mergePatchBetween(stored, again as unknown as Record<string, unknown>), {});
  });

  it('sends a new rule with only the conditions that were filled in, which the API accepts', () => {
    const draft = {
      ...emptySlackRuleDraft(7, 'rule-new'),
      name: 'VIP',
      channelId: 'C0SUPPORT1',
      channelName: 'support',
      kinds: ['sla' as const, 'new_ticket' as const],
      tags: ' vip, , vip ,gold',
      requesterDomains: 'bigcorp.test; partner.test  bigcorp.test',
    };
    const config = slackConfigFromDrafts([draft], '  ');
    assert.deepEqual(config, {
      rules: [
        {
          id: 'rule-new',
          name: 'VIP',
          channelId: 'C0SUPPORT1',
          channelName: 'support',
          kinds: ['new_ticket', 'sla'],
          tags: ['vip', 'gold'],
          requesterDomains: ['bigcorp.test', 'partner.test'],
        },
      ],
    });
    assert.ok(slackConfigSchema.safeParse(config).success);
  });

  it('makes rule ids the API accepts, different each time', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newRuleId()));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, /^[a-z0-9-]{1,40}$/);
  });

  it('sends the merge patch that removes a rule and the reply word, which the API applies to the edited config', () => {
    const config = readSlackConfig(stored);
    const drafts = config.rules.map((rule, i) => slackRuleDraft(rule, i)).slice(1);
    const edited = slackConfigFromDrafts(drafts, '');
    const patch = mergePatchBetween(stored, edited as unknown as Record<string, unknown>);
    assert.equal(patch.publicReplyPrefix, null);
    const merged = slackConfigSchema.parse(applyMergePatch(stored, patch));
    assert.deepEqual(
      merged.rules.map((r) => r.id),
      ['rule-urgent'],
    );
    assert.equal(merged.publicReplyPrefix, undefined);
  });

  it('leaves a wrong domain for the API to name, as typed', () => {
    const draft = { ...emptySlackRuleDraft(1, 'rule-x'), name: 'X', channelId: 'C0SUPPORT1', requesterDomains: 'x_y' };
    const result = slackConfigSchema.safeParse(slackConfigFromDrafts([draft], ''));
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['rules', 0, 'requesterDomains', 0]);
  });

  it('says what a rule matches in a few words', () => {
    const [billing, urgent] = stored.rules;
    assert.equal(
      describeConditions(billing!, () => 'x'),
      'tagged billing or invoices · from customer.test',
    );
    assert.equal(
      describeConditions(urgent!, (id) => (id === 'user-1' ? 'Grace' : '?')),
      'urgent · open or pending · assigned to nobody or Grace · via Email',
    );
    assert.equal(
      describeConditions({ ...billing!, tags: undefined, requesterDomains: undefined }, () => ''),
      'every ticket',
    );
  });
});

describe('dashboard: Slack mrkdwn as Slack shows it', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  const options = { now, timeZone: 'UTC' };

  it('reads bold around a link, and undoes the three escapes in the link’s text and around it', () => {
    assert.equal(
      shape(parseMrkdwn('*<https://desk.test/t/1|#1 Fish &amp; chips &lt;3&gt;>* &amp; more', options)),
      'b(link(https://desk.test/t/1|#1 Fish & chips <3>)) & more',
    );
  });

  it('reads italics, strike-through, code, quotes, mentions and emoji, and keeps snake_case words as they are', () => {
    assert.equal(
      shape(parseMrkdwn('_soon_ ~never~ `a*b*c` snake_case_name :warning: :not_an_emoji:', options)),
      'i(soon) s(never) code(a*b*c) snake_case_name ⚠️ :not_an_emoji:',
    );
    assert.equal(shape(parseMrkdwn('> quoted\n> still\nafter', options)), 'q(quoted\nstill)after');
    assert.equal(
      shape(parseMrkdwn('hi <@U0ADA00001|ada> in <#C0BILLING1|billing> <!here>', options)),
      'hi mention(@ada) in mention(#billing) mention(@here)',
    );
    assert.equal(shape(parseMrkdwn('```*not bold*\n<x>```', options)), 'pre(*not bold*\n<x>)');
  });

  it('shows a date token as the reader’s time, keeping the fallback for the tooltip', () => {
    const due = Math.floor(Date.parse('2026-03-10T14:00:00Z') / 1000);
    const [node] = parseMrkdwn(`<!date^${due}^{date_short_pretty} {time}|Tue, 10 Mar 2026 14:00:00 GMT>`, options);
    assert.deepEqual(node, {
      type: 'date',
      text: 'today 2:00 PM',
      iso: '2026-03-10T14:00:00.000Z',
      fallback: 'Tue, 10 Mar 2026 14:00:00 GMT',
    });
    assert.equal(formatSlackDate(due, '{ago}', now, 'UTC'), 'in 2 hours');
    // A moment short of the hour still reads as the hour, and the past reads as past.
    assert.equal(formatSlackDate(Math.floor(now.getTime() / 1000) + 3598, '{ago}', now, 'UTC'), 'in 1 hour');
    assert.equal(formatSlackDate(Math.floor(now.getTime() / 1000) - 90, '{ago}', now, 'UTC'), '2 minutes ago');
    const tomorrow = due + 86_400;
    assert.equal(formatSlackDate(tomorrow, '{date_short_pretty}', now, 'UTC'), 'tomorrow');
    assert.equal(
      formatSlackDate(tomorrow, '{date_num} {date_long} {time_secs}', now, 'UTC'),
      '2026-03-11 Wednesday, March 11th, 2026 2:00:00 PM',
    );
    assert.equal(shape(parseMrkdwn('<!date^nope^{date}|fallback only>', options)), 'fallback only');
  });

  it('never turns a link that is not http, https or mail into something to click', () => {
    assert.equal(shape(parseMrkdwn('<javascript:alert(1)|click me>', options)), 'click me');
    assert.equal(shape(parseMrkdwn('<mailto:a@b.test|mail>', options)), 'link(mailto:a@b.test|mail)');
  });

  it('shows a ticket’s subject and requester from the server’s message exactly as typed, with no formatting or link of theirs', () => {
    const subject = 'Refund <https://evil.test|here> & *now*';
    const message = ticketMessage({
      id: 't-1',
      number: 7,
      subject,
      status: 'open',
      priority: 'urgent',
      requester: { email: 'dora@customer.test', name: 'Dora <Boss>' },
      assigneeName: null,
      sla: null,
      url: 'https://desk.test/tickets/t-1',
    });
    const [title, facts] = message.blocks as { text?: { text: string }; fields?: { text: string }[] }[];
    assert.equal(
      shape(parseMrkdwn(title!.text!.text, options)),
      `b(link(https://desk.test/tickets/t-1|#7 ${subject}))`,
    );
    assert.equal(
      shape(parseMrkdwn(facts!.fields![0]!.text, options)),
      'b(Requester)\nDora <Boss> <dora@customer.test>',
    );
    assert.equal(shape(parseMrkdwn(facts!.fields![1]!.text, options)), 'b(Priority)\n🔴 Urgent');
    assert.equal(escapeMrkdwn('a<b'), 'a&lt;b', 'the server escapes what it sends');
  });
});
