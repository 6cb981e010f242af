import { Module } from '@nestjs/common';
import { DhtController } from './dht.controller';
import { DhtService } from './dht.service';

/** The server's DHT node (HTTP server process only, never the standalone worker). */
@Module({
  controllers: [DhtController],
  providers: [DhtService],
  exports: [DhtService],
})
export class DhtModule {}
