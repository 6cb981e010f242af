import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity';
import { Group, GroupMember } from './group.entity';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { PeopleService } from './people.service';

@Module({
  imports: [TypeOrmModule.forFeature([Group, GroupMember, User])],
  controllers: [GroupsController],
  providers: [GroupsService, PeopleService],
  exports: [PeopleService, GroupsService],
})
export class GroupsModule {}
