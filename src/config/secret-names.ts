// Which params hold secrets, by name alone, for the places that run before (or
// outside) a plugin's schema: config parse errors and the dump of a section
// no plugin read (issue 12, "Secrets").

// Fluentd's `secret: true` params of our plugins (aws_key_id, aws_sec_key,
// private_key_passphrase, role_arn, external_id, sse_customer_key, …) plus the
// usual words for one. The parser runs before any plugin declares its params,
// so it goes by the name.
const SECRET_NAME = /(^|_)(sec_key|key_id|secret|passphrase|password|passwd|token|customer_key|role_arn|external_id|proxy)(_|$)/i;

/** True for a param whose value must not be quoted back in an error message. */
export function looksSecret(key: string): boolean {
  return SECRET_NAME.test(key);
}
