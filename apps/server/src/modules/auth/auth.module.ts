import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Setting } from '../setup/setting.entity';
import { AccessToken } from './access-token.entity';
import { AdminAuthService } from './admin-auth.service';
import { AdminMfaService } from './admin-mfa.service';
import { AdminSession } from './admin-session.entity';
import { AdminSettingsService } from './admin-settings.service';
import { Admin } from './admin.entity';
import { AdminGuard } from './admin.guard';
import { AdminsController } from './admins.controller';
import { AdminsService } from './admins.service';
import { AuthController } from './auth.controller';
import { SessionsController } from './sessions.controller';
import { TokenService } from './token.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Admin, AdminSession, AccessToken, Setting])],
  controllers: [AuthController, AdminsController, SessionsController],
  providers: [AdminAuthService, AdminMfaService, AdminSettingsService, AdminsService, TokenService, AdminGuard],
  exports: [AdminAuthService, TokenService, AdminGuard],
})
export class AuthModule {}
