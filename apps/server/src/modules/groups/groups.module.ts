import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { UsersModule } from '../users/users.module';
import { Group, GroupMember } from './group.entity';
import { GroupMirrorService } from './group-mirror.service';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { PeopleService } from './people.service';

@Module({
  imports: [TypeOrmModule.forFeature([Group, GroupMember, User]), UsersModule],
  controllers: [GroupsController],
  providers: [GroupsService, PeopleService, GroupMirrorService],
  exports: [PeopleService, GroupMirrorService, GroupsService],
})
export class GroupsModule {}
