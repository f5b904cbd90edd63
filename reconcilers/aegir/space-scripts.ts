// php-eval scripts for Open Atrium spaces on a shared site (HostedSpace). Like scripts.ts: the
// code is constant, every value arrives as JSON on standard input, one JSON document on stdout,
// failures through drush_set_error(). Open Atrium has no drush command for spaces and no member
// limit, so both are ours: the site module below enforces each space's quota in
// hook_og_membership_presave() and sends the space's welcome mail from hook_mail(). What the
// operator keeps per space lives in the module's tables, one row per space and per welcome: as
// array variables (7.x-1.0) every write rewrote all spaces' entries (122 bytes a space), every
// request of the site loaded them, and two concurrent writes lost one's entry.
import { MAX_MACHINE_NAME_LENGTH } from "../../crds/primitives.ts";
import { READ_INPUT_PHP } from "./php-input.ts";

export const SPACE_MODULE = "aegir_operator_spaces";
/** Bumped with every change of the module source: the reconciler reinstalls an older one. */
export const SPACE_MODULE_VERSION = "7.x-1.1";
/** Table: machine name => space nid and member quota (read by the module's hook), for the spaces the operator manages. */
export const SPACES_TABLE = "aegir_operator_spaces";
/** Table: space nid, uid => welcome marker. */
export const WELCOMES_TABLE = "aegir_operator_space_welcomes";
/** 7.x-1.0 kept the same as array variables; installing 7.x-1.1 moves them into the tables. */
export const LEGACY_VARIABLES = { spaces: "aegir_operator_spaces", quotas: "aegir_operator_space_quotas", welcomes: "aegir_operator_space_welcome" } as const;

export const SPACE_MODULE_INFO = `name = Aegir operator spaces
description = Enforces the member quota of the spaces aegir-operator manages and sends their welcome mail.
core = 7.x
package = Open Atrium
version = "${SPACE_MODULE_VERSION}"
dependencies[] = og
dependencies[] = oa_core
`;

export const SPACE_MODULE_PHP = `<?php
/**
 * @file
 * Installed and kept up to date by aegir-operator. Do not edit: it is overwritten.
 */

/**
 * Active user memberships of a space.
 */
function aegir_operator_spaces_active_members($gid) {
  return (int) db_query("SELECT COUNT(*) FROM {og_membership} WHERE group_type = 'node' AND gid = :gid AND entity_type = 'user' AND state = :state",
    array(':gid' => $gid, ':state' => OG_STATE_ACTIVE))->fetchField();
}

/**
 * Implements hook_og_membership_presave().
 *
 * Refuses a membership that would make a space's active members exceed its quota, whoever adds
 * it (the space's join form, an administrator, og_group() from code): the exception aborts the
 * save and its transaction.
 */
function aegir_operator_spaces_og_membership_presave($membership) {
  if ($membership->entity_type != 'user' || $membership->group_type != 'node' || $membership->state != OG_STATE_ACTIVE) {
    return;
  }
  $quota = db_query('SELECT quota FROM {${SPACES_TABLE}} WHERE nid = :nid', array(':nid' => $membership->gid))->fetchField();
  if ($quota === FALSE) {
    return;
  }
  if (!empty($membership->id)) {
    $before = db_query('SELECT state FROM {og_membership} WHERE id = :id', array(':id' => $membership->id))->fetchField();
    if ($before == OG_STATE_ACTIVE) {
      return;
    }
  }
  if (aegir_operator_spaces_active_members($membership->gid) >= $quota) {
    throw new OgException(t('This space has reached its limit of @quota members.', array('@quota' => $quota)));
  }
}

/**
 * Implements hook_mail().
 */
function aegir_operator_spaces_mail($key, &$message, $params) {
  if ($key != 'space_welcome') {
    return;
  }
  $variables = array('@space' => $params['space'], '@site' => variable_get('site_name', 'Drupal'), '@name' => $params['name']);
  $message['subject'] = t('Your space @space at @site', $variables);
  $message['body'][] = t('Hello @name,', $variables);
  $message['body'][] = t('Your space @space is ready. Log in once with the link below to choose a password; it works one time only.', $variables);
  $message['body'][] = $params['link'];
}
`;

