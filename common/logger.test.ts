import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', 'test', stream), text: () => lines.join('') };
}

describe('the logger', () => {
  it('redacts credentials, cookies, API keys and passwords wherever they sit', () => {
    const { logger, text } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer sb_SECRET1', cookie: 'session=SECRET2', 'x-api-key': 'sb_SECRET3' } },
        res: { headers: { 'set-cookie': 'session=SECRET4' } },
        integration: { credentials: { apiKey: 'lin_SECRET5' } },
        body: { password: 'SECRET6', token: 'SECRET7' },
        headers: { authorization: 'Basic SECRET8' },
      },
      'request',
    );
    assert.doesNotMatch(text(), /SECRET/);
    assert.match(text(), /\[redacted\]/);
  });
});
