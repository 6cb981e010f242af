// Data source for the TypeORM CLI (`npm run migration:generate -- migrations/<Name>`); reads DATABASE_URL.
import { loadConfig } from '../config/app-config';
import { createDataSource } from './data-source';

const config = loadConfig(process.env);
if (!config.database.url) throw new Error('DATABASE_URL is required to generate migrations');
export default createDataSource(config.database.url);
