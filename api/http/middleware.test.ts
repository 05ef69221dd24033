import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import { createLogger } from '../../common/logger.ts';
import { errorHandler, requestId } from './middleware.ts';

describe('the error handler', () => {
  it('answers an unexpected error with a bare 500 that leaks nothing', async () => {
    const app = express();
    app.use(requestId);
    app.get('/boom', () => {
      throw new Error('connection to postgres://admin:hunter2@db failed');
    });
    app.get('/zod', () => {
      z.object({ n: z.number() }).parse({ n: 'one' });
    });
    app.use(errorHandler(createLogger('silent')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const boom = await fetch(`${base}/boom`);
      assert.equal(boom.status, 500);
      const text = await boom.text();
      assert.ok(!text.includes('hunter2') && !text.includes('postgres'), text);
      assert.equal(JSON.parse(text).error.code, 'internal_error');

      const zod = await fetch(`${base}/zod`);
      assert.equal(zod.status, 422);
      assert.deepEqual((await zod.json()).error.details, [
        { path: 'n', message: 'Invalid input: expected number, received string' },
      ]);
    } finally {
      server.close();
    }
  });
});