export const SPACE_MODULE_INSTALL_FILE = `<?php
/**
 * @file
 * Installed and kept up to date by aegir-operator. Do not edit: it is overwritten.
 */

/**
 * Implements hook_schema().
 */
function aegir_operator_spaces_schema() {
  $schema['${SPACES_TABLE}'] = array(
    'description' => 'The spaces aegir-operator manages.',
    'fields' => array(
      'machine' => array('type' => 'varchar', 'length' => ${MAX_MACHINE_NAME_LENGTH}, 'not null' => TRUE),
      'nid' => array('type' => 'int', 'unsigned' => TRUE, 'not null' => TRUE),
      'quota' => array('type' => 'int', 'unsigned' => TRUE, 'not null' => TRUE),
    ),
    'primary key' => array('machine'),
    'unique keys' => array('nid' => array('nid')),
  );
  $schema['${WELCOMES_TABLE}'] = array(
    'description' => 'The welcome mail of a space to an account, marked before it is sent.',
    'fields' => array(
      'nid' => array('type' => 'int', 'unsigned' => TRUE, 'not null' => TRUE),
      'uid' => array('type' => 'int', 'unsigned' => TRUE, 'not null' => TRUE),
      'state' => array('type' => 'varchar', 'length' => 16, 'not null' => TRUE),
      'at' => array('type' => 'int', 'not null' => TRUE),
    ),
    'primary key' => array('nid', 'uid'),
  );
  return $schema;
}
`;

/** The space's nid from the operator's table, or 0 (also before the module made its tables). */
const spaceNid = `$nid = db_table_exists('${SPACES_TABLE}') ? (int) db_query('SELECT nid FROM {${SPACES_TABLE}} WHERE machine = :machine', array(':machine' => $in['machine']))->fetchField() : 0;`;

/**
 * The list's rows for some managed spaces (nid => machine name): settings, member count, the
 * uids holding the space's OG administrator role, welcome states by uid. The list reads every
 * space with it; each write prints its space's row, so the controller updates its cached list
 * instead of reading the whole site again.
 */
const spaceRows = `function _aegir_operator_space_rows($machines) {
  if (!$machines) { return array(); }
  $nids = array_keys($machines);
  $quotas = db_query('SELECT nid, quota FROM {${SPACES_TABLE}} WHERE nid IN (:nids)', array(':nids' => $nids))->fetchAllKeyed();
  $rows = db_query("SELECT n.nid, n.title, n.status, a.group_access_value AS access, t.name AS blueprint
    FROM {node} n
    LEFT JOIN {field_data_group_access} a ON a.entity_type = 'node' AND a.entity_id = n.nid
    LEFT JOIN {field_data_field_oa_space_type} st ON st.entity_type = 'node' AND st.entity_id = n.nid
    LEFT JOIN {taxonomy_term_data} t ON t.tid = st.field_oa_space_type_tid
    WHERE n.type = 'oa_space' AND n.nid IN (:nids)", array(':nids' => $nids));
  $members = db_query("SELECT gid, COUNT(*) FROM {og_membership} WHERE group_type = 'node' AND entity_type = 'user' AND state = 1 AND gid IN (:nids) GROUP BY gid",
    array(':nids' => $nids))->fetchAllKeyed();
  $admins = array();
  foreach (db_query("SELECT ur.gid, ur.uid FROM {og_users_roles} ur INNER JOIN {og_role} r ON r.rid = ur.rid
    INNER JOIN {og_membership} m ON m.group_type = 'node' AND m.gid = ur.gid AND m.entity_type = 'user' AND m.etid = ur.uid AND m.state = 1
    WHERE ur.group_type = 'node' AND r.name = :admin AND ur.gid IN (:nids) ORDER BY ur.uid", array(':admin' => OG_ADMINISTRATOR_ROLE, ':nids' => $nids)) as $r) {
    $admins[$r->gid][] = (int) $r->uid;
  }
  $welcomes = array();
  foreach (db_query('SELECT nid, uid, state FROM {${WELCOMES_TABLE}} WHERE nid IN (:nids)', array(':nids' => $nids)) as $w) {
    $welcomes[$w->nid][$w->uid] = $w->state;
  }
  $out = array();
  foreach ($rows as $r) {
    $welcome = isset($welcomes[$r->nid]) ? $welcomes[$r->nid] : array();
    $out[] = array('machine' => $machines[$r->nid], 'nid' => (int) $r->nid, 'title' => $r->title, 'published' => (int) $r->status === 1,
      'public' => empty($r->access), 'blueprint' => (string) $r->blueprint,
      'quota' => isset($quotas[$r->nid]) ? (int) $quotas[$r->nid] : NULL,
      'members' => isset($members[$r->nid]) ? (int) $members[$r->nid] : 0,
      'admins' => isset($admins[$r->nid]) ? $admins[$r->nid] : array(), 'welcome' => (object) $welcome);
  }
  return $out;
}`;

