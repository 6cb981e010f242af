import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { CaModule } from '../ca/ca.module';
import { DirectorySyncService } from './directory-sync.service';
import { DirectoryController } from './directory.controller';
import { DirectoryScheduler } from './directory.scheduler';
import { DirectoryService } from './directory.service';
import { ProvisioningService } from './provisioning.service';
import { UserAuthService } from './user-auth.service';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoomsModule } from '../rooms/rooms.module';
import { User } from '../users/user.entity';

@Module({
  imports: [TypeOrmModule.forFeature([User]), AccountsModule, CaModule, RoomsModule],
  controllers: [DirectoryController],
  providers: [DirectoryService, DirectorySyncService, ProvisioningService, DirectoryScheduler, UserAuthService],
  exports: [DirectoryService, DirectorySyncService, ProvisioningService, DirectoryScheduler, UserAuthService],
})
export class DirectoryModule {}
