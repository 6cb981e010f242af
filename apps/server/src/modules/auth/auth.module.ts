import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
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
import { QueryTokenMiddleware } from './query-token';
import { SessionsController } from './sessions.controller';
import { TokenService } from './token.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Admin, AdminSession, AccessToken, Setting])],
  controllers: [AuthController, AdminsController, SessionsController],
  providers: [AdminAuthService, AdminMfaService, AdminSettingsService, AdminsService, TokenService, AdminGuard],
  exports: [AdminAuthService, TokenService, AdminGuard],
})
export class AuthModule implements NestModule {
  /** Tokens in query strings are refused on every route (after the request logger, which redacts them). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(QueryTokenMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
