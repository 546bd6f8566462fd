/**
 * Secret redaction for log lines and error messages (issue 6, security): known secret values are
 * replaced, and so are `password=…`, `secret…=…` and URL user-info patterns.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out
    .replace(/((?:password|passwd|secret(?:AccessKey)?|token|sasl[._-]?password)["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, '$1***')
    .replace(/(\/\/[^/\s:@]+:)[^@\s/]+@/g, '$1***@');
}
