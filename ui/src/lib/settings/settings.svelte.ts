/**
 * The Settings screen's state: the effective configuration, row by row, and changing the
 * settings a user may change. A refused change keeps what the user typed and says why.
 */
import {
  asApiError, type ApiError, type Backend, type Origin, type Setting, type SettingsView,
} from "../backend";

export class SettingsState {
  view = $state<SettingsView | null>(null);
  /** What the user typed, by key, until it is saved. */
  edits = $state<Record<string, string>>({});
  /** Why the last change of a key was refused, by key. */
  errors = $state<Record<string, ApiError>>({});
  /** The key last saved, for a short confirmation. */
  saved = $state<string | null>(null);
  error = $state<ApiError | null>(null);
  busy = $state(false);

  constructor(private readonly backend: Backend) {}

  async load(): Promise<void> {
    try {
      this.view = await this.backend.settings();
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** The rows the user may change, and the others (the organisation's or fixed). */
  get yours(): Setting[] {
    return this.view?.settings.filter((s) => s.editable) ?? [];
  }
  get theirs(): Setting[] {
    return this.view?.settings.filter((s) => !s.editable) ?? [];
  }

  valueOf(setting: Setting): string {
    return this.edits[setting.key] ?? setting.value;
  }

  edit(key: string, value: string): void {
    this.edits[key] = value;
    this.saved = null;
  }

  isChanged(setting: Setting): boolean {
    return this.edits[setting.key] !== undefined && this.edits[setting.key] !== setting.value;
  }

  async save(key: string): Promise<void> {
    const value = this.edits[key];
    if (value === undefined || this.busy) return;
    this.busy = true;
    try {
      this.view = await this.backend.changeSetting(key, value);
      delete this.edits[key];
      delete this.errors[key];
      this.saved = key;
    } catch (error) {
      this.errors[key] = asApiError(error);
    } finally {
      this.busy = false;
    }
  }
}

/** Where a value comes from, as the screen says it. */
export function originLabel(setting: Setting): string {
  if (setting.locked) return "Managed by your organisation";
  const words: Record<Origin, string> = {
    default: "Default",
    organisation: "Set by your organisation",
    policy: "Set by your organisation's group policy",
    user: "Set by you",
  };
  return words[setting.origin];
}
