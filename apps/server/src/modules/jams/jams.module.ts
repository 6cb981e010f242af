import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CaModule } from '../ca/ca.module';
import { PolicyModule } from '../policy/policy.module';
import { DirectoryModule } from '../directory/directory.module';
import { RoomsModule } from '../rooms/rooms.module';
import { UsersModule } from '../users/users.module';
import { JamsAuthGuard } from './jams-auth.guard';
import { JamsController } from './jams.controller';
import { JamsService } from './jams.service';
import { SyncItem } from './sync-item.entity';
import { SyncService } from './sync.service';
import { UserBasicGuard } from './user-basic.guard';

@Module({
  imports: [TypeOrmModule.forFeature([SyncItem]), AccountsModule, CaModule, PolicyModule, UsersModule, DirectoryModule, RoomsModule],
  controllers: [JamsController],
  providers: [JamsService, SyncService, JamsAuthGuard, UserBasicGuard],
})
export class JamsModule {}
