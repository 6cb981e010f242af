import { Injectable } from '@nestjs/common';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { DirectoryConfig } from './directory-config.entity';

const SCHEDULER_ID = 'directory-sync';

/** Keeps the BullMQ job scheduler in step with the directory settings. */
@Injectable()
export class DirectoryScheduler {
  constructor(private readonly queues: QueueService) {}

  async apply(config: DirectoryConfig): Promise<void> {
    const queue = this.queues.queue(QueueName.DirectorySync);
    if (config.type === 'local' || config.syncIntervalMinutes === 0) {
      await queue.removeJobScheduler(SCHEDULER_ID);
      return;
    }
    await queue.upsertJobScheduler(SCHEDULER_ID, { every: config.syncIntervalMinutes * 60_000 }, { name: 'scheduled' });
  }
}
