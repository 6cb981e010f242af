import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CaModule } from '../ca/ca.module';
import { Group } from '../groups/group.entity';
import { GroupsModule } from '../groups/groups.module';
import { JamsAuthGuard } from '../jams/jams-auth.guard';
import { PolicyModule } from '../policy/policy.module';
import { Device } from '../users/device.entity';
import { User } from '../users/user.entity';
import { UsersModule } from '../users/users.module';
import { Room } from './room.entity';
import { RoomHostController, RoomsController } from './rooms.controller';
import { RoomsService } from './rooms.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([Room, User, Device, Group]),
    AccountsModule,
    CaModule,
    GroupsModule,
    PolicyModule,
    UsersModule,
  ],
  controllers: [RoomsController, RoomHostController],
  providers: [RoomsService, JamsAuthGuard],
  exports: [RoomsService],
})
export class RoomsModule {}
