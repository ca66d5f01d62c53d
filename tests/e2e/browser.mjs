// The system Chromium as the browser tests start it: headless, without the background
// connections this machine's closed network refuses.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.GRIDHUB_CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}
