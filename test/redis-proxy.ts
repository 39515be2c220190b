import net from 'node:net';

export type RedisProxy = {
  /** TEST_REDIS_URL with the proxy's loopback address in place of Redis's. */
  url: string;
  /** Redis "stops": every open connection is reset and new ones are reset on arrival. */
  cut(): void;
  /**
   * Redis "is partitioned away": connections stay open but nothing gets
   * through either way, as when a network drops packets.
   */
  stall(): void;
  /** Redis "is back": new connections reach it again (stalled ones are reset, their byte streams are broken). */
  restore(): void;
  close(): Promise<void>;
};

/**
 * A loopback TCP proxy in front of Redis, so a test can take Redis away from
 * one Parley instance (or all of them) and give it back, without stopping
 * the Redis server other test files use.
 */
export async function startRedisProxy(target: string): Promise<RedisProxy> {
  const upstream = new URL(target);
  const open = new Set<net.Socket>();
  let isCut = false;
  let isStalled = false;

  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // A reset peer is what the test asked for; nothing to report.
    socket.on('error', () => {});
  };

  const server = net.createServer((client) => {
    track(client);
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const redis = net.connect({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    track(redis);
    client.on('data', (chunk: Buffer) => void (isStalled || redis.write(chunk)));
    redis.on('data', (chunk: Buffer) => void (isStalled || client.write(chunk)));
    client.on('close', () => redis.destroy());
    redis.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);

  const resetAll = () => {
    for (const socket of open) socket.resetAndDestroy();
  };

  return {
    url: url.href,
    cut() {
      isCut = true;
      resetAll();
    },
    stall() {
      isStalled = true;
    },
    restore() {
      if (isStalled) resetAll();
      isCut = false;
      isStalled = false;
    },
    async close() {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
