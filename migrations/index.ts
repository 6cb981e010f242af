import { Init1795302523017 } from './1795302523017-Init';
import { JamsProtocol1795303746296 } from './1795303746296-JamsProtocol';

import { DirectoryIntegration1795304793054 } from './1795304793054-DirectoryIntegration';

import { GroupPolicies1795306730886 } from './1795306730886-GroupPolicies';

import { UsersAndDevices1796671474322 } from './1796671474322-UsersAndDevices';
import { AdminRolesSessionsMfa1796671385000 } from './1796671385000-AdminRolesSessionsMfa';
import { AuditChain1796670981959 } from './1796670981959-AuditChain';
import { PoliciesAndLocalGroups1796671256873 } from './1796671256873-PoliciesAndLocalGroups';
import { CaOperations1796670958055 } from './1796670958055-CaOperations';
import { ConferenceRooms1796670968021 } from './1796670968021-ConferenceRooms';
import { AuditActionCounts1796671711005 } from './1796671711005-AuditActionCounts';

// Every migration, in order. `npm run migration:generate -- migrations/<PascalCaseName>` writes a new file;
// add its class here.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: Function[] = [
  Init1795302523017,
  JamsProtocol1795303746296,
  DirectoryIntegration1795304793054,
  GroupPolicies1795306730886,
  CaOperations1796670958055,
  ConferenceRooms1796670968021,
  AuditChain1796670981959,
  PoliciesAndLocalGroups1796671256873,
  AdminRolesSessionsMfa1796671385000,
  UsersAndDevices1796671474322,
  AuditActionCounts1796671711005,
];
