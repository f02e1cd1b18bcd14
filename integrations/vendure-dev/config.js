// Vendure config for StockClerk's tests and benchmark (see /work/shared/vendure.md for why each
// setting). Everything comes from the environment the launcher (launch.ts) sets.
const { DefaultJobQueuePlugin, DefaultLogger, DefaultSearchPlugin, LogLevel, dummyPaymentHandler } = require('@vendure/core');
const { StockClerkPlugin } = require('../vendure-plugin/index.js');

const plugins = [
  DefaultJobQueuePlugin.init({ useDatabaseForBuffer: true }),
  // bufferUpdates: true (SEARCH_BUFFER=1) batches the search-index job that every stock change
  // would otherwise enqueue; the in-process queue cannot keep up without it.
  DefaultSearchPlugin.init({ bufferUpdates: process.env.SEARCH_BUFFER === '1', indexStockStatus: true }),
];
if (process.env.STOCKCLERK_WEBHOOK_URL) {
  plugins.push(
    StockClerkPlugin.init({
      webhookUrl: process.env.STOCKCLERK_WEBHOOK_URL,
      secret: process.env.STOCKCLERK_WEBHOOK_SECRET,
      baseDelayMs: Number(process.env.STOCKCLERK_RETRY_BASE_MS || 500),
    }),
  );
}

exports.config = {
  apiOptions: { hostname: '127.0.0.1', port: Number(process.env.PORT || 3000), adminApiPath: 'admin-api', shopApiPath: 'shop-api' },
  authOptions: {
    tokenMethod: ['bearer', 'cookie'],
    superadminCredentials: { identifier: 'superadmin', password: process.env.SUPERADMIN_PASSWORD || 'superadmin' },
    cookieOptions: { secret: 'stockclerk-dev-cookie-secret' },
    requireVerification: false,
  },
  dbConnectionOptions: { type: 'postgres', url: process.env.VENDURE_DATABASE_URL, synchronize: true, logging: false, migrations: [] },
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  logger: new DefaultLogger({ level: process.env.VENDURE_LOG === 'info' ? LogLevel.Info : LogLevel.Error }),
  plugins,
};
