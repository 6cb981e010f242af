import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CaModule } from '../ca/ca.module';
import { UsersModule } from '../users/users.module';
import { Account } from './account.entity';
import { AccountsController, DeviceRevocationController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  imports: [TypeOrmModule.forFeature([Account]), CaModule, UsersModule],
  controllers: [AccountsController, DeviceRevocationController],
  providers: [AccountsService],
  exports: [AccountsService],
})
export class AccountsModule {}
