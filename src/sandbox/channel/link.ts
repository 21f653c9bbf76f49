/**
 * One supervisor per host process per container, started on first use and
 * started again when its channel ended (the supervisor died, the connection
 * dropped) while the container is still there. Concurrent callers share one
 * start. DockerSandbox and ChannelContainerFiles take a ChannelSource, so tests
 * and the CLI decide how the channel is made.
 */
import type { SupervisorInfo } from './protocol.ts';
import type { RpcClient } from './rpc-client.ts';
import type { Supervisor } from './launch.ts';
import { SandboxChannelError } from './errors.ts';

export interface ChannelSource {
  /** A ready client; a fresh supervisor when the previous channel ended. */
  client(): Promise<RpcClient>;
}

export class SupervisorLink implements ChannelSource {
  private current: Promise<Supervisor> | undefined;
  private closed = false;

  constructor(private readonly start: () => Promise<Supervisor>) {}

  async client(): Promise<RpcClient> {
    if (this.closed) throw new SandboxChannelError('closed', 'The sandbox link was closed.');
    const current = this.current;
    if (current) {
      const live = await current.catch(() => undefined);
      if (live && !live.client.isClosed) return live.client;
      // Another caller noticed first and is starting the replacement: share it.
      if (this.current !== current && this.current !== undefined) return this.client();
    }
    const starting = this.start();
    this.current = starting;
    // A failed start is not cached: the next call tries again.
    starting.catch(() => {
      if (this.current === starting) this.current = undefined;
    });
    return (await starting).client;
  }

  /** The running supervisor's details, if one is up. */
  async info(): Promise<SupervisorInfo | undefined> {
    const live = await this.current?.catch(() => undefined);
    return live?.info;
  }

  /** Closes the channel (running commands finish in the container, then the supervisor exits). */
  async close(): Promise<void> {
    this.closed = true;
    const live = await this.current?.catch(() => undefined);
    this.current = undefined;
    await live?.close();
  }
}

/**
 * Runs `fn` on the source's client, once more over a fresh supervisor when
 * the channel had ended (the container is still there; a supervisor restart
 * is transparent to callers).
 */
export async function withChannelRetry<T>(source: ChannelSource, fn: (client: RpcClient) => Promise<T>): Promise<T> {
  try {
    return await fn(await source.client());
  } catch (e) {
    if (!(e instanceof SandboxChannelError && e.code === 'closed')) throw e;
    return fn(await source.client());
  }
}
