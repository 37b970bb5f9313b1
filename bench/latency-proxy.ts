// A TCP relay that holds every chunk for `oneWayMs` in each direction: a
// stand-in for the network between a teleport-event-handler host and the
// collector (same AZ ≈ 0.5 ms, cross-region ≈ 30+ ms RTT). Loopback has no
// latency, so without this a benchmark cannot show what pipelining is for.
// Bytes are relayed unchanged (TLS passes through end to end), in order:
// timers with the same delay fire first-in, first-out.
import { createServer, connect, type Server, type Socket } from 'node:net';

export async function startLatencyProxy(targetPort: number, oneWayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => setTimeout(() => to.writable && to.write(chunk), oneWayMs));
      from.on('end', () => setTimeout(() => to.end(), oneWayMs));
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
