import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DhtNode } from '@enclave/core';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { serverBootstrap } from './dht-bootstrap';
import { DhtStatusResponseDto } from './dht.dto';

/** File (under ENCLAVE_DATA_DIR) where the node's routing table is kept between restarts. */
export const DHT_NODE_CACHE_FILE = 'dht-nodes.json';
/** File keeping the node id, so a restarted server is the same node for others' routing tables. */
export const DHT_NODE_ID_FILE = 'dht-node-id';

function persistentNodeId(dataDir: string): string {
  const file = path.join(dataDir, DHT_NODE_ID_FILE);
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomBytes(20).toString('hex');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * The server's own OpenDHT node: a stable member of the organization's network that devices bootstrap from
 * (the default policy's Account.hostname). Runs in the HTTP server process only (not in the standalone
 * worker), on UDP ENCLAVE_DHT_PORT bound like HTTPS; ENCLAVE_DHT_PORT=0 turns it off.
 */
@Injectable()
export class DhtService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DhtService.name);
  private readonly dhtNode: DhtNode | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.dht.port === 0) return;
    this.dhtNode = new DhtNode({
      host: config.http.host,
      port: config.dht.port,
      networkId: config.dht.networkId,
      id: persistentNodeId(config.database.dataDir),
      nodeCacheFile: path.join(config.database.dataDir, DHT_NODE_CACHE_FILE),
      log: (message, details) => this.logger.debug({ ...details }, message),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.dhtNode) return;
    try {
      await this.dhtNode.start();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot start the DHT node on UDP ${this.config.http.host}:${this.config.dht.port}` +
          ` (${code ?? (err as Error).message}): free the port, choose another ENCLAVE_DHT_PORT, or set it to 0` +
          ' to run without the DHT node',
        { cause: err },
      );
    }
    const { host, port } = this.dhtNode.address;
    this.logger.log({ host, port, networkId: this.config.dht.networkId }, 'DHT node listening (UDP)');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dhtNode?.stop();
  }

  /** Whether this process runs a node (ENCLAVE_DHT_PORT ≠ 0); it may still be starting. */
  get enabled(): boolean {
    return this.dhtNode !== undefined;
  }

  /** The running node, or undefined when ENCLAVE_DHT_PORT=0. */
  get node(): DhtNode | undefined {
    return this.dhtNode?.running ? this.dhtNode : undefined;
  }

  /** "host:port" devices should bootstrap from: the public host of ENCLAVE_PUBLIC_URL and the DHT port. */
  publicBootstrap(): string | undefined {
    return serverBootstrap(this.config);
  }

  status(): DhtStatusResponseDto {
    const node = this.node;
    if (!node) {
      return { enabled: false, networkId: this.config.dht.networkId };
    }
    const stats = node.stats();
    return {
      enabled: true,
      nodeId: node.id.toString('hex'),
      host: node.address.host,
      port: node.address.port,
      networkId: this.config.dht.networkId,
      bootstrap: this.publicBootstrap(),
      nodes: stats.nodes,
      goodNodes: stats.goodNodes,
      storedValues: stats.storedValues,
      remoteListeners: stats.remoteListeners,
    };
  }
}
