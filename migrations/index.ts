import { Init1795302523017 } from './1795302523017-Init';
import { JamsProtocol1795303746296 } from './1795303746296-JamsProtocol';

import { DirectoryIntegration1795304793054 } from './1795304793054-DirectoryIntegration';

import { GroupPolicies1795306730886 } from './1795306730886-GroupPolicies';

import { AuditActionCounts1796671711005 } from './1796671711005-AuditActionCounts';

// Every migration, in order. `npm run migration:generate -- migrations/<PascalCaseName>` writes a new file;
// add its class here.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: Function[] = [
  Init1795302523017,
  JamsProtocol1795303746296,
  DirectoryIntegration1795304793054,
  GroupPolicies1795306730886,
  AuditActionCounts1796671711005,
];
