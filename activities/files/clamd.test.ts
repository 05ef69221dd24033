import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { ensureFileServices, startClamd, stopClamd, testFileServices } from '../../test/support/file-services.ts';
import { ClamdScanError, parseReply, pingClamd, ScannerUnavailableError, scanStream } from './clamd.ts';

/** The standard 68-byte EICAR anti-virus test file (harmless; every scanner detects it by design). */
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

describe('clamd scanning (INSTREAM through clamdjs)', function () {
  this.timeout(60_000);
  const clamd = testFileServices.clamd;

  before(async function () {
    this.timeout(25 * 60_000);
    await ensureFileServices();
  });

  it('the EICAR test file is 68 bytes (the shipped signature matches on MD5 and size)', () => {
    assert.equal(Buffer.byteLength(EICAR), 68);
  });

  it('answers PING', async () => {
    assert.equal(await pingClamd(clamd), true);
  });

  it('a clean file is clean, in one chunk or many', async () => {
    assert.deepEqual(await scanStream(Readable.from([Buffer.from('just a text file\n')]), clamd), { verdict: 'clean' });
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
    assert.deepEqual(await scanStream(Readable.from(chunks), clamd), { verdict: 'clean' });
  });

  it('the EICAR file is infected, with the signature name clamd reports', async () => {
    assert.deepEqual(await scanStream(Readable.from([Buffer.from(EICAR)]), clamd), {
      verdict: 'infected',
      signature: 'Eicar-Test-Signature.UNOFFICIAL',
    });
    // Split across INSTREAM chunks: clamd reassembles the stream before matching.
    const split = [Buffer.from(EICAR.slice(0, 10)), Buffer.from(EICAR.slice(10))];
    assert.equal((await scanStream(Readable.from(split), clamd)).verdict, 'infected');
  });

  it('a stream over StreamMaxLength is a ClamdScanError (size limit), not a virus and not an outage', async () => {
    // The test servers run with the default limit, 30M; 31 MiB of zeros crosses it.
    const chunk = Buffer.alloc(1024 * 1024);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 31; i++) yield chunk;
      })(),
    );
    const error = await scanStream(body, clamd).then(
      (verdict) => assert.fail(`expected an error, got ${JSON.stringify(verdict)}`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClamdScanError, String(error));
    assert.equal(error.sizeLimitExceeded, true);
    assert.match(error.reply, /INSTREAM size limit exceeded/);
  });

  it('parses replies strictly: an error reply is never read as clean or infected', () => {
    assert.deepEqual(parseReply('stream: OK\0'), { verdict: 'clean' });
    assert.deepEqual(parseReply('stream: Win.Test.EICAR_HDB-1 FOUND\0'), {
      verdict: 'infected',
      signature: 'Win.Test.EICAR_HDB-1',
    });
    assert.throws(() => parseReply('INSTREAM size limit exceeded. ERROR\0'), ClamdScanError);
    assert.throws(() => parseReply("stream: Can't allocate memory ERROR\0"), ClamdScanError);
    // Nothing said about the bytes: the scanner went away, worth another attempt.
    assert.throws(() => parseReply(''), ScannerUnavailableError);
  });

  it('a server that accepts and never answers is ScannerUnavailableError after timeoutMs', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      await assert.rejects(
        scanStream(Readable.from([Buffer.from('x')]), { host: '127.0.0.1', port, timeoutMs: 300 }),
        ScannerUnavailableError,
      );
      assert.ok(Date.now() - started < 5_000);
      assert.equal(await pingClamd({ host: '127.0.0.1', port, timeoutMs: 300 }), false);
    } finally {
      silent.close();
    }
  });

  it('clamd stopped: ScannerUnavailableError (fail closed); started again, scanning works', async () => {
    await stopClamd();
    try {
      await assert.rejects(scanStream(Readable.from([Buffer.from(EICAR)]), clamd), ScannerUnavailableError);
      assert.equal(await pingClamd(clamd), false);
    } finally {
      await startClamd();
    }
    assert.equal(await pingClamd(clamd), true);
    assert.equal((await scanStream(Readable.from([Buffer.from(EICAR)]), clamd)).verdict, 'infected');
  });
});
