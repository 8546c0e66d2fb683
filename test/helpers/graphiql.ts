/**
 * A browser check of a GraphiQL page, as a newcomer uses it, with the network closed: Debian's Chromium loads the
 * page with every request to another host than this machine aborted and recorded, opens the documentation
 * explorer on the Query type, pastes a query into the editor, runs it and reads the answer from the result pane.
 * Editors are read and written through the clipboard, as a user would: the editors are Monaco, which draws only
 * the visible lines and closes brackets as they are typed.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stripIgnoredCharacters } from "graphql";
import { chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** The page is about 9 MB of inline scripts and styles; on two busy cores it takes a while to start. */
const PAGE_TIMEOUT_MS = 90_000;

export interface GraphiQLCheck {
  /** The Query type's field names, as the documentation explorer lists them. */
  queryFields: string[];
  /** The result pane's text after running the query: the answer as GraphiQL shows it (JSON, indented). */
  result: string;
  /** The requests the page tried to send off this machine (all aborted); a working offline page has none. */
  externalRequests: string[];
  /** Where the screenshot of the page with the result was saved. */
  screenshot: string;
}

/** Chromium may still be being installed when a test starts: wait a while for it, then say how to get it. */
async function chromiumPath(waitMs = 120_000): Promise<string> {
  for (const deadline = Date.now() + waitMs; !existsSync(CHROMIUM); await sleep(2_000))
    if (Date.now() > deadline)
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium)`);
  return CHROMIUM;
}

async function copyEditor(page: Page, editor: string): Promise<string> {
  await page.locator(`${editor} .monaco-editor`).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("ControlOrMeta+C");
  // Back to the start, unselected, for the screenshot.
  await page.keyboard.press("ControlOrMeta+Home");
  return page.evaluate(() => navigator.clipboard.readText());
}

export async function checkGraphiQL({
  url,
  query,
  screenshot,
}: {
  url: string;
  query: string;
  screenshot: string;
}): Promise<GraphiQLCheck> {
  const browser = await chromium.launch({
    executablePath: await chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
  const externalRequests: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(url).origin });
    // data: and blob: URLs (the inline fonts, the editor workers) never reach the router.
    await context.route("**/*", (route) => {
      const requested = route.request().url();
      if (LOCAL_HOSTS.has(new URL(requested).hostname)) return route.continue();
      externalRequests.push(requested);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    await page.goto(url, { timeout: PAGE_TIMEOUT_MS });
    await page.locator(".graphiql-query-editor .monaco-editor").waitFor();

    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    await page.locator(".graphiql-doc-explorer-type-name", { hasText: /^Query$/ }).click();
    await page.locator(".graphiql-doc-explorer-title", { hasText: /^Query$/ }).waitFor();
    const queryFields = await page.locator(".graphiql-doc-explorer-field-name").allInnerTexts();

    await page.evaluate((text) => navigator.clipboard.writeText(text), query);
    await page.locator(".graphiql-query-editor .monaco-editor").click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("ControlOrMeta+V");
    const pasted = await copyEditor(page, ".graphiql-query-editor");
    if (pasted !== query) throw new Error(`the query editor holds ${JSON.stringify(pasted)}, not the query pasted`);

    // GraphiQL sends the query with its ignored characters (spaces, commas, comments) stripped.
    const sent = stripIgnoredCharacters(query);
    const answered = page.waitForResponse(
      (response) => (response.request().postDataJSON() as { query?: string } | null)?.query === sent,
    );
    await page.getByRole("button", { name: "Execute query (Ctrl-Enter)" }).click();
    await answered;
    await page.waitForFunction(() => document.querySelector(".graphiql-response .view-lines")?.textContent?.trim());
    const result = await copyEditor(page, ".graphiql-response");

    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    return { queryFields, result, externalRequests, screenshot };
  } catch (error) {
    // A page that waits for a script from elsewhere fails by timing out: name what it was waiting for.
    if (externalRequests.length > 0)
      (error as Error).message += `\n(the page tried to reach, and was refused: ${externalRequests.join(", ")})`;
    throw error;
  } finally {
    await browser.close();
  }
}
