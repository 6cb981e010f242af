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
import { GroupsModule } from '../groups/groups.module';
import { RoomsModule } from '../rooms/rooms.module';
import { UsersModule } from '../users/users.module';
import { DirectoryConfig } from './directory-config.entity';
import { DirectorySyncRun } from './sync-run.entity';

@Module({
  imports: [
    TypeOrmModule.forFeature([DirectoryConfig, DirectorySyncRun]),
    AccountsModule,
    CaModule,
    UsersModule,
    GroupsModule,
    RoomsModule,
  ],
  controllers: [DirectoryController],
  providers: [DirectoryService, DirectorySyncService, ProvisioningService, DirectoryScheduler, UserAuthService],
  exports: [DirectoryService, DirectorySyncService, ProvisioningService, DirectoryScheduler, UserAuthService],
})
export class DirectoryModule {}
