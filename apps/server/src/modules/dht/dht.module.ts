import { Module } from '@nestjs/common';
import { CaModule } from '../ca/ca.module';
import { DhtRevocationsService } from './dht-revocations.service';
import { DhtController } from './dht.controller';
import { DhtService } from './dht.service';

/** The server's DHT node (HTTP server process only, never the standalone worker). */
@Module({
  imports: [CaModule],
  controllers: [DhtController],
  providers: [DhtService, DhtRevocationsService],
  exports: [DhtService],
})
export class DhtModule {}