/** A write's space row (NULL when the node is gone), after the write; needs $nid and $in['machine']. */
const thisRow = `$rows = $nid ? _aegir_operator_space_rows(array($nid => $in['machine'])) : array();
$row = $rows ? $rows[0] : NULL;`;

/** Shared site: every managed space in one read (the cheap poll), and the quota module's version. */
export const SPACE_LIST_PHP = `// aegir-operator:space-list v1
${spaceRows}
$machines = db_table_exists('${SPACES_TABLE}') ? db_query('SELECT nid, machine FROM {${SPACES_TABLE}}')->fetchAllKeyed() : array();
$info = module_exists('${SPACE_MODULE}') ? system_get_info('module', '${SPACE_MODULE}') : array();
$out = _aegir_operator_space_rows($machines);
drush_print(json_encode(array('module' => isset($info['version']) ? $info['version'] : NULL, 'spaces' => $out)));`;

/**
 * Shared site: one space's owner, membership and welcome marker (the deep read). The owner is the
 * account with her address: on a shared site a name may be another customer's. Input: {machine, owner: {mail}}.
 */
export const SPACE_STATE_PHP = `// aegir-operator:space-state v1
${READ_INPUT_PHP}
${spaceNid}
$account = user_load_by_mail($in['owner']['mail']);
$owner = NULL;
$membership = NULL;
$welcome = NULL;
if ($account) {
  $owner = array('uid' => (int) $account->uid, 'name' => $account->name, 'mail' => $account->mail, 'status' => (int) $account->status,
    'roles' => array_values(array_diff($account->roles, array('authenticated user'))),
    'siteAdmin' => $account->uid == 1 || user_access('administer users', $account) || user_access('administer site configuration', $account));
  $m = $nid ? og_get_membership('node', $nid, 'user', $account->uid) : FALSE;
  if ($m) {
    $roles = og_get_user_roles('node', $nid, $account->uid, FALSE);
    $membership = array('state' => (int) $m->state, 'admin' => in_array(OG_ADMINISTRATOR_ROLE, $roles));
  }
  $marker = $nid ? db_query('SELECT state, at FROM {${WELCOMES_TABLE}} WHERE nid = :nid AND uid = :uid', array(':nid' => $nid, ':uid' => $account->uid))->fetchAssoc() : FALSE;
  if ($marker) { $welcome = array('state' => $marker['state'], 'at' => (int) $marker['at']); }
}
drush_print(json_encode(array('nid' => $nid, 'owner' => $owner, 'membership' => $membership, 'welcome' => $welcome)));`;

/**
 * Shared site: write the quota module into the site's own modules directory and enable it (which
 * creates its tables). Over 7.x-1.0, already enabled, it creates the tables itself and moves the
 * spaces, quotas and welcome markers out of the old array variables, in one transaction.
 */
export const SPACE_MODULE_INSTALL_PHP = `// aegir-operator:space-module v1
$info = <<<'INFO'
${SPACE_MODULE_INFO}INFO;
$module = <<<'MODULE'
${SPACE_MODULE_PHP}MODULE;
$install = <<<'INSTALL'
${SPACE_MODULE_INSTALL_FILE}INSTALL;
$dir = conf_path() . '/modules/${SPACE_MODULE}';
if (!is_dir($dir) && !drupal_mkdir($dir, NULL, TRUE)) { return drush_set_error('AEGIR_OPERATOR_SPACE_MODULE', dt('Cannot create !dir.', array('!dir' => $dir))); }
foreach (array('${SPACE_MODULE}.info' => $info, '${SPACE_MODULE}.module' => $module, '${SPACE_MODULE}.install' => $install) as $name => $content) {
  if (@file_get_contents("$dir/$name") !== $content && file_put_contents("$dir/$name", $content) === FALSE) {
    return drush_set_error('AEGIR_OPERATOR_SPACE_MODULE', dt('Cannot write !file.', array('!file' => "$dir/$name")));
  }
}
// Reads the new .info (version) before enabling; an already enabled module runs the new code from the next request.
system_rebuild_module_data();
if (!module_enable(array('${SPACE_MODULE}'), TRUE)) { return drush_set_error('AEGIR_OPERATOR_SPACE_MODULE', dt('${SPACE_MODULE} could not be enabled: Organic Groups or oa_core is missing.')); }
if (!db_table_exists('${SPACES_TABLE}')) {
  $txn = db_transaction();
  module_load_install('${SPACE_MODULE}');
  drupal_install_schema('${SPACE_MODULE}');
  $quotas = variable_get('${LEGACY_VARIABLES.quotas}', array());
  foreach (variable_get('${LEGACY_VARIABLES.spaces}', array()) as $machine => $nid) {
    db_insert('${SPACES_TABLE}')->fields(array('machine' => $machine, 'nid' => $nid, 'quota' => isset($quotas[$nid]) ? $quotas[$nid] : 1))->execute();
  }
  foreach (variable_get('${LEGACY_VARIABLES.welcomes}', array()) as $nid => $markers) {
    foreach ($markers as $uid => $marker) {
      db_insert('${WELCOMES_TABLE}')->fields(array('nid' => $nid, 'uid' => $uid, 'state' => $marker['state'], 'at' => $marker['at']))->execute();
    }
  }
  foreach (array('${LEGACY_VARIABLES.spaces}', '${LEGACY_VARIABLES.quotas}', '${LEGACY_VARIABLES.welcomes}') as $name) { variable_del($name); }
}
$enabled = system_get_info('module', '${SPACE_MODULE}');
drush_print(json_encode(array('version' => $enabled['version'])));`;

