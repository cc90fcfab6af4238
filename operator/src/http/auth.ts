// Bearer-token check for the webhook. The token is read from a file (a mounted Secret) and re-read when the file
// changes, so a rotated Secret takes effect without a restart.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** Compares in constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Reads the token file, trimmed; throws a message naming the file and what to do when it is missing or empty. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read the webhook token file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): mount the token Secret there or set TORCHAIN_WEBHOOK_TOKEN_FILE`,
      { cause: err },
    );
  }
  const token = text.trim();
  if (!token) throw new Error(`the webhook token file ${path} is empty: put the bearer token Alertmanager sends in it`);
  return token;
}

/** A token source that re-reads the file when its mtime or size changes, keeping the last good token on error. */
export function tokenFileSource(path: string): () => string {
  let token = readTokenFile(path);
  let stamp = fileStamp(path);
  return () => {
    const now = fileStamp(path);
    if (now !== undefined && now !== stamp) {
      try {
        token = readTokenFile(path);
        stamp = now;
      } catch {
        // A Secret update swaps a symlink; a read in the middle keeps the previous token.
      }
    }
    return token;
  };
}

function fileStamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${String(s.mtimeMs)}:${String(s.size)}:${String(s.ino)}`;
  } catch {
    return undefined;
  }
}
