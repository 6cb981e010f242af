import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DhtStatusResponseDto {
  @ApiProperty({ description: 'false when ENCLAVE_DHT_PORT=0 (no node runs)' })
  enabled!: boolean;

  @ApiProperty({ description: 'OpenDHT network id (ENCLAVE_DHT_NETWORK)' })
  networkId!: number;

  @ApiPropertyOptional({ description: 'Node id, 40 hex digits (kept across restarts)' })
  nodeId?: string;

  @ApiPropertyOptional({ description: 'Bound UDP address' })
  host?: string;

  @ApiPropertyOptional({ description: 'Bound UDP port' })
  port?: number;

  @ApiPropertyOptional({
    description: "What devices are told to bootstrap from (the default Account.hostname): '<public host>:<DHT port>'",
  })
  bootstrap?: string;

  @ApiPropertyOptional({ description: 'Nodes in the routing table' })
  nodes?: number;

  @ApiPropertyOptional({ description: 'Of those, nodes that answered recently' })
  goodNodes?: number;

  @ApiPropertyOptional({ description: 'Values stored on this node for the network' })
  storedValues?: number;

  @ApiPropertyOptional({ description: 'Remote nodes listening on keys stored here' })
  remoteListeners?: number;
}
