import { servedDocument } from './sdk/scripts/generate.ts';
const d = await servedDocument();
const s = JSON.stringify(d);
console.log(s.includes('The ledger sequence'), s.includes('Locations whose stock'));
console.log(JSON.stringify((d as any).components.schemas.ChannelSettings));
console.log(JSON.stringify((d as any).paths['/api/v1/channel-types']));
process.exit(0);
