import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { NameserverController } from './nameserver.controller';
import { NameserverService } from './nameserver.service';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  controllers: [NameserverController],
  providers: [NameserverService],
})
export class NameserverModule {}
