// Attachments benchmark (issue 10), with the product's own API and worker processes, its own Temporal dev server,
// real PostgreSQL, clamd and MinIO (the deployment's default store is S3 on MinIO here):
//   upload → available: a multipart POST of one file until its row is `clean` (typed, scanned by clamd as it
//                       streams, encrypted into MinIO by the API; made available by the worker's pipeline), for 1 MB
//                       and 25 MB files: p50/p99 and MB/s;
//   the raw ceiling:    a plain `putObject` of as many bytes to the same MinIO (the minio client), interleaved in the
//                       same run, from a process of its own (bench/lib/raw-put-process.ts; BENCH_FILES_RAW=inline
//                       for this one);
//   the API's memory:   its RSS (from /proc) while ten 25 MB uploads run at once;
//   the CPU they cost:  CPU time per upload of each process involved (API, worker, MinIO, clamd, this client), from
//                       /proc, against the raw put's: on a two-core machine the sum is what bounds the pipeline.
// Targets: the pipeline at least 50% of the raw put's throughput for 25 MB files; the API's RSS flat and under
// 300 MB during the ten uploads. Thumbnails (jimp against sharp) are `npm run bench -- thumbnails`.
//
// Run: npm run bench -- files. BENCH_ROUNDS (default 5 for 25 MB, four times as many for 1 MB).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as Minio from 'minio';
import { repoRoot, type Started } from './lib/processes.ts';
import { benchStack } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';
import { textBytes } from './lib/text-bytes.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MB = 1024 * 1024;
const S3 = { host: '127.0.0.1', port: 8363, accessKey: 'switchboard-bench', secretKey: 'switchboard-bench-secret' };
const BUCKET = 'switchboard-bench';
const CLAMD_PORT = 3340;

function fileServices(command: 'start' | 'stop') {
  execFileSync('bash', [join(repoRoot, 'scripts/file-services.sh'), command, 'clamd', 's3'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      CLAMD_PORT: String(CLAMD_PORT),
      S3_HOST: S3.host,
      S3_PORT: String(S3.port),
      S3_ACCESS_KEY: S3.accessKey,
      S3_SECRET_KEY: S3.secretKey,
      S3_BUCKET: BUCKET,
    },
  });
}

/** CPU time (user + system) a process has used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU ms per call of `fn`, per process, summed into `into` (with `calls` counting the calls). */
async function cpuAccounted<T>(
  into: Record<string, number>,
  pids: Record<string, number>,
  fn: () => Promise<T>,
): Promise<T> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const self = process.cpuUsage();
  const result = await fn();
  for (const [name, pid] of Object.entries(pids)) into[name] = (into[name] ?? 0) + cpuMs(pid) - before[name]!;
  const used = process.cpuUsage(self);
  into.client = (into.client ?? 0) + (used.user + used.system) / 1000;
  into.calls = (into.calls ?? 0) + 1;
  return result;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** The raw put's own process (bench/lib/raw-put-process.ts): `put` resolves with the ms it timed. */
