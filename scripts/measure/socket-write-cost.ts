/**
 * What one feed frame costs the api per viewer: CPU of one process writing a frame to each of 1,000 loopback TCP
 * sockets whose peer (a child process) reads everything, for frames of 200 B to 10 KB. `npx tsx
 * scripts/measure/socket-write-cost.ts [viewers] [rounds]`. On loopback the sender's kernel time includes the
 * receiving side's TCP work, so this is an upper bound for a server whose viewers are across a network.
 */
import net from 'node:net';
import { fork } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === 'reader') {
  const [n, port] = [Number(process.argv[3]), Number(process.argv[4])];
  for (let i = 0; i < n; i++) net.connect(port, '127.0.0.1').on('data', () => undefined);
} else {
  const viewers = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 100);
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => { sockets.push(s); });
  server.listen(0, '127.0.0.1', async () => {
    const port = (server.address() as net.AddressInfo).port;
    const reader = fork(__filename, ['reader', String(viewers), String(port)], { execArgv: process.execArgv });
    while (sockets.length < viewers) await sleep(50);
    console.log('| frame bytes | µs of CPU per write (user + system) | user | system |\n| --- | --- | --- | --- |');
    for (const size of [200, 1000, 5000, 10_000]) {
      const frame = Buffer.alloc(size, 0x61);
      const u0 = process.cpuUsage();
      // one frame to every viewer, then a pause as between the feed's frames
      for (let r = 0; r < rounds; r++) { for (const s of sockets) s.write(frame); await sleep(20); }
      const u = process.cpuUsage(u0);
      const w = rounds * viewers;
      console.log(`| ${size} | ${((u.user + u.system) / w).toFixed(1)} | ${(u.user / w).toFixed(1)} | ${(u.system / w).toFixed(1)} |`);
    }
    reader.kill();
    process.exit(0);
  });
}
