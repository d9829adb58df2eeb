// Drops the user:password part of a URL before it reaches a log line or a status page: both are
// read by people who must not learn a broker's or a cloud router's credentials.

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    // Not a URL we can parse: strip anything that looks like userinfo.
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}
