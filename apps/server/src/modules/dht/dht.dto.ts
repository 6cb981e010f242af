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

export class DeviceAnnouncedDto {
  @ApiProperty({ description: 'SHA-256 of the device public key, 64 hex' })
  deviceId!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  revoked!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'Last DEVICE token (mTLS /api/login), minute precision' })
  lastLoginAt!: string | null;

  @ApiProperty({ description: 'Its account-signed DeviceAnnouncement is on the DHT at the account id now' })
  announced!: boolean;
}

export class OtherAnnouncementDto {
  @ApiProperty({ description: 'SHA-1 of the device public key, 40 hex' })
  deviceShortId!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'SHA-256 device id, when the announcement carries the key',
  })
  deviceId!: string | null;
}

export class UserPresenceResponseDto {
  @ApiProperty()
  username!: string;

  @ApiProperty({ nullable: true, type: String, description: 'null before the first enrollment (nothing to look up)' })
  jamiId!: string | null;

  @ApiProperty({ description: 'When the DHT was asked (answers are reused for 30 s)' })
  checkedAt!: string;

  @ApiProperty({ description: 'The answer came from the 30 s cache' })
  cached!: boolean;

  @ApiProperty({ type: [DeviceAnnouncedDto], description: 'Every device the server issued to the user' })
  devices!: DeviceAnnouncedDto[];

  @ApiProperty({
    type: [OtherAnnouncementDto],
    description:
      'Announcements signed by the account that match none of its enrolled devices (an old Jami client without the key in its announcement, or a device the server does not know)',
  })
  otherAnnouncements!: OtherAnnouncementDto[];
}
