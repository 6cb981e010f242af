import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { CreateUserDto, ListUsersQueryDto, UserListResponseDto, UserResponseDto } from './users.dto';
import { UsersService } from './users.service';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a local user' })
  @ApiCreatedResponse({ type: UserResponseDto })
  create(@Body() body: CreateUserDto, @CurrentAdmin() admin: AdminPrincipal): Promise<UserResponseDto> {
    return this.users.create(body, `admin:${admin.username}`);
  }

  @Get()
  @ApiOperation({ summary: 'List users, optionally filtered' })
  @ApiOkResponse({ type: UserListResponseDto })
  list(@Query() query: ListUsersQueryDto): Promise<UserListResponseDto> {
    return this.users.list(query);
  }

  @Get(':username')
  @ApiOperation({ summary: "A user's profile, Jami ID and devices" })
  @ApiOkResponse({ type: UserResponseDto })
  get(@Param('username') username: string): Promise<UserResponseDto> {
    return this.users.get(username);
  }
}
