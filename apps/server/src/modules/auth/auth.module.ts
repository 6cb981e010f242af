import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessToken } from './access-token.entity';
import { AdminAuthService } from './admin-auth.service';
import { Admin } from './admin.entity';
import { AdminGuard } from './admin.guard';
import { AuthController } from './auth.controller';
import { TokenService } from './token.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Admin, AccessToken])],
  controllers: [AuthController],
  providers: [AdminAuthService, TokenService, AdminGuard],
  exports: [AdminAuthService, TokenService, AdminGuard],
})
export class AuthModule {}
