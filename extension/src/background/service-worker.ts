// The extension's background service worker: wires the socket (link.ts) to Chrome's events. MV3
// stops an idle worker after ~30 s; an open WebSocket that exchanges messages keeps it alive
// (Chrome 116+, hence minimum_chrome_version) and StockClerk pings every 20 s. If the worker is
// stopped anyway (browser idle, update), the 30-second alarm starts a new one, which reconnects.
import type { PageRequest } from '../storage.ts';
import { Link } from './link.ts';
import { pruneResults } from './result-cache.ts';

const KEEPALIVE = 'stockclerk-keepalive';
const link = new Link();

// Listeners first and synchronously: an event that woke the worker is delivered only to listeners
// registered in its first turn.
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === KEEPALIVE) void link.ensure();
});
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && 'pairing' in changes) void link.repair();
});
chrome.runtime.onMessage.addListener((msg: PageRequest, _sender, reply) => {
  const done = () => reply({ ok: true });
  if (msg?.type === 'check-session') void link.checkSession(true).then(done);
  else if (msg?.type === 'reconnect') void link.repair().then(done);
  else return false;
  return true; // the reply comes later
});
chrome.runtime.onInstalled.addListener((details) => {
  // A fresh install has nothing to run until paired: show the seller where to pair.
  if (details.reason === 'install') void chrome.runtime.openOptionsPage();
});
chrome.action.onClicked.addListener(() => void chrome.runtime.openOptionsPage());

// The smallest period Chrome allows (30 s, Chrome 120+).
void chrome.alarms.create(KEEPALIVE, { periodInMinutes: 0.5 });
void pruneResults();
void link.ensure();
