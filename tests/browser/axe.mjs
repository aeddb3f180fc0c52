// Accessibility checks for the browser scenarios: axe-core (npm, vendored in node_modules
// by `setup`, never fetched from a CDN) runs in the page against WCAG 2.0/2.1 A and AA and
// axe's best practices (labels on inputs, names on buttons and links, colour contrast,
// landmarks, heading order, duplicate ids, ARIA use). Any violation, whatever its impact,
// fails the scenario with the rule, the elements and what axe says would fix them.
//
// The console's Content-Security-Policy forbids inline scripts, axe's included, so the
// browser context that runs these checks must be created with `bypassCSP: true`; the
// scenario's other steps run under the real policy in their own context.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/// Opens each of `paths` on `base` in `page` and fails on any axe violation. Answers the
/// number of pages checked.
export async function checkPages(page, base, paths) {
  const failures = [];
  for (const path of paths) {
    const response = await page.goto(base + path);
    assert.ok(response && response.ok(), `${path} answered ${response && response.status()}`);
    await page.addScriptTag({ content: source });
    const result = await page.evaluate(
      async (tags) => await window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
      TAGS,
    );
    for (const v of result.violations) {
      const nodes = v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`)
        .join('; ');
      failures.push(`${path}: [${v.impact}] ${v.id} (${v.help}), ${v.nodes.length} element(s): ${nodes}`);
    }
  }
  assert.deepEqual(failures, [], `accessibility violations:\n${failures.join('\n')}`);
  return paths.length;
}
