// The files benchmark's raw put, in a process of its own (BENCH_FILES_RAW=process, the default): a plain minio-js
// putObject of a Buffer, timed here. Kept apart from the upload client's process so that neither peer's speed depends
// on what the other allocated (on the machine of 2026-12-03 the raw put took 175 ms in one client process and
// 271–304 ms in another, specification/performance.md). One JSON line in per put ({ size, name }), one line out
// ({ ms }); the first line out says it is ready.
import { createInterface } from 'node:readline';
import * as Minio from 'minio';
import { textBytes } from './text-bytes.ts';

const { S3_HOST, S3_PORT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET } = process.env;
const minio = new Minio.Client({
  endPoint: S3_HOST!,
  port: Number(S3_PORT),
  useSSL: false,
  accessKey: S3_ACCESS_KEY!,
  secretKey: S3_SECRET_KEY!,
});

/** The bytes the upload client sends, of each size (made once per size, before any timing). */
const files = new Map<number, Buffer>();
function fileOf(size: number): Buffer {
  let bytes = files.get(size);
  if (!bytes) {
    bytes = textBytes(size);
    files.set(size, bytes);
  }
  return bytes;
}

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const { size, name, prepare } = JSON.parse(line) as { size: number; name: string; prepare?: boolean };
  const bytes = fileOf(size);
  if (prepare) {
    process.stdout.write(`${JSON.stringify({ ms: 0 })}\n`);
    continue;
  }
  const started = performance.now();
  await minio.putObject(S3_BUCKET!, `bench-raw/${name}`, bytes, bytes.length);
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
}
