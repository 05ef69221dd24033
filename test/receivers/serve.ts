// Runs a counting receiver in its own process (so a benchmark's sender and receiver do not share an event loop).
// Prints {"port":N} on stdout once listening; answers 200 to everything; exits on SIGTERM or when stdin closes.
import { startReceiver } from './webhook-receiver.ts';

const receiver = await startReceiver({ keepRequests: false, recordBodies: false });
process.stdout.write(`${JSON.stringify({ port: receiver.port })}\n`);

const stop = async () => {
  await receiver.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
