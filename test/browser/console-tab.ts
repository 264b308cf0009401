/**
 * The browser side of the console tests: Debian's chromium and a tab that records what would make a
 * test fail (errors, requests to another origin).
 */
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's chromium (scripts/ensure-chromium.sh installs it before the tests); playwright never downloads one. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const WAIT = { timeout: 20_000 };

/** A browser tab on the console that records what would make it fail: errors, foreign requests, reloads. */
export interface ConsoleTab {
  page: Page;
  problems: string[];
  requests: string[];
}

export async function openTab(context: BrowserContext): Promise<ConsoleTab> {
  const page = await context.newPage();
  const tab: ConsoleTab = { page, problems: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') tab.problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => tab.problems.push(`page error: ${error.message}`));
  page.on('request', (request) => tab.requests.push(request.url()));
  page.on('websocket', (socket) => tab.requests.push(socket.url()));
  page.on('requestfailed', (request) => tab.problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  return tab;
}

/** what the tab asked for outside the hub's origin (http and ws) */
export function foreignRequests(tab: ConsoleTab, origin: string): string[] {
  const socketOrigin = origin.replace(/^http/, 'ws');
  return tab.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith(`${socketOrigin}/`));
}
