// @ts-check
// Small DOM helpers shared by the pages. Text from users is always set as text, never as
// markup: `el` builds elements from text nodes only.

/**
 * The element with `id`, checked to be of `kind` (HTMLElement unless given).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} [kind]
 * @returns {T}
 */
export function byId(id, kind) {
  const node = document.getElementById(id);
  const wanted = kind || HTMLElement;
  if (!(node instanceof wanted)) throw new Error(`the page has no ${wanted.name} #${id}`);
  return /** @type {T} */ (node);
}

/**
 * The first element matching `selector` under `root`, checked to be of `kind`.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: any[]) => T} kind
 * @returns {T}
 */
export function find(root, selector, kind) {
  const node = root.querySelector(selector);
  if (!(node instanceof kind)) throw new Error(`no ${kind.name} matches ${selector}`);
  return node;
}

/** @typedef {string | number | Node | null | undefined | false} Child */

/**
 * Builds an element. `class` sets the class name, `on<event>` adds a listener, other
 * attributes are set unless null, undefined or false; children are nodes or text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Shows a state (for CSS, via data-state) and a line of text on `element`.
 * @param {HTMLElement} element
 * @param {string} state
 * @param {string} text
 */
export function setStatus(element, state, text) {
  element.dataset.state = state;
  element.textContent = text;
}

/**
 * The JSON in a `<script type="application/json" id=...>` block of the page.
 * @param {string} id
 * @returns {any}
 */
export function pageData(id) {
  return JSON.parse(byId(id).textContent || "null");
}

/**
 * A readable line for whatever a failed call threw.
 * @param {unknown} error
 */
export function errorMessage(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}
