import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GroupsModule } from '../groups/groups.module';
import { LogosService } from './logos.service';
import { PolicySecrets } from './policy-secrets';
import { BrandingController, PoliciesController, UserPoliciesController } from './policy.controller';
import { Policy, PolicyLogo, PolicyVersion, UserPolicy } from './policy.entity';
import { PolicyService } from './policy.service';

@Module({
  imports: [TypeOrmModule.forFeature([Policy, PolicyVersion, UserPolicy, PolicyLogo]), GroupsModule],
  controllers: [PoliciesController, UserPoliciesController, BrandingController],
  providers: [PolicyService, LogosService, PolicySecrets],
  exports: [PolicyService],
})
export class PolicyModule {}