/**
 * Shared site: create the space, or bring its title, visibility, blueprint, publication and
 * quota to the given values. Idempotent by machine name: its row is written right after
 * the node, so a retry finds the space instead of creating a second one. Authored by uid 0 so
 * that Organic Groups makes nobody (not uid 1) a member on creation. Input: {machine, title,
 * public, blueprint, published, quota}.
 */
export const SPACE_ENSURE_PHP = `// aegir-operator:space-ensure v1
${READ_INPUT_PHP}
${spaceRows}
${spaceNid}
$terms = taxonomy_get_term_by_name($in['blueprint'], 'space_type');
if (!$terms) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_BLUEPRINT', dt('Blueprint !name is not a space type on this site.', array('!name' => $in['blueprint']))); }
$term = reset($terms);
$node = $nid ? node_load($nid) : FALSE;
$created = !$node;
if ($created) {
  $node = new stdClass();
  $node->type = 'oa_space';
  node_object_prepare($node);
  $node->uid = 0;
  $node->language = LANGUAGE_NONE;
  $node->group_group[LANGUAGE_NONE][0]['value'] = 1;
}
$node->title = $in['title'];
$node->status = $in['published'] ? 1 : 0;
$node->group_access[LANGUAGE_NONE][0]['value'] = $in['public'] ? 0 : 1;
$node->field_oa_space_type[LANGUAGE_NONE][0]['tid'] = $term->tid;
node_save($node);
db_merge('${SPACES_TABLE}')->key(array('machine' => $in['machine']))->fields(array('nid' => $node->nid, 'quota' => (int) $in['quota']))->execute();
$nid = (int) $node->nid;
${thisRow}
drush_print(json_encode(array('nid' => $nid, 'created' => $created, 'space' => $row)));`;

/**
 * Shared site: the owner's account (the one with her address, else created with \`name\`; never
 * uid 1 nor a site administrator), an active member of the space with the OG administrator role,
 * as oa_core_add_admin() does. A name taken by an account with another address is refused, never
 * taken over. Input: {machine, name, mail}.
 */
export const SPACE_OWNER_PHP = `// aegir-operator:space-owner v1
${READ_INPUT_PHP}
${spaceRows}
${spaceNid}
if (!$nid) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_SPACE', dt('Space !machine does not exist.', array('!machine' => $in['machine']))); }
$account = user_load_by_mail($in['mail']);
$created = FALSE;
if (!$account) {
  if (user_load_by_name($in['name'])) { return drush_set_error('DRUSH_USER_ERROR', dt('There is already a user account with the name !name', array('!name' => $in['name']))); }
  $account = user_save(drupal_anonymous_user(), array('name' => $in['name'], 'mail' => $in['mail'], 'init' => $in['mail'], 'pass' => user_password(), 'status' => 1,
    'roles' => array(DRUPAL_AUTHENTICATED_RID => 'authenticated user')));
  if (!$account) { return drush_set_error('AEGIR_OPERATOR_SPACE_OWNER', dt('Could not create the account !name.', array('!name' => $in['name']))); }
  $created = TRUE;
}
if ($account->uid == 1 || user_access('administer users', $account) || user_access('administer site configuration', $account)) {
  return drush_set_error('AEGIR_OPERATOR_OWNER_IS_ADMIN', dt('Account !name is a site administrator; a space owner must be an ordinary account.', array('!name' => $account->name)));
}
$m = og_get_membership('node', $nid, 'user', $account->uid);
if (!$m || $m->state != OG_STATE_ACTIVE) {
  try {
    oa_core_add_member_api('node', $nid, $account->uid);
  }
  catch (Exception $e) {
    return drush_set_error('AEGIR_OPERATOR_SPACE_FULL', dt('Space !machine is full: !message', array('!machine' => $in['machine'], '!message' => $e->getMessage())));
  }
}
$rid = array_search(OG_ADMINISTRATOR_ROLE, og_roles('node', 'oa_space', $nid));
if ($rid) { og_role_grant('node', $nid, $account->uid, $rid); }
${thisRow}
drush_print(json_encode(array('uid' => (int) $account->uid, 'created' => $created, 'space' => $row)));`;

