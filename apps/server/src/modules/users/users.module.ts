import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DevicesController } from './devices.controller';
import { Device } from './device.entity';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';
import { User } from './user.entity';
import { TombstonesController, UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, Device])],
  controllers: [UsersController, TombstonesController, DevicesController],
  providers: [UsersService, UsersRepository, DevicesRepository, DevicesService],
  exports: [UsersService, UsersRepository, DevicesRepository, DevicesService],
})
export class UsersModule {}
