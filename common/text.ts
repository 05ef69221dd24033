// Cutting text to a length without cutting a character in two.

/**
 * The first `max` UTF-16 code units of `text`, one fewer when the cut would fall between the two halves of a
 * surrogate pair (an emoji, say): a lone half is not text. PostgreSQL refuses it inside jsonb, and in a text
 * parameter node-postgres's UTF-8 encoding turns it into U+FFFD.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
