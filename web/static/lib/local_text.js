// @ts-check
// Titles and names in several languages, as the API and the pages carry them: a
// `{ "en": "...", "zh": "..." }` table whose first entry is the event's default language
// (web/api.py `titles`, `names`; templates' `data-titles`). Pure except `pageLanguage`.

/** @typedef {Record<string, string>} LocalTexts */

/**
 * `zh` for `zh-CN`: the part that names the language.
 * @param {string} code
 */
export function primarySubtag(code) {
  return code.split("-")[0].toLowerCase();
}

/**
 * The text of `texts` in `lang` (`zh-CN` finds `zh`), else in the event's default
 * language (the table's first entry), else `fallback`.
 * @param {LocalTexts | null | undefined} texts
 * @param {string} fallback what to show when there is no table (an older server)
 * @param {string} lang
 */
export function pickText(texts, fallback, lang) {
  if (!texts) return fallback;
  if (texts[lang]) return texts[lang];
  const wanted = primarySubtag(lang);
  const near = Object.keys(texts).find((code) => primarySubtag(code) === wanted);
  if (near && texts[near]) return texts[near];
  const first = Object.values(texts)[0];
  return first || fallback;
}

/**
 * The first of the browser's languages (best first, as `navigator.languages` lists
 * them) that the page speaks, or null.
 * @template {string} L
 * @param {readonly string[]} preferred
 * @param {readonly L[]} supported
 * @returns {L | null}
 */
export function firstSupported(preferred, supported) {
  for (const code of preferred) {
    const match = supported.find((s) => s === primarySubtag(code));
    if (match) return match;
  }
  return null;
}

/** The page's language as the server drew it (`<html lang>`), e.g. `zh`. */
export function pageLanguage() {
  return primarySubtag(document.documentElement.lang || "en");
}
