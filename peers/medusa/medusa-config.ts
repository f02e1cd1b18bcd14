// Medusa v2 configuration for StockClerk's Medusa peer (tests and `npm run bench -- medusa`).
// No Redis: Medusa then uses its local event bus, in-memory cache, workflow engine and locking
// (one process; see /work/shared/medusa.md for why not --cluster).
import { defineConfig, loadEnv } from '@medusajs/framework/utils';

loadEnv(process.env.NODE_ENV || 'development', process.cwd());

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      storeCors: process.env.STORE_CORS || 'http://127.0.0.1',
      adminCors: process.env.ADMIN_CORS || 'http://127.0.0.1',
      authCors: process.env.AUTH_CORS || 'http://127.0.0.1',
      jwtSecret: process.env.JWT_SECRET || 'stockclerk-medusa-peer-jwt',
      cookieSecret: process.env.COOKIE_SECRET || 'stockclerk-medusa-peer-cookie',
    },
  },
  admin: { disable: true },
});
