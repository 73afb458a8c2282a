// Drives the VS Code workbench in Debian's Chromium through playwright-core: the command palette, the Testing
// view, the editor, and screenshots for the CI log directory.
'use strict';

const path = require('node:path');
const { chromium } = require('playwright-core');
const { waitFor, withTimeout } = require('./wait');

// Flags that work as root on a machine without network or GPU. Only Debian's Chromium is used: nothing may
// download a browser.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const TEST_ROWS = '.test-explorer .monaco-list-row';

class Workbench {
  constructor(browser, page, shotDir) {
    this.browser = browser;
    this.page = page;
    this.shotDir = shotDir;
    this.shots = 0;
  }

  static async open(url, workspaceFile, shotDir) {
    const browser = await withTimeout('launching chromium', 60_000, chromium.launch({
      executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS,
    }));
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${url}/?workspace=${encodeURIComponent(workspaceFile)}`, { timeout: 60_000 });
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 90_000 });
    return new Workbench(browser, page, shotDir);
  }

  async close() {
    await withTimeout('closing chromium', 20_000, this.browser.close()).catch(() => {});
  }

  async screenshot(name) {
    this.shots += 1;
    const file = path.join(this.shotDir, `${String(this.shots).padStart(2, '0')}-${name}.png`);
    await withTimeout(`screenshot ${name}`, 20_000, this.page.screenshot({ path: file }));
    console.log(`  screenshot: ${file}`);
    return file;
  }

  // Runs a command from the palette by its exact title, retrying while it is not (yet) available: commands of
  // an extension appear once it activates, and "Cancel Test Run" only while a run is going.
  async command(title, timeoutMs = 30_000) {
    const { page } = this;
    await waitFor(`command "${title}" in the command palette`, timeoutMs, async () => {
      await this.closeQuickInput();
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`);
      // The palette filters asynchronously; wait until it lists the wanted command or give up on this try. A
      // recently used command that also matches the text ("Run Tests with Coverage in Current File" for "Run
      // Tests in Current File") may be listed first.
      const matched = await waitFor('palette to filter', 3_000, async () => {
        // Rows are recycled, so their order in the DOM need not be the list's: data-index is.
        const rows = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((row) => ({
          index: Number(row.getAttribute('data-index')), label: row.getAttribute('aria-label') || '',
        })));
        const row = rows.find(({ label }) => label === title || label.startsWith(`${title},`));
        return row && { i: row.index };
      }, 100).catch(() => null);
      if (!matched) return false;
      for (let i = 0; i < matched.i; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      return true;
    }, 500);
  }

  async closeQuickInput() {
    const widget = this.page.locator('.quick-input-widget');
    if (await widget.isVisible().catch(() => false)) await this.page.keyboard.press('Escape');
  }

  // timeoutMs: how long the view may take to show (a workbench busy with a large tree takes longer).
  async focusTestExplorer(timeoutMs = 20_000) {
    await this.command('Testing: Focus on Test Explorer View', Math.max(timeoutMs, 30_000));
    await this.page.locator('.test-explorer').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  // The aria-labels of the Testing view's rendered rows, e.g. "test_ok (Passed), in 132ms".
  async testRowLabels() {
    return this.page.$$eval(TEST_ROWS, (rows) => rows.map((row) => row.getAttribute('aria-label') || ''));
  }

  // The Testing view's rendered rows: [{label, description, state}], state as the aria-label says it
  // ("Passed", "Failed", ...). In list mode the aria-label names the parents, not the test, so the label comes
  // from the row's text.
  async testRows() {
    return this.page.$$eval(TEST_ROWS, (rows) => rows.map((row) => {
      const label = row.querySelector('.label');
      const description = label && label.querySelector('.test-label-description');
      const aria = row.getAttribute('aria-label') || '';
      const state = /\(([A-Z][a-zA-Z ]*)\)(, in [^,]*)?$/.exec(aria);
      return {
        label: label ? label.firstChild.textContent.trim() : '',
        description: description ? description.textContent : '',
        state: state ? state[1] : null,
      };
    }));
  }

  // The Testing view's result counter: {passed, total, spinning}. VS Code counts into `total` every test of the
  // run that passed, failed, is queued or is running.
  async resultCounter() {
    return this.page.evaluate(() => {
      const summary = document.querySelector('.test-explorer .result-summary');
      const m = summary && [...summary.children].map((c) => /^(\d+)\/(\d+)$/.exec(c.textContent.trim())).find(Boolean);
      if (!m) return null;
      const spinning = summary.querySelector('.codicon-loading, .codicon-modifier-spin') !== null;
      return { passed: Number(m[1]), total: Number(m[2]), spinning };
    });
  }

  // Switches the Testing view to its list mode, where every test is a row of its own rather than hidden in
  // collapsed folders, files and classes.
  async showAllTestsInView() {
    const { page } = this;
    await page.locator('.part.sidebar .action-label[aria-label^="Views and More Actions"]').first().click();
    const item = page.locator('.monaco-menu .action-item', { hasText: 'View as List' }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    await page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
  }

  // The failure messages VS Code draws after the open editors' lines (content widgets): [{line, text}], for
  // the visible part of each editor.
  async inlineTestMessages() {
    return this.page.evaluate(() => {
      const editors = [...document.querySelectorAll('.editor-group-container .monaco-editor')];
      return editors.flatMap((editor) => {
        const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')];
        return [...editor.querySelectorAll('.test-error-content-widget')].map((widget) => {
          // The widget sits at its line's top; the gutter's line number at the same top names the line.
          const number = numbers.find((n) => n.parentElement.style.top === widget.style.top);
          return { line: number ? Number(number.textContent) : null, text: widget.textContent.trim() };
        });
      });
    });
  }

  // Clicks a failure message in the Test Results view (opened by the run), which reveals it in its file.
  async openTestResultMessage(startsWith) {
    const row = this.page.locator(`.test-output-peek-tree .monaco-list-row[aria-label^="${startsWith}"]`).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  // What the Test Results view shows for the selected message: the diff's expected and actual text and the
  // lines its stack frame snippets highlight (the frame's line).
  async testResultDetails() {
    return this.page.evaluate(() => {
      const panel = document.querySelector('.part.panel');
      if (!panel) return null;
      const text = (selector) => {
        const editor = panel.querySelector(selector);
        const lines = editor && editor.querySelector('.view-lines');
        return lines ? lines.innerText.replace(/\u00a0/g, ' ').trim() : null;
      };
      const frameLines = [];
      for (const editor of panel.querySelectorAll('.monaco-editor')) {
        const numbers = [...editor.querySelectorAll('.line-numbers')];
        for (const mark of editor.querySelectorAll('.view-overlays [class*="stack-frame-line"]')) {
          const number = numbers.find((n) => n.parentElement.style.top === mark.parentElement.style.top);
          if (number) frameLines.push(Number(number.textContent));
        }
      }
      return {
        expected: text('.original-in-monaco-diff-editor'),
        actual: text('.modified-in-monaco-diff-editor'),
        frameLines,
      };
    });
  }

  // Replaces the text of a line (keeping its indentation) by typing in the editor.
  async replaceLine(relativePath, line, text) {
    await this.openFileAt(relativePath, line);
    await this.page.keyboard.press('End');
    await this.page.keyboard.press('Shift+Home');
    await this.page.keyboard.type(text.trimStart());
    await this.page.keyboard.press('Escape');
  }

  // Opens a workspace file through Quick Open and puts the cursor on a 1-based line.
  async openFileAt(relativePath, line) {
    const { page } = this;
    await this.closeQuickInput();
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`${relativePath}:${line}`);
    const base = path.basename(relativePath);
    // The first row must be the file itself, not one whose name ends the same (calc.py, test_calc.py).
    const names = (label) => label.split(/[\s,/]+/);
    const index = await waitFor(`Quick Open to offer ${relativePath}`, 15_000, async () => {
      const labels = await page.$$eval('.quick-input-list .monaco-list-row',
        (rows) => rows.map((row) => row.getAttribute('aria-label') || ''));
      const i = labels.findIndex((label) => names(label).includes(base));
      return i >= 0 && { i };
    });
    // Recently opened files come first and may merely end like the wanted one.
    for (let i = 0; i < index.i; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitFor(`editor on ${base}`, 15_000, async () => {
      const tab = page.locator('.tabs-container .tab.active');
      return names((await tab.getAttribute('aria-label').catch(() => '')) || '').includes(base);
    });
    await this.waitForCursorLine(line);
  }

  // The line numbers' decorations in the active editor: [{line, classes}] for every rendered line number.
  async lineNumberClasses() {
    return this.page.evaluate(() => {
      const editor = document.querySelector('.editor-group-container .editor-instance .monaco-editor');
      if (!editor) return [];
      return [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].map((n) => ({
        line: Number(n.textContent), classes: [...n.classList],
      }));
    });
  }

  // Coverage as the active editor's gutter paints it: {line: 'hit' | 'miss' | 'partial'} for the decorated lines
  // (partial: both, e.g. a statement that ran and a branch of it that did not).
  async coverageGutter() {
    const lines = await this.lineNumberClasses();
    const out = {};
    for (const { line, classes } of lines) {
      if (!classes.includes('coverage-deco-gutter')) continue;
      const hit = classes.includes('coverage-deco-hit');
      const miss = classes.includes('coverage-deco-miss');
      if (hit || miss) out[line] = hit && miss ? 'partial' : (hit ? 'hit' : 'miss');
    }
    return out;
  }

  // The 1-based lines of the active editor whose glyph margin shows an element with this class (breakpoints,
  // the paused frame's arrow): matched to line numbers by their vertical position.
  async glyphLines(className) {
    return this.page.evaluate((cls) => {
      const editor = document.querySelector('.editor-group-container .editor-instance .monaco-editor');
      if (!editor) return [];
      const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')];
      const topOf = (el) => el.getBoundingClientRect().top;
      return [...editor.querySelectorAll(`.${cls}`)].map((glyph) => {
        const number = numbers.find((n) => Math.abs(topOf(n) - topOf(glyph)) < 3);
        return number ? Number(number.textContent) : null;
      }).filter((line) => line !== null);
    }, className);
  }

  // The Call Stack view's rows (aria-labels), when the Run and Debug view shows it.
  async callStackRows() {
    return this.page.$$eval('.debug-call-stack .monaco-list-row',
      (rows) => rows.map((row) => row.getAttribute('aria-label') || row.textContent || ''));
  }

  // The Test Coverage view's rows: [{text}] with the file name and its percentage.
  async coverageViewRows() {
    return this.page.$$eval('.test-coverage-list-item',
      (rows) => rows.map((row) => (row.textContent || '').replace(/\s+/g, ' ').trim()));
  }

  async waitForCursorLine(line) {
    await waitFor(`cursor on line ${line}`, 10_000, async () => {
      const text = await this.page.locator('.statusbar-item[id="status.editor.selection"]').innerText()
        .catch(() => '');
      return text.includes(`Ln ${line},`);
    });
  }
}

module.exports = { Workbench, TEST_ROWS };
