// in_http's CORS rules (docs/compatibility.md §1 "Methods", in_http.rb
// include_cors_allow_origin): exact origins, `*`, or one `*` as a
// prefix/suffix wildcard.

export class CorsPolicy {
  readonly #origins: readonly string[];
  readonly #any: boolean;
  readonly #credentials: boolean;
  readonly #wildcards: readonly [string, string][];

  constructor(origins: readonly string[], credentials: boolean) {
    this.#origins = origins;
    this.#any = origins.includes('*');
    this.#credentials = credentials;
    this.#wildcards = origins.filter((o) => o !== '').map((o) => {
      const star = o.indexOf('*');
      return star < 0 ? [o, ''] : [o.slice(0, star), o.slice(star + 1)];
    });
  }

  /** A request's Origin passes when listed (an absent Origin always passes, v1.19). */
  allows(origin: string): boolean {
    return this.#any || this.#matches(origin);
  }

  #matches(origin: string): boolean {
    if (this.#origins.includes(origin)) return true;
    for (const [start, end] of this.#wildcards) if (origin.startsWith(start) && origin.endsWith(end)) return true;
    return false;
  }

  /** Headers added to a normal response. */
  responseHeaders(origin: string | undefined): readonly string[] {
    if (this.#any) return ['Access-Control-Allow-Origin', '*'];
    if (origin !== undefined && this.#matches(origin)) {
      return this.#credentials
        ? ['Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true']
        : ['Access-Control-Allow-Origin', origin];
    }
    return [];
  }

  /** OPTIONS answer headers, or undefined for 403. */
  preflightHeaders(origin: string | undefined, requestHeaders: string): string[] | undefined {
    const base = ['Access-Control-Allow-Methods', 'POST', 'Access-Control-Allow-Headers', requestHeaders];
    if (this.#any) return [...base, 'Access-Control-Allow-Origin', '*'];
    if (origin === undefined || !this.#matches(origin)) return undefined;
    return this.#credentials
      ? [...base, 'Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true']
      : [...base, 'Access-Control-Allow-Origin', origin];
  }
}
