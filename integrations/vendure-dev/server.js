// Boots Vendure for StockClerk's tests and benchmark: server + job queue in ONE process (the queue
// started on the app, not bootstrapWorker(): two bootstraps in one process init the strategies
// twice and send StockMovementEvents to the worker's EventBus). Seeds VARIANTS variants when the
// database is empty, then prints READY.
process.env.VENDURE_DISABLE_TELEMETRY = 'true'; // 3.7 phones home by default
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bootstrap, JobQueueService, TransactionalConnection, ProductVariant } = require('@vendure/core');
const { populate } = require('@vendure/core/cli');
const { config } = require('./config.js');

const HEADER = 'name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets';

/** Products of 10 size variants each, SKU-<product>-<variant>, INITIAL_STOCK on hand. */
function productsCsv(variants, stock) {
  const rows = [HEADER];
  for (let n = 0; n < variants; n++) {
    const p = Math.floor(n / 10) + 1,
      v = (n % 10) + 1,
      first = v === 1;
    rows.push(
      [
        first ? `Product ${p}` : '',
        first ? `product-${p}` : '',
        first ? `P${p}` : '',
        '',
        '',
        first ? 'size' : '',
        `s${v}`,
        `SKU-${p}-${v}`,
        '19.99',
        'standard',
        String(stock),
        'true',
        '',
        '',
      ].join(','),
    );
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vendure-seed-')), 'products.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

const initialData = {
  defaultLanguage: 'en',
  defaultZone: 'Europe',
  taxRates: [{ name: 'Standard Tax', percentage: 20 }],
  shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
  paymentMethods: [{ name: 'Standard Payment', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'false' }] } }],
  countries: [{ name: 'United Kingdom', code: 'GB', zone: 'Europe' }],
  collections: [],
};

(async () => {
  const app = await bootstrap(config);
  if (process.env.JOBS !== '0') await app.get(JobQueueService).start();
  if ((await app.get(TransactionalConnection).rawConnection.getRepository(ProductVariant).count()) === 0) {
    const csv = productsCsv(Number(process.env.VARIANTS || 50), Number(process.env.INITIAL_STOCK || 100));
    await populate(async () => app, initialData, csv);
    fs.rmSync(path.dirname(csv), { recursive: true, force: true });
  }
  const stop = async () => {
    await app.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A test run or bench that dies without stopping us must not leave Vendure running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1000).unref();
  console.log('READY');
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
