import type net from 'node:net';
import type { Clock } from '../context.js';
import { plainIp } from './client-ip.js';

// A flood from one address is refused by its rate limit, but each refused
// request still takes a turn on the event loop: with hundreds of keep-alive
// connections in flight, a legitimate request waits behind hundreds of
// refusals at every step (bench/flood.mjs measured a p99 of 440 ms at 256
// connections, 85 ms at 32). So an address over its per-IP limit keeps only
// a few connections: at its first refusal the rest are dropped, and new
// connections beyond the cap are dropped at once. Addresses within their
// limits (a busy office behind one NAT) are never capped, and neither are
// trusted proxies, which speak for many clients.

const MAX_TRACKED = 100_000;

export class ConnectionGuard {
  private readonly open = new Map<string, Set<net.Socket>>();
  /** Addresses refused by their rate limit, until when (ms). */
  private readonly flooding = new Map<string, number>();

  constructor(
    private readonly cap: number,
    private readonly isProxy: (address: string) => boolean,
    private readonly clock: Clock,
  ) {}

  /** Counts every connection; drops a flooding address's connection beyond the cap. */
  watch(socket: net.Socket): void {
    const address = plainIp(socket.remoteAddress ?? '');
    if (this.isProxy(address)) return;
    const sockets = this.open.get(address) ?? new Set<net.Socket>();
    if (this.isFlooding(address) && sockets.size >= this.cap) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    this.open.set(address, sockets);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) this.open.delete(address);
    });
  }

  /**
   * Notes that the peer of `current` was refused by its rate limit for
   * `seconds` and drops its connections beyond the cap (other than
   * `current`, which the answer goes out on).
   */
  refused(current: net.Socket, seconds: number): void {
    const peer = plainIp(current.remoteAddress ?? '');
    if (this.isProxy(peer)) return;
    // Many flooding addresses (a botnet) must not grow the map for ever.
    if (this.flooding.size >= MAX_TRACKED) for (const known of [...this.flooding.keys()]) this.isFlooding(known);
    this.flooding.set(peer, this.clock.now().getTime() + seconds * 1000);
    const others = [...(this.open.get(peer) ?? [])].filter((socket) => socket !== current);
    for (const extra of others.slice(this.cap - 1)) extra.destroy();
  }

  private isFlooding(address: string): boolean {
    const until = this.flooding.get(address);
    if (until === undefined) return false;
    if (until > this.clock.now().getTime()) return true;
    this.flooding.delete(address);
    return false;
  }
}
