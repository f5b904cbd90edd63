// The user quota, enforced by the operator itself: the Drupal 7 user_limit module is a setting
// on the account settings form and nothing shows that it stops user_save(), which drush
// user-create and every module creating accounts call directly (see README, "The user quota").
// So the site records when its quota was set (variable aegir_operator_quota = {limit, since}) and,
// while it has more active accounts than the quota, blocks the newest ones created since then:
// new accounts beyond the quota are refused after the fact, accounts that existed when a quota
// was lowered are never blocked for it, nor uid 1, nor the accounts kept (the owner). Blocking
// sends no mail on a default Drupal 7 (user_mail_status_blocked_notify is off).
import { z } from "zod";
import { DRUPAL_USERNAME_PATTERN } from "../../crds/primitives.ts";
import type { Command } from "./commands.ts";

/**
 * Site: set the user_limit module's variable and record the quota's start (in this bootstrap, not
 * a drush variable-set of its own), then block the newest active accounts (uid > 1) created since
 * then while more than `limit` are active, skipping `keep`. Input: {limit, keep}.
 */
export const ENFORCE_QUOTA_PHP = `// aegir-operator:enforce-quota v1
$in = json_decode(stream_get_contents(STDIN), TRUE);
if (!is_array($in)) { return drush_set_error('AEGIR_OPERATOR_INPUT', 'Standard input is not a JSON object.'); }
if (variable_get('user_limit', NULL) !== (int) $in['limit']) { variable_set('user_limit', (int) $in['limit']); }
$quota = variable_get('aegir_operator_quota', array());
if (!isset($quota['limit']) || $quota['limit'] != $in['limit']) {
  $quota = array('limit' => (int) $in['limit'], 'since' => REQUEST_TIME);
  variable_set('aegir_operator_quota', $quota);
}
$keep = array_map('drupal_strtolower', $in['keep']);
$active = db_query('SELECT uid, name, created FROM {users} WHERE uid > 1 AND status = 1 ORDER BY created DESC, uid DESC')->fetchAllAssoc('uid');
$excess = count($active) - (int) $in['limit'];
$blocked = array();
foreach ($active as $uid => $row) {
  if ($excess <= 0 || $row->created < $quota['since']) { break; }
  if (in_array(drupal_strtolower($row->name), $keep, TRUE)) { continue; }
  user_save(user_load($uid), array('status' => 0));
  $blocked[] = $row->name;
  $excess--;
}
drush_print(json_encode(array('blocked' => $blocked, 'active' => count($active) - count($blocked))));`;

export const QuotaWire = z.object({ blocked: z.array(z.string()), active: z.int() });
export type QuotaResult = z.infer<typeof QuotaWire>;

const Input = z.strictObject({
  limit: z.int().min(1),
  keep: z.array(z.string().max(60).regex(new RegExp(DRUPAL_USERNAME_PATTERN), { error: "must be a Drupal user name" })),
});

/** `drush @site php-eval <ENFORCE_QUOTA_PHP>` with its validated input on stdin. */
export function enforceQuotaCommand(drush: string, alias: string, limit: number, keep: readonly string[]): Command {
  const input = Input.safeParse({ limit, keep });
  if (!input.success) throw new TypeError(`${input.error.issues[0]?.path.join(".") ?? "input"}: ${input.error.issues[0]?.message ?? "invalid"}`);
  return { argv: [drush, alias, "php-eval", ENFORCE_QUOTA_PHP], stdin: JSON.stringify(input.data), name: "php-eval:enforce-quota" };
}

/** Whether php-eval code is this script (for the simulated Aegir). */
export function isEnforceQuotaScript(code: string): boolean {
  return code === ENFORCE_QUOTA_PHP;
}
