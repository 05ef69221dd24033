// What people write in Slack, as Slack sends it, back to plain text. Slack escapes `&`, `<` and `>` in every text it
// sends (messages, command text, shortcut payloads) and writes mentions, channels and links as tokens:
// `<@U123>`, `<@U123|ada>`, `<#C123|support>`, `<!here>`, `<https://x.test|label>`, `<mailto:a@b.test|a@b.test>`.
// A comment, an email to the customer or a ticket subject must read as the person wrote it, not as `Q&amp;A`.

const TOKEN = /<([^<>]+)>/g;

/** Decodes Slack's text; `nameOf` turns a user id into the name to show (`@Ada Lovelace`). */
export async function slackTextToPlain(
  text: string,
  nameOf: (slackUserId: string) => Promise<string | null>,
): Promise<string> {
  const users = new Map<string, string | null>();
  for (const match of text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g))
    if (!users.has(match[1]!)) users.set(match[1]!, await nameOf(match[1]!).catch(() => null));
  const replaced = text.replace(TOKEN, (_token, inner: string) => {
    const [target = '', label] = splitLabel(inner);
    if (target.startsWith('@')) {
      const id = target.slice(1);
      return `@${users.get(id) ?? label ?? id}`;
    }
    if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
    if (target.startsWith('!')) {
      const special = target.slice(1).split('^')[0]!;
      if (special.startsWith('date')) return label ?? '';
      if (special.startsWith('subteam')) return label ?? '@group';
      return `@${special}`;
    }
    if (target.startsWith('mailto:')) return label ?? target.slice('mailto:'.length);
    // A link: its label where it has one that is not just the address again, then the address.
    return label && label !== target ? `${label} (${target})` : target;
  });
  return decodeEntities(replaced);
}

function splitLabel(inner: string): [string, string | undefined] {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), inner.slice(bar + 1)];
}

/** Slack escapes exactly these three. */
export function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
