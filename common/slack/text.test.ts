import assert from 'node:assert/strict';
import { slackTextToPlain } from './text.ts';

const names: Record<string, string> = { U0ADA00001: 'Ada Lovelace' };
const nameOf = async (id: string) => names[id] ?? null;

describe('Slack text back to what the person wrote', () => {
  it('decodes the three entities Slack escapes', async () => {
    assert.equal(await slackTextToPlain('Q&amp;A: 2 &lt; 3 &gt; 1', nameOf), 'Q&A: 2 < 3 > 1');
  });

  it('names mentioned people, channels and special mentions', async () => {
    assert.equal(
      await slackTextToPlain('<@U0ADA00001> see <#C0SUPPORT1|support>', nameOf),
      '@Ada Lovelace see #support',
    );
    assert.equal(await slackTextToPlain('<@U0NOBODY1|nobody> and <!here>', nameOf), '@nobody and @here');
  });

  it('keeps links readable, with their address', async () => {
    assert.equal(await slackTextToPlain('see <https://x.test/a?b=1&amp;c=2>', nameOf), 'see https://x.test/a?b=1&c=2');
    assert.equal(await slackTextToPlain('<https://x.test|the docs>', nameOf), 'the docs (https://x.test)');
    assert.equal(await slackTextToPlain('<mailto:a@b.test|a@b.test>', nameOf), 'a@b.test');
  });

  it('leaves an escaped bracket that was typed as text', async () => {
    assert.equal(await slackTextToPlain('use &lt;b&gt; tags', nameOf), 'use <b> tags');
  });
});
