import assert from 'node:assert/strict';
import { splitQuoted } from './quoted-text.ts';

const lines = (...l: string[]) => l.join('\n');

describe('quoted text', () => {
  it('leaves a message without quotes or signature alone', () => {
    const text = 'Hello,\n\nthe printer is on fire.\n\nJane';
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });

  it('cuts a Gmail top-posted reply at "On … wrote:"', () => {
    const text = lines(
      'Thanks, that fixed it.',
      '',
      'On Mon, 2 Mar 2026 at 10:14, Acme Support <support@acme.example> wrote:',
      '> Please restart the printer.',
      '>',
      '> On Sun, 1 Mar 2026, Jane wrote:',
      '> > It is on fire.',
    );
    const { visible, quoted } = splitQuoted(text);
    assert.equal(visible, 'Thanks, that fixed it.');
    assert.ok(quoted.startsWith('On Mon, 2 Mar 2026 at 10:14'));
    assert.ok(quoted.endsWith('> > It is on fire.'));
  });

  it('cuts a Gmail attribution wrapped over two lines', () => {
    const text = lines(
      'Thanks!',
      '',
      'On Mon, Mar 2, 2026 at 10:14 AM Acme Support Team of the Printing Department <',
      'support@acme.example> wrote:',
      '',
      '> Please restart the printer.',
    );
    assert.deepEqual(splitQuoted(text), {
      visible: 'Thanks!',
      quoted: lines(
        'On Mon, Mar 2, 2026 at 10:14 AM Acme Support Team of the Printing Department <',
        'support@acme.example> wrote:',
        '',
        '> Please restart the printer.',
      ),
    });
  });

  it('cuts Apple Mail’s "On <date>, at <time>, <name> wrote:"', () => {
    const text = lines(
      'Sounds good',
      '',
      'On 2 Mar 2026, at 10:14, Acme Support <support@acme.example> wrote:',
      '',
      '> Hi',
    );
    assert.equal(splitQuoted(text).visible, 'Sounds good');
  });

  it('cuts reply headers in other languages', () => {
    for (const header of [
      'Am 02.03.2026 um 10:14 schrieb Acme Support <support@acme.example>:',
      'Le lun. 2 mars 2026 à 10:14, Acme Support <support@acme.example> a écrit :',
      'El lun, 2 mar 2026 a las 10:14, Acme Support (<support@acme.example>) escribió:',
      'Il giorno lun 2 mar 2026 alle ore 10:14 Acme Support <support@acme.example> ha scritto:',
      'Op ma 2 mrt 2026 om 10:14 schreef Acme Support <support@acme.example>:',
      'Em seg., 2 de mar. de 2026 às 10:14, Acme Support <support@acme.example> escreveu:',
      'Den mån 2 mars 2026 kl 10:14 skrev Acme Support <support@acme.example>:',
      'W dniu 02.03.2026 o 10:14, Acme Support pisze:',
      '02.03.2026 10:14, Acme Support пишет:',
      'Acme Support <support@acme.example> написал(а):',
      '2026年3月2日 10:14 Acme Support <support@acme.example> 写道：',
      '2026年3月2日(月) 10:14 Acme Support <support@acme.example>のメッセージ:',
    ]) {
      const { visible, quoted } = splitQuoted(lines('Danke.', '', header, '> Hallo'));
      assert.equal(visible, 'Danke.', header);
      assert.ok(quoted.startsWith(header), header);
    }
  });

  it('cuts Outlook’s "-----Original Message-----" and its translations', () => {
    for (const rule of [
      '-----Original Message-----',
      '-----Ursprüngliche Nachricht-----',
      "-------- Message d'origine --------",
    ]) {
      const text = lines('Done.', '', rule, 'From: Acme Support', 'Sent: Monday', '', 'Old text');
      assert.deepEqual(splitQuoted(text), {
        visible: 'Done.',
        quoted: lines(rule, 'From: Acme Support', 'Sent: Monday', '', 'Old text'),
      });
    }
  });

  it('cuts Outlook’s header block, with its rule above it', () => {
    const text = lines(
      'Works now.',
      '',
      '________________________________',
      'From: Acme Support <support@acme.example>',
      'Sent: Monday, March 2, 2026 10:14 AM',
      'To: Jane Doe <jane@customer.example>',
      'Subject: RE: [#123] Printer',
      '',
      'Please restart the printer.',
    );
    const { visible, quoted } = splitQuoted(text);
    assert.equal(visible, 'Works now.');
    assert.ok(quoted.startsWith('________________________________\nFrom: Acme Support'));
  });

  it('cuts a localised Outlook header block with bold labels from an HTML conversion', () => {
    const text = lines(
      'Erledigt.',
      '',
      '*Von:* Acme Support <support@acme.example>',
      '*Gesendet:* Montag, 2. März 2026 10:14',
      '*An:* Jane',
      '*Betreff:* AW: [#123] Drucker',
      '',
      'Bitte neu starten.',
    );
    assert.equal(splitQuoted(text).visible, 'Erledigt.');
  });

  it('keeps a forwarded message as content', () => {
    const text = lines(
      'Please look at this.',
      '',
      '---------- Forwarded message ---------',
      'From: Bob <bob@vendor.example>',
      'Date: Mon, 2 Mar 2026 at 10:14',
      'Subject: Invoice',
      'To: Jane <jane@customer.example>',
      '',
      'Your invoice is attached.',
    );
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });

  it('cuts a trailing > block and its attribution', () => {
    const text = lines('Yes, please.', '', 'Support Team wrote:', '> Shall we replace it?', '>', '> Regards');
    assert.deepEqual(splitQuoted(text), {
      visible: 'Yes, please.',
      quoted: lines('Support Team wrote:', '> Shall we replace it?', '>', '> Regards'),
    });
  });

  it('cuts a trailing > block without an attribution', () => {
    assert.deepEqual(splitQuoted(lines('Yes.', '', '> Shall we?')), { visible: 'Yes.', quoted: '> Shall we?' });
  });

  it('keeps an interleaved reply whole: the quotes are the questions the answers refer to', () => {
    const text = lines(
      'On Mon, 2 Mar 2026, Acme Support <support@acme.example> wrote:',
      '> What model is it?',
      'LaserJet 4.',
      '> Is it under warranty?',
      'Yes.',
    );
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });

  it('keeps the answers of an interleaved reply below an introduction', () => {
    const text = lines(
      'Answers below.',
      '',
      'On Mon, 2 Mar 2026, Acme Support <support@acme.example> wrote:',
      '> What model is it?',
      'LaserJet 4.',
      '> Is it under warranty?',
      'Yes.',
    );
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });

  it('in an interleaved reply, cuts only the quote after the last answer', () => {
    const text = lines('> What model is it?', 'LaserJet 4.', '', '> Anything else?', '> Regards, Support');
    assert.deepEqual(splitQuoted(text), {
      visible: lines('> What model is it?', 'LaserJet 4.'),
      quoted: lines('> Anything else?', '> Regards, Support'),
    });
  });

  it('cuts the "-- " signature', () => {
    const text = lines('See you.', '', '-- ', 'Jane Doe', 'Customer Inc.', '+1 555 0100');
    assert.deepEqual(splitQuoted(text), {
      visible: 'See you.',
      quoted: lines('-- ', 'Jane Doe', 'Customer Inc.', '+1 555 0100'),
    });
  });

  it('cuts a "--" signature whose trailing space a client dropped', () => {
    assert.equal(splitQuoted(lines('See you.', '--', 'Jane')).visible, 'See you.');
  });

  it('does not take a "--" far from the end for a signature', () => {
    const text = lines('Intro', '--', ...Array.from({ length: 20 }, (_, i) => `line ${i}`));
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });

  it('cuts both a signature and the quote under it', () => {
    const text = lines(
      'Fixed, thanks.',
      '-- ',
      'Jane',
      '',
      'On Mon, 2 Mar 2026, Acme Support <support@acme.example> wrote:',
      '> Please restart it.',
    );
    const { visible, quoted } = splitQuoted(text);
    assert.equal(visible, 'Fixed, thanks.');
    assert.ok(quoted.startsWith('-- \nJane\n\nOn Mon'));
  });

  it('cuts a signature above a trailing > block', () => {
    const text = lines('Fixed.', '-- ', 'Jane', '', '> Please restart it.');
    assert.deepEqual(splitQuoted(text), {
      visible: 'Fixed.',
      quoted: lines('-- ', 'Jane', '', '> Please restart it.'),
    });
  });

  it('cuts a quote followed by a signature', () => {
    const text = lines('Fixed.', '', '> Please restart it.', '-- ', 'Jane');
    assert.deepEqual(splitQuoted(text), { visible: 'Fixed.', quoted: lines('> Please restart it.', '-- ', 'Jane') });
  });

  it('cuts a mobile client’s "Sent from my iPhone"', () => {
    const text = lines(
      'Ok!',
      '',
      'Sent from my iPhone',
      '',
      'On 2 Mar 2026, at 10:14, Support <s@acme.example> wrote:',
      '> Hi',
    );
    assert.equal(splitQuoted(text).visible, 'Ok!');
    assert.equal(splitQuoted('Ok!\n\nGet Outlook for Android').visible, 'Ok!');
  });

  it('never leaves the visible part empty', () => {
    const onlyQuote = lines('On Mon, 2 Mar 2026, Support <s@acme.example> wrote:', '> Hi');
    assert.deepEqual(splitQuoted(onlyQuote), { visible: onlyQuote, quoted: '' });
    assert.deepEqual(splitQuoted('-- \nJane'), { visible: '-- \nJane', quoted: '' });
    assert.deepEqual(splitQuoted(''), { visible: '', quoted: '' });
  });

  it('handles CRLF line endings', () => {
    const { visible, quoted } = splitQuoted('Yes.\r\n\r\nOn Mon, 2 Mar 2026, Support wrote:\r\n> Shall we?\r\n');
    assert.equal(visible, 'Yes.');
    assert.equal(quoted, 'On Mon, 2 Mar 2026, Support wrote:\n> Shall we?');
  });

  it('does not take a sentence starting with "On" for a reply header', () => {
    const text = lines('On Monday I restarted it.', 'It still does not work.');
    assert.deepEqual(splitQuoted(text), { visible: text, quoted: '' });
  });
});
