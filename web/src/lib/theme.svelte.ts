/**
 * Theme: `system` follows prefers-color-scheme; `light` and `dark` override it. The choice is kept in localStorage
 * and applied as `data-theme` on <html> (app.html applies it before first paint).
 */

/** ThemeChoice is the user's theme preference. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'drover-theme';

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** theme holds the current choice; set it through setTheme. */
export const theme = $state({ choice: read() });

/** setTheme stores and applies a choice. */
export function setTheme(choice: ThemeChoice): void {
  theme.choice = choice;
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage may be unavailable (private mode): the choice still applies to this page
  }
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

/** nextTheme cycles system → light → dark → system. */
export function nextTheme(c: ThemeChoice): ThemeChoice {
  return c === 'system' ? 'light' : c === 'light' ? 'dark' : 'system';
}
