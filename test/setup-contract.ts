// Loaded before every test file (vitest setupFiles): wraps the global fetch so that every /api/v1
// exchange any suite makes, through any helper or a bare fetch, is checked against the OpenAPI
// documents served by that same server, joined (one per audience: DOCUMENTS in src/http/openapi.ts;
// test/helpers/contract.ts). A violation fails the call at
// once (the promise rejects) and, in case a test swallowed it, the file's afterAll.
import { afterAll } from 'vitest';
import { DOCUMENT_NAMES, DOCUMENTS, mergeDocuments } from '../src/http/openapi.ts';
import { Contract } from './helpers/contract.ts';

const DOCUMENT_PATHS = new Set<string>(DOCUMENT_NAMES.map((n) => DOCUMENTS[n].path));

const realFetch = globalThis.fetch;
const contracts = new Map<string, Promise<Contract>>();
export const violations: string[] = [];

export class ContractViolation extends Error {}

function contractFor(origin: string): Promise<Contract> {
  let c = contracts.get(origin);
  if (!c) {
    c = Promise.all(
      [...DOCUMENT_PATHS].map(async (p) => {
        const r = await realFetch(`${origin}${p}`);
        if (r.status !== 200) throw new ContractViolation(`${origin}${p} answered ${r.status}`);
        return (await r.json()) as Record<string, unknown>;
      }),
    ).then((docs) => new Contract(mergeDocuments(docs)));
    contracts.set(origin, c);
    c.catch(() => contracts.delete(origin));
  }
  return c;
}

function requestOf(input: string | URL | Request, init?: RequestInit): { url: string; method: string; body: string | null } {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const body = typeof init?.body === 'string' ? init.body : null;
  return { url, method, body };
}

globalThis.fetch = async function checkedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const res = await realFetch(input, init);
  const { url, method, body } = requestOf(input, init);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return res;
  }
  if (!u.pathname.startsWith('/api/v1/') || DOCUMENT_PATHS.has(u.pathname)) return res;
  // A CORS preflight is answered by the CORS layer, not by an operation of the document.
  if (method === 'OPTIONS') return res;
  const text = await res.clone().text();
  const contract = await contractFor(u.origin);
  const problems = contract.check({ method, url, requestBody: body, status: res.status, headers: res.headers, responseText: text });
  if (problems.length) {
    violations.push(...problems);
    throw new ContractViolation(`OpenAPI contract broken:\n${problems.join('\n')}`);
  }
  return res;
};

afterAll(() => {
  if (violations.length) throw new ContractViolation(`OpenAPI contract broken in this file:\n${violations.splice(0).join('\n')}`);
});
