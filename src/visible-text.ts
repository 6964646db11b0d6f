/**
 * Control characters (C0 but newline and tab, DEL, C1) as they would be written in a JavaScript
 * string: U+0002 as `\x02`. A terminal would act on them (ESC starts an escape sequence, CR
 * returns to the line's start) and a browser shows a box or nothing; newline and tab lay the
 * text out the same everywhere, so they stay as they are.
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * The text with each control character visibly escaped, for printing a sample; `mark` wraps each
 * escape (report.html styles them). Files keep the exact text: this is for eyes only.
 */
export function visibleText(text: string, mark: (escape: string) => string = (escape) => escape): string {
  return text.replace(CONTROL, (ch) => mark(`\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
