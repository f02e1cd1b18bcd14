// One Postgres server for the whole run: the one DATABASE_URL names, else an embedded one in a
// temporary directory. A migrated template database is made once; each suite clones it
// (CREATE DATABASE ... TEMPLATE), so suites never see each other's rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../src/db/embedded.ts';
import { migrateDatabase } from '../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    templateDb: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let serverUrl: string;
  let stop = async () => {};
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-test-pg-'));
    const emb = await startEmbedded(dir);
    serverUrl = emb.url;
    stop = async () => {
      await emb.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const template = `sc_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const u = new URL(serverUrl);
  u.pathname = '/' + template;
  await migrateDatabase(u.toString());
  project.provide('pgServerUrl', serverUrl);
  project.provide('templateDb', template);
  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`).catch(() => {});
    await admin.end();
    await stop();
  };
}
