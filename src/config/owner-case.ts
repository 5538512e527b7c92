// The owner as the user spelled it. v2 matches owners in any case, so settings.owner is kept
// lower-case (one spelling for records, keys and state); v3 matches them exactly (`Dapr`
// works, `dapr` answers 404: docs/scarf-api.md "Scarf's API as it is now (2026)"). The spelling is
// remembered here, by its lower-case form, because settings objects are copied with spreads
// on their way to the streams (src/run/plan.ts), which a WeakMap or a hidden field would lose.

const spellings = new Map<string, string>();

/** Called by validateSettings with the owner as configured (trimmed). */
export function rememberOwnerSpelling(configured: string): void {
  spellings.set(configured.toLowerCase(), configured);
}

/** The spelling to send to a case-sensitive endpoint: as configured, or the lower-case owner when none was recorded. */
export function ownerAsConfigured(owner: string): string {
  return spellings.get(owner.toLowerCase()) ?? owner;
}