async function startRawPutter() {
  const child = spawn(process.execPath, [join(repoRoot, 'bench/lib/raw-put-process.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      S3_HOST: S3.host,
      S3_PORT: String(S3.port),
      S3_ACCESS_KEY: S3.accessKey,
      S3_SECRET_KEY: S3.secretKey,
      S3_BUCKET: BUCKET,
    },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  await lines.next(); // ready
  const ask = async (message: object): Promise<number> => {
    child.stdin!.write(`${JSON.stringify(message)}\n`);
    const { value, done } = await lines.next();
    if (done) throw new Error('the raw put process ended');
    return (JSON.parse(value as string) as { ms: number }).ms;
  };
  return {
    pid: child.pid!,
    /** Makes its file of this size before any timing (as this process makes the upload's). */
    prepare: (size: number) => ask({ size, name: '', prepare: true }),
    put: (size: number, name: string) => ask({ size, name }),
    stop: () => child.stdin!.end(),
  };
}

async function main() {
  const stack = benchStack('files', { api: 3087, temporal: 7287, temporalUi: 8287 });
  Object.assign(stack.env, {
    FILES_STORAGE_DRIVER: 's3',
    FILES_S3_ENDPOINT: `http://${S3.host}:${S3.port}`,
    FILES_S3_BUCKET: BUCKET,
    FILES_S3_ACCESS_KEY: S3.accessKey,
    FILES_S3_SECRET_KEY: S3.secretKey,
    CLAMD_PORT: String(CLAMD_PORT),
  });
  console.log(`files benchmark: ${ROUNDS * 4} × 1 MB and ${ROUNDS} × 25 MB, against a plain putObject to MinIO`);
  fileServices('start');
  await stack.prepare();
  const minio = new Minio.Client({
    endPoint: S3.host,
    port: S3.port,
    useSSL: false,
    accessKey: S3.accessKey,
    secretKey: S3.secretKey,
  });
  const pool = stack.pool();
  let api: Started | undefined;
  let agent: http.Agent | undefined;
  let putter: Awaited<ReturnType<typeof startRawPutter>> | undefined;
  let worker: Started | undefined;
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const key = await stack.apiKey();
    const headers = { authorization: `Bearer ${key}` };
    const created = await fetch(`${stack.baseUrl}/api/tickets`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Files benchmark' }),
    });
    const ticketId = ((await created.json()) as { id: string }).id;
    // Room for every upload of the run.
    await fetch(`${stack.baseUrl}/api/files/limits`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ ticketQuotaBytes: 100 * 1024 * MB, orgQuotaBytes: 100 * 1024 * MB }),
    });

    // The client hands over bytes it already holds, as the raw put's client does (minio-js, given a Buffer): by
    // default (BENCH_FILES_CLIENT=http) one multipart body written from the Buffer with node:http, the bytes on the
    // wire a browser's FormData sends. `fetch` sends a FormData of a Blob with Node's fetch instead, which cost this
    // client 2–3× the raw put client's CPU per 25 MB (specification/performance.md): on two cores shared with the API,
    // clamd and MinIO, that was CPU the pipeline waited for.
    const lean = (process.env.BENCH_FILES_CLIENT ?? 'http') === 'http';
    agent = new http.Agent({ keepAlive: true });
    // The former client's Blob, made once per file before the clock starts (as a browser's file already is).
    const blobs = new Map<Buffer, Blob>();
    const blobOf = (file: Buffer) => {
      let blob = blobs.get(file);
      if (!blob) {
        blob = new Blob([new Uint8Array(file)], { type: 'text/plain' });
        blobs.set(file, blob);
      }
      return blob;
    };
    async function upload(file: Buffer, name: string): Promise<string> {
      const target = `${stack.baseUrl}/api/tickets/${ticketId}/attachments`;
      if (!lean) {
        const form = new FormData();
        form.append('file', blobOf(file), name);
        const res = await fetch(target, { method: 'POST', headers, body: form });
        if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { data: Array<{ id: string }> }).data[0]!.id;
      }
      const boundary = `----switchboard-bench-${randomBytes(8).toString('hex')}`;
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
          'Content-Type: text/plain\r\n\r\n',
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: {
              ...headers,
              'content-type': `multipart/form-data; boundary=${boundary}`,
              'content-length': head.length + file.length + tail.length,
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.write(head);
        req.write(file);
        req.end(tail);
      });
      if (status !== 201) throw new Error(`upload: ${status} ${body}`);
      return (JSON.parse(body) as { data: Array<{ id: string }> }).data[0]!.id;
    }
    async function untilClean(id: string): Promise<void> {
      for (;;) {
        const { rows } = await pool.query('select scan_status from ticket_attachments where id = $1', [id]);
        if (rows[0]?.scan_status === 'clean') return;
        if (rows[0]?.scan_status === 'infected' || rows[0]?.scan_status === 'failed')
          throw new Error(`attachment ${id} is ${rows[0].scan_status}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const acceptedMs: Record<string, number[]> = {};
    /** Upload → available, in ms; how much of it the upload request took is kept by size. */
    async function pipelined(file: Buffer, name: string): Promise<number> {
      const started = performance.now();
      const id = await upload(file, name);
      acceptedMs[file.length] ??= [];
      acceptedMs[file.length]!.push(performance.now() - started);
      await untilClean(id);
      return performance.now() - started;
    }
    // The raw put runs in a process of its own by default (bench/lib/raw-put-process.ts); BENCH_FILES_RAW=inline
    // runs it in this one, as before.
    const rawInline = process.env.BENCH_FILES_RAW === 'inline';
    putter = rawInline ? undefined : await startRawPutter();
    async function rawPut(bytes: Buffer, name: string): Promise<number> {
      if (putter) return putter.put(bytes.length, name);
      const started = performance.now();
      await minio.putObject(BUCKET, `bench-raw/${name}`, bytes, bytes.length);
      return performance.now() - started;
    }

    console.log(`API RSS after start: ${rssMb(api.child.pid!).toFixed(0)} MB`);
    const servicePid = (dir: string, file: string) =>
      Number(
        readFileSync(join(process.env.FILES_SERVICES_DIR ?? join(repoRoot, '.data/files-services'), dir, file), 'utf8'),
      );
    const pids = {
      api: api.child.pid!,
      worker: worker.child.pid!,
      minio: servicePid(`s3-${S3.port}`, 's3.pid'),
      clamd: servicePid(`clamd-${CLAMD_PORT}`, 'clamd.pid'),
      // The raw put's process counts as the client: it is the raw put's client.
      ...(putter ? { putter: putter.pid } : {}),
    };
    const rows: Array<Array<string | number>> = [];
    const cpuRows: Array<Array<string | number>> = [];
    const ratios: string[] = [];
    for (const [size, rounds] of [
      [1 * MB, ROUNDS * 4],
      [25 * MB, ROUNDS],
    ] as const) {
      const bytes = textBytes(size);
      if (!lean) blobOf(bytes);
      await putter?.prepare(size);
      const file = bytes;
      // One untimed round each: connections, the worker's first workflow and activity, clamd's first stream.
      await pipelined(file, 'warm.txt');
      await rawPut(bytes, 'warm');
      const pipe: number[] = [];
      const raw: number[] = [];
      const pipeCpu: Record<string, number> = {};
      const rawCpu: Record<string, number> = {};
      for (let i = 0; i < rounds; i++) {
        // Interleaved, so drift on the machine hits both.
        pipe.push(await cpuAccounted(pipeCpu, pids, () => pipelined(file, `f${i}.txt`)));
        raw.push(await cpuAccounted(rawCpu, pids, () => rawPut(bytes, `r${i}`)));
      }
      const mbps = (ms: number) => (size / MB / (ms / 1000)).toFixed(1);
      const label = `${size / MB} MB`;
      rows.push([
        `upload → available, ${label}`,
        formatMs(median(pipe)),
        formatMs(percentile(pipe, 99)),
        mbps(median(pipe)),
      ]);
      const accepted = acceptedMs[size]!.slice(1);
      rows.push([
        `  of which the upload request, ${label}`,
        formatMs(median(accepted)),
        formatMs(percentile(accepted, 99)),
        mbps(median(accepted)),
      ]);
      rows.push([`plain putObject, ${label}`, formatMs(median(raw)), formatMs(percentile(raw, 99)), mbps(median(raw))]);
      ratios.push(
        `${label}: pipeline throughput is ${((median(raw) / median(pipe)) * 100).toFixed(0)}% of the raw put`,
      );
      for (const [what, cpu] of [
        [`upload → available, ${label}`, pipeCpu],
        [`plain putObject, ${label}`, rawCpu],
      ] as const) {
        const per = (name: string) => ((cpu[name] ?? 0) + (name === 'client' ? (cpu.putter ?? 0) : 0)) / cpu.calls!;
        const names = ['api', 'worker', 'minio', 'clamd', 'client'];
        cpuRows.push([
          what,
          ...names.map((name) => per(name).toFixed(0)),
          names.reduce((sum, n) => sum + per(n), 0).toFixed(0),
        ]);
      }
    }
    printTable(['', 'p50', 'p99', 'MB/s (p50)'], rows);
    console.log('CPU ms per upload (mean over the timed rounds):');
    printTable(['', 'API', 'worker', 'MinIO', 'clamd', 'client', 'all'], cpuRows);
    for (const line of ratios) console.log(line);

    // Ten 25 MB uploads at once: the API streams, so its memory must not grow with them.
    const big = textBytes(25 * MB);
    if (!lean) blobOf(big);
    const pid = api.child.pid!;
    const samples: number[] = [rssMb(pid)];
    const sampler = setInterval(() => samples.push(rssMb(pid)), 50);
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => upload(big, `parallel-${i}.txt`)));
    const uploadedMs = performance.now() - started;
    clearInterval(sampler);
    await Promise.all(ids.map(untilClean));
    const allMs = performance.now() - started;
    console.log(
      `ten 25 MB uploads at once: accepted in ${formatMs(uploadedMs)}, all available in ${formatMs(allMs)}; ` +
        `API RSS before ${samples[0]!.toFixed(0)} MB, peak ${Math.max(...samples).toFixed(0)} MB, ` +
        `median ${median(samples).toFixed(0)} MB over ${samples.length} samples`,
    );
  } finally {
    agent?.destroy();
    putter?.stop();
    await pool.end();
    await worker?.stop();
    await api?.stop();
    stack.stopTemporal();
  }
}

await main();
