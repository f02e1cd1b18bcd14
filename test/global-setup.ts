// Placeholder: replaced by the Postgres bootstrap (embedded unless DATABASE_URL is set).
export default async function setup(): Promise<void> {}
