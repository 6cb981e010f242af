import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { NameserverController } from './nameserver.controller';
import { NameserverService } from './nameserver.service';

@Module({
  imports: [UsersModule],
  controllers: [NameserverController],
  providers: [NameserverService],
})
export class NameserverModule {}
