/**
 * Driving the VS Code workbench (served by code-server) the way a user does:
 * clicks, typing, the command palette. Webview content is found by the view
 * name its page carries (`#app[data-view]`), inside VS Code's two iframes.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
}

export const WORKBENCH_TIMEOUT_MS = 60_000;

export class Workbench {
  #stage = 0;

  constructor(
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {
    mkdirSync(screenshotDir, { recursive: true });
  }

  /** Waits for the workbench to load (about 8 s) after opening or reloading the window. */
  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    await this.page.locator('.activitybar').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    // The status bar comes last; the extension host may still be starting (stages wait for what they need).
    await this.page.locator('.statusbar').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
  }

  /** test-results/e2e/<nn>-<stage>.png: what a user sees at this stage. */
  async screenshot(stage: string): Promise<string> {
    this.#stage += 1;
    const file = path.join(this.screenshotDir, `${String(this.#stage).padStart(2, '0')}-${stage}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Opens the Crewbox activity-bar container, and leaves it open if it already
   * is. Clicking an active container's icon hides the side bar, and after a
   * reload the workbench restores that state a moment after the icon appears:
   * so this clicks only while the side bar does not show Crewbox, and checks.
   */
  async openCrewbox(): Promise<void> {
    const item = this.page.locator('.activitybar a[aria-label^="Crewbox"], .activitybar .action-item[aria-label^="Crewbox"] a').first();
    await item.waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    const shown = this.page.locator('.part.sidebar .composite.title', { hasText: /crewbox/i }).first();
    for (let attempt = 0; attempt < 4; attempt++) {
      if (await shown.waitFor({ state: 'visible', timeout: attempt === 0 ? 1_500 : 3_000 }).then(() => true, () => false)) return;
      await item.click();
    }
    throw new Error('the Crewbox side bar did not open');
  }

  /**
   * Runs a command by its palette title through F1 (Ctrl+Shift+P as the fallback).
   * Webviews forward keybindings to the workbench, so this works whatever has focus.
   */
  async runCommand(title: string): Promise<void> {
    await this.openQuickInput(['F1', 'Control+Shift+P']);
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
  }

  /** Quick Open (Ctrl+P) a workspace file by name. */
  async openFile(name: string): Promise<void> {
    await this.openQuickInput(['Control+P']);
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(name);
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: path.basename(name) }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await this.page.locator(`.tabs-container .tab[aria-label*="${path.basename(name)}"]`).first().waitFor({ timeout: 10_000 });
  }

  /**
   * The frame of a Crewbox webview (`chat`, `history`) once its page mounted.
   * Re-found on each call: frames are replaced when a view is re-created or the window reloads.
   */
  async webview(view: string, timeoutMs = WORKBENCH_TIMEOUT_MS): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.page.frames()) {
        if (frame.isDetached()) continue;
        const found = await frame
          .evaluate((v) => document.querySelector(`#app[data-view="${v}"]`) !== null && document.querySelector('#app')!.childElementCount > 0, view)
          .catch(() => false);
        if (found) return frame;
      }
      if (Date.now() > deadline) throw new Error(`no "${view}" webview appeared within ${timeoutMs} ms`);
      await this.page.waitForTimeout(250);
    }
  }

  /** Presses each key in turn until the quick input shows; clicks the workbench's status bar area first if none worked. */
  private async openQuickInput(keys: string[]): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    for (let attempt = 0; attempt < 2; attempt++) {
      for (const key of keys) {
        await this.page.keyboard.press(key);
        if (await input.waitFor({ timeout: 2_000 }).then(() => true, () => false)) return;
      }
      // Focus may sit somewhere that swallows keys: put it on the workbench (an empty spot of the status bar).
      const bar = await this.page.locator('.part.statusbar').boundingBox();
      if (bar) await this.page.mouse.click(bar.x + bar.width / 2, bar.y + bar.height / 2);
    }
    throw new Error(`the quick input did not open with ${keys.join(' or ')}`);
  }
}
