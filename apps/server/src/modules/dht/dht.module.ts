import { Module } from '@nestjs/common';
import { CaModule } from '../ca/ca.module';
import { UsersModule } from '../users/users.module';
import { DhtRevocationsService } from './dht-revocations.service';
import { DhtProxyController } from './dht-proxy.controller';
import { DhtProxyService } from './dht-proxy.service';
import { DhtController, PresenceController } from './dht.controller';
import { DhtService } from './dht.service';
import { PresenceService } from './presence.service';

/** The server's DHT node (HTTP server process only, never the standalone worker). */
@Module({
  imports: [CaModule, UsersModule],
  controllers: [DhtController, PresenceController, DhtProxyController],
  providers: [DhtService, DhtRevocationsService, PresenceService, DhtProxyService],
  exports: [DhtService],
})
export class DhtModule {}