/**
 * Shared site: the space's welcome mail with a one-time login link, once per space and account.
 * The account is resolved first and must be the owner's uid (never uid 1): \`drush user-login\`
 * for a missing name silently logs in uid 1. The marker is written before sending (a crash can
 * lose a mail but never send it twice); the link never leaves the server. Input: {machine, mail, uid}.
 */
export const SPACE_WELCOME_PHP = `// aegir-operator:space-welcome v1
${READ_INPUT_PHP}
${spaceRows}
${spaceNid}
$node = $nid ? node_load($nid) : FALSE;
if (!$node) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_SPACE', dt('Space !machine does not exist.', array('!machine' => $in['machine']))); }
$account = user_load_by_mail($in['mail']);
if (!$account) { return drush_set_error('DRUSH_USER_ERROR', 'Unable to find a matching user for ' . $in['mail'] . '.'); }
if ($account->uid <= 1 || (int) $account->uid !== (int) $in['uid']) {
  return drush_set_error('AEGIR_OPERATOR_OWNER_IS_ADMIN', dt('Refusing a login link for uid !uid: the space owner is uid !owner.', array('!uid' => $account->uid, '!owner' => (int) $in['uid'])));
}
$key = array('nid' => $nid, 'uid' => (int) $account->uid);
$marker = db_query('SELECT state, at FROM {${WELCOMES_TABLE}} WHERE nid = :nid AND uid = :uid', array(':nid' => $nid, ':uid' => $account->uid))->fetchAssoc();
if ($marker) {
  ${thisRow}
  drush_print(json_encode(array('uid' => (int) $account->uid, 'sent' => FALSE, 'marker' => array('state' => $marker['state'], 'at' => (int) $marker['at']), 'space' => $row)));
  return;
}
$link = user_pass_reset_url($account) . '/login';
if (!preg_match('~/user/reset/(\\d+)/~', $link, $match) || (int) $match[1] !== (int) $account->uid) {
  return drush_set_error('AEGIR_OPERATOR_OWNER_IS_ADMIN', dt('Refusing a login link that is not for uid !uid.', array('!uid' => $account->uid)));
}
// An insert, not a merge: of two concurrent runs only one gets to send.
db_insert('${WELCOMES_TABLE}')->fields($key + array('state' => 'sending', 'at' => REQUEST_TIME))->execute();
$message = drupal_mail('${SPACE_MODULE}', 'space_welcome', $account->mail, user_preferred_language($account),
  array('space' => $node->title, 'name' => $account->name, 'link' => $link), variable_get('site_mail', ''));
$marker = array('state' => empty($message['result']) ? 'failed' : 'sent', 'at' => REQUEST_TIME);
db_update('${WELCOMES_TABLE}')->fields($marker)->condition('nid', $nid)->condition('uid', $account->uid)->execute();
${thisRow}
drush_print(json_encode(array('uid' => (int) $account->uid, 'sent' => !empty($message['result']), 'marker' => $marker, 'space' => $row)));`;

/** Shared site: delete the space node (Organic Groups deletes its memberships) and forget it. Input: {machine}. */
export const SPACE_DELETE_PHP = `// aegir-operator:space-delete v1
${READ_INPUT_PHP}
${spaceNid}
if ($nid) {
  node_delete($nid);
  db_delete('${SPACES_TABLE}')->condition('machine', $in['machine'])->execute();
  db_delete('${WELCOMES_TABLE}')->condition('nid', $nid)->execute();
}
drush_print(json_encode(array('deleted' => $nid > 0)));`;

export const SPACE_SCRIPTS = {
  "space-list": SPACE_LIST_PHP,
  "space-state": SPACE_STATE_PHP,
  "space-module": SPACE_MODULE_INSTALL_PHP,
  "space-ensure": SPACE_ENSURE_PHP,
  "space-owner": SPACE_OWNER_PHP,
  "space-welcome": SPACE_WELCOME_PHP,
  "space-delete": SPACE_DELETE_PHP,
} as const;
