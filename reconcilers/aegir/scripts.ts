// PHP run with `drush php-eval` where no drush command answers the question in one bootstrap.
// The code is constant: every value it needs arrives as JSON on standard input, so no user
// data is ever part of PHP source. Each script prints one JSON document on stdout and reports
// failures with drush_set_error() (a log line on stderr, exit status 1), like drush itself.
// The first line names the script, so logs and the simulated Aegir can tell them apart.
import { READ_INPUT_PHP } from "./php-input.ts";
import { SPACE_SCRIPTS } from "./space-scripts.ts";

const readInput = READ_INPUT_PHP;

const contextNid = `function _aegir_operator_context_nid($name) {
  return (int) db_query('SELECT nid FROM {hosting_context} WHERE name = :name', array(':name' => $name))->fetchField();
}`;

const domainCheck = `// hosting_domain_allowed() asks every hosting module, as Aegir's site form does: site URIs
// (the hostmaster's own included) and aliases of other sites.
function _aegir_operator_domain_taken($domains, $params) {
  foreach ($domains as $domain) {
    if (!hosting_domain_allowed($domain, $params)) { return $domain; }
  }
  return NULL;
}`;

/** The hostmaster variable create-site and queue-task record their background tasks in. */
export const BACKGROUND_TASKS_VARIABLE = "aegir_operator_background_tasks";
/** The queue-task types that may run in the background: a spare's clone, verify or delete (pool work; an install is create-site's). */
export const BACKGROUND_TASK_TYPES = ["clone", "verify", "delete"] as const;

const inZone = `// A site's name under the placeholder zone (not the zone itself).
function _aegir_operator_in_zone($name, $zone) {
  $suffix = '.' . $zone;
  return strlen($name) > strlen($suffix) && substr($name, -strlen($suffix)) === $suffix;
}`;

const backgroundTasks = `// The tasks started in a process of their own by create-site or queue-task (pool work): nids.
function _aegir_operator_background_tasks() {
  return array_flip(array_map('intval', (array) variable_get('${BACKGROUND_TASKS_VARIABLE}', array())));
}`;

const poolWork = `${backgroundTasks}
${inZone}
// Input {alias, zone}: the hostmaster's drush alias and the pool's placeholder zone. Only pool work
// runs in the background: every name the task is for must be under the zone. NULL if it may;
// else the error code and message, checked before anything is created.
function _aegir_operator_not_pool_work($background, $uris) {
  if (!is_array($background) || !isset($background['alias'], $background['zone']) || !is_string($background['alias']) || $background['alias'] === ''
    || !is_string($background['zone']) || $background['zone'] === '') {
    return array('AEGIR_OPERATOR_INPUT', 'Expected the hostmaster alias and the placeholder zone of the pool work.');
  }
  foreach ($uris as $uri) {
    $uri = is_string($uri) ? $uri : '';
    if (!_aegir_operator_in_zone($uri, $background['zone'])) {
      return array('AEGIR_OPERATOR_NOT_POOL_WORK', dt('!uri is not a site of the pool zone !zone: only pool work runs in the background.', array('!uri' => $uri, '!zone' => $background['zone'])));
    }
  }
  return NULL;
}
// Start queued task $nid now, in its own process, from the php-eval that queued it. The task is
// marked Processing here first, as hosting-task's validate does: hosting-queued takes only queued
// tasks (hosting_get_new_tasks), and a run of it the daemon picked up in its 1 s pause fails with
// HOSTING_TASK_RUNNING (hosting_task_execute passes no --force), so the task runs once, in the
// process forked here with --force (run it even though it is Processing). Its nid is recorded too
// (under a lock; tasks no longer queued or processing pruned), so a read that sees the task
// processing knows it runs outside hosting-queued. drush_build_drush_command(): drush calling
// itself again (drush.php through the same PHP and options); nice and, where there is one,
// ionice's idle class lower the provision process's CPU and IO priority; detached from this
// process's input and output, so the SSH command returns at once. Should the fork not start, the
// task stays Processing: a stuck task, reported as such (TaskStuck).
function _aegir_operator_start_in_background($nid, $alias) {
  $nid = (int) $nid;
  $task = node_load($nid, NULL, TRUE);
  $task->task_status = -1;
  $task->executed = REQUEST_TIME;
  $task->changed = REQUEST_TIME;
  $task->revision = TRUE;
  node_save($task);
  for ($tries = 0; !lock_acquire('${BACKGROUND_TASKS_VARIABLE}', 5) && $tries < 5; $tries++) { lock_wait('${BACKGROUND_TASKS_VARIABLE}', 5); }
  $listed = array_keys(_aegir_operator_background_tasks());
  $live = $listed ? array_map('intval', db_query('SELECT t.nid FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid WHERE t.nid IN (:nids) AND t.task_status IN (-1, 0)',
    array(':nids' => $listed))->fetchCol()) : array();
  $live[] = $nid;
  variable_set('${BACKGROUND_TASKS_VARIABLE}', array_values(array_unique($live)));
  lock_release('${BACKGROUND_TASKS_VARIABLE}');
  $priority = 'nice -n 19' . (is_executable('/usr/bin/ionice') ? ' /usr/bin/ionice -c 3' : '');
  exec('nohup ' . $priority . ' ' . drush_build_drush_command() . ' ' . escapeshellarg($alias) . ' hosting-task ' . $nid . ' --force < /dev/null > /dev/null 2>&1 &');
}`;

/**
 * Hostmaster: every site, platform and pending task in one read (the cheap poll). A task's
 * `background`: pool work create-site or queue-task started in its own process, queued or
 * processing (it does not occupy hosting-queued).
 */
export const SERVER_STATUS_PHP = `// aegir-operator:server-status v1
${backgroundTasks}
$background = _aegir_operator_background_tasks();
$sites = array();
// Without hosting_https Aegir stores no https setting: say "unknown", never "off".
$https = module_exists('hosting_https') && db_table_exists('hosting_https_site');
$rows = db_query("SELECT n.nid, n.title, s.status, s.verified, pc.name AS platform, pkg.short_name AS profile
  FROM {hosting_site} s INNER JOIN {node} n ON n.vid = s.vid
  INNER JOIN {hosting_context} pc ON pc.nid = s.platform
  LEFT JOIN {hosting_package} pkg ON pkg.nid = s.profile
  WHERE n.type = 'site'");
foreach ($rows as $r) {
  $sites[$r->nid] = array('nid' => (int) $r->nid, 'uri' => $r->title, 'status' => (int) $r->status,
    'verified' => (int) $r->verified, 'platform' => $r->platform, 'profile' => (string) $r->profile,
    'aliases' => array(), 'https' => $https ? 0 : NULL, 'tasks' => array());
}
if (db_table_exists('hosting_site_alias')) {
  foreach (db_query('SELECT a.nid, a.alias FROM {hosting_site_alias} a INNER JOIN {node} n ON n.vid = a.vid WHERE a.automatic = 0 ORDER BY a.alias') as $r) {
    if (isset($sites[$r->nid])) { $sites[$r->nid]['aliases'][] = $r->alias; }
  }
}
if ($https) {
  foreach (db_query('SELECT h.nid, h.https_enabled FROM {hosting_https_site} h INNER JOIN {node} n ON n.vid = h.vid') as $r) {
    if (isset($sites[$r->nid])) { $sites[$r->nid]['https'] = (int) $r->https_enabled; }
  }
}
// Pending tasks, and the latest task of each type, per site.
$rows = db_query('SELECT t.nid, t.rid, t.task_type, t.task_status, t.executed, t.delta FROM {hosting_task} t
  INNER JOIN {node} n ON n.vid = t.vid
  WHERE t.task_status IN (-1, 0) OR t.nid IN (SELECT MAX(t2.nid) FROM {hosting_task} t2 GROUP BY t2.rid, t2.task_type)
  ORDER BY t.nid');
$queue = array('queued' => 0, 'processing' => 0);
foreach ($rows as $r) {
  if ($r->task_status == 0) { $queue['queued']++; }
  if ($r->task_status == -1) { $queue['processing']++; }
  if (isset($sites[$r->rid])) {
    $sites[$r->rid]['tasks'][] = array('nid' => (int) $r->nid, 'type' => $r->task_type, 'status' => (int) $r->task_status,
      'executed' => (int) $r->executed, 'delta' => (int) $r->delta,
      'background' => isset($background[(int) $r->nid]) && in_array((int) $r->task_status, array(-1, 0), TRUE));
  }
}
$platforms = array();
foreach (db_query("SELECT n.nid, pc.name, p.status FROM {hosting_platform} p INNER JOIN {node} n ON n.vid = p.vid
  INNER JOIN {hosting_context} pc ON pc.nid = n.nid WHERE n.type = 'platform'") as $r) {
  $platforms[$r->nid] = array('name' => $r->name, 'status' => (int) $r->status, 'profiles' => array());
}
foreach (db_query("SELECT i.rid, pkg.short_name FROM {hosting_package_instance} i
  INNER JOIN {hosting_package} pkg ON pkg.nid = i.package_id WHERE pkg.package_type = 'profile' ORDER BY pkg.short_name") as $r) {
  if (isset($platforms[$r->rid])) { $platforms[$r->rid]['profiles'][] = $r->short_name; }
}
drush_print(json_encode(array('sites' => array_values($sites), 'platforms' => array_values($platforms), 'queue' => $queue, 'https' => $https)));`;

/**
 * Hostmaster: create the site node, as the front end does, so Aegir queues the install task
 * and its UI stays in sync. Input: {uri, platform, profile, aliases, https, background?}; with
 * background ({alias, zone}: a spare's install, uri under the zone) the install starts at once in
 * its own low-priority process, outside hosting-queued (poolWork above), and the output says
 * `"background": true`.
 */
export const CREATE_SITE_PHP = `// aegir-operator:create-site v1
${readInput}
${contextNid}
${domainCheck}
${poolWork}
$background = isset($in['background']) ? $in['background'] : NULL;
if ($background !== NULL && ($refused = _aegir_operator_not_pool_work($background, array($in['uri'])))) {
  return drush_set_error($refused[0], $refused[1]);
}
if (_aegir_operator_context_nid($in['uri'])) {
  return drush_set_error('AEGIR_OPERATOR_SITE_EXISTS', dt('Site !uri already exists.', array('!uri' => $in['uri'])));
}
$taken = _aegir_operator_domain_taken(array_merge(array($in['uri']), $in['aliases']), array());
if ($taken !== NULL) {
  return drush_set_error('AEGIR_OPERATOR_DOMAIN_TAKEN', dt('Domain !domain is already in use by another site.', array('!domain' => $taken)));
}
$platform = _aegir_operator_context_nid($in['platform']);
if (!$platform) {
  return drush_set_error('AEGIR_OPERATOR_UNKNOWN_PLATFORM', dt('Platform !p does not exist.', array('!p' => $in['platform'])));
}
$profile = db_query("SELECT p.nid FROM {hosting_package} p INNER JOIN {hosting_package_instance} i ON i.package_id = p.nid
  WHERE p.package_type = 'profile' AND p.short_name = :name AND i.rid = :platform",
  array(':name' => $in['profile'], ':platform' => $platform))->fetchField();
if (!$profile) {
  return drush_set_error('AEGIR_OPERATOR_PROFILE_NOT_ON_PLATFORM', dt('Profile !profile is not on platform !p.', array('!profile' => $in['profile'], '!p' => $in['platform'])));
}
$node = new stdClass();
$node->type = 'site';
$node->title = $in['uri'];
$node->uid = 1;
$node->status = 1;
$node->platform = $platform;
$node->profile = (int) $profile;
$node->db_server = (int) variable_get('hosting_default_db_server', 0);
$node->client = (int) variable_get('hosting_default_client', 1);
$node->site_language = 'en';
$node->aliases = $in['aliases'];
$node->redirection = FALSE;
$node->https_enabled = (int) $in['https'];
node_save($node);
$task = db_query("SELECT t.nid FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid WHERE t.rid = :rid AND t.task_type = 'install' ORDER BY t.nid DESC",
  array(':rid' => $node->nid))->fetchField();
$out = array('nid' => (int) $node->nid, 'task' => (int) $task);
if ($background !== NULL && $task) {
  _aegir_operator_start_in_background($task, $background['alias']);
  $out['background'] = TRUE;
}
drush_print(json_encode($out));`;

/** Hostmaster: change the site node's aliases and https; saving the node queues a verify. Input: {uri, aliases, https}. */
export const UPDATE_SITE_PHP = `// aegir-operator:update-site v1
${readInput}
${contextNid}
${domainCheck}
$nid = _aegir_operator_context_nid($in['uri']);
if (!$nid) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_SITE', dt('Site !uri does not exist.', array('!uri' => $in['uri']))); }
$taken = _aegir_operator_domain_taken($in['aliases'], array('nid' => $nid));
if ($taken !== NULL) {
  return drush_set_error('AEGIR_OPERATOR_DOMAIN_TAKEN', dt('Domain !domain is already in use by another site.', array('!domain' => $taken)));
}
$node = node_load($nid);
$node->aliases = $in['aliases'];
$node->https_enabled = (int) $in['https'];
node_save($node);
$task = db_query("SELECT t.nid FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid WHERE t.rid = :rid AND t.task_type = 'verify' ORDER BY t.nid DESC",
  array(':rid' => $nid))->fetchField();
drush_print(json_encode(array('nid' => $nid, 'task' => (int) $task)));`;

/**
 * Hostmaster: queue a task for a site (verify, disable, enable, backup, delete, migrate, clone),
 * refusing while another task of the site is queued or running. Input: {uri, type,
 * targetPlatform?, newUri?}: a migrate with a newUri renames the site, as the Migrate form does;
 * a clone copies it under newUri, as the Clone form (and Aegir SaaS) does. With background
 * ({alias, zone}: pool work, uri and a migrate's or clone's newUri under the zone) the task starts
 * at once in its own low-priority process, outside hosting-queued (poolWork above), and the output
 * says `"background": true`.
 */
export const QUEUE_TASK_PHP = `// aegir-operator:queue-task v1
${readInput}
${contextNid}
${domainCheck}
${poolWork}
$background = isset($in['background']) ? $in['background'] : NULL;
if ($background !== NULL) {
  // Pool work only: a spare's clone, verify or delete (a spare's migrate is a claim's rename).
  if (!in_array($in['type'], json_decode('${JSON.stringify(BACKGROUND_TASK_TYPES)}', TRUE), TRUE)) {
    return drush_set_error('AEGIR_OPERATOR_NOT_POOL_WORK', dt('A !type task is no pool work: only a clone, verify or delete runs in the background.', array('!type' => $in['type'])));
  }
  // A clone's copy is the task's site too.
  $names = isset($in['newUri']) && $in['type'] == 'clone' ? array($in['uri'], $in['newUri']) : array($in['uri']);
  if ($refused = _aegir_operator_not_pool_work($background, $names)) { return drush_set_error($refused[0], $refused[1]); }
}
$nid = _aegir_operator_context_nid($in['uri']);
if (!$nid) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_SITE', dt('Site !uri does not exist.', array('!uri' => $in['uri']))); }
$pending = db_query('SELECT t.nid FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid WHERE t.rid = :rid AND t.task_status IN (-1, 0)',
  array(':rid' => $nid))->fetchField();
if ($pending) { return drush_set_error('HOSTING_TASK_RUNNING', dt('Task !task of !uri is still queued or running.', array('!task' => $pending, '!uri' => $in['uri']))); }
$args = array();
// hosting_clone is a feature, off by default: without it the clone task type does not exist.
if ($in['type'] == 'clone' && !module_exists('hosting_clone')) {
  return drush_set_error('AEGIR_OPERATOR_TASK_UNAVAILABLE', dt('Task type clone is not available: the hosting_clone feature is disabled.'));
}
if ($in['type'] == 'migrate' || $in['type'] == 'clone') {
  $args['target_platform'] = _aegir_operator_context_nid($in['targetPlatform']);
  if (!$args['target_platform']) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_PLATFORM', dt('Platform !p does not exist.', array('!p' => $in['targetPlatform']))); }
  // What Aegir's migrate form sends: without them hosting_migrate loses the site's context
  // and its post-task hook renames the site to ''.
  $site = node_load($nid);
  $args['new_uri'] = isset($in['newUri']) ? $in['newUri'] : $site->title;
  $args['new_db_server'] = (int) $site->db_server;
  // hosting_migrate's and hosting_clone's form validation: the new name must be free (a clone's, of the source's too).
  $taken = _aegir_operator_domain_taken(array($args['new_uri']), $in['type'] == 'clone' ? array() : array('nid' => $nid));
  if ($taken !== NULL) { return drush_set_error('AEGIR_OPERATOR_DOMAIN_TAKEN', dt('Domain !domain is already in use by another site.', array('!domain' => $taken))); }
}
$task = hosting_add_task($nid, $in['type'], $args);
$out = array('nid' => (int) $task->nid);
if ($background !== NULL && $task->nid) {
  _aegir_operator_start_in_background($task->nid, $background['alias']);
  $out['background'] = TRUE;
}
drush_print(json_encode($out));`;

/**
 * Hostmaster: run a queued task now, in its own process, beside the pool work hosting-queued is
 * busy with. `drush @hostmaster hosting-task <nid>` runs a queued task itself: it marks it
 * Processing (the daemon's own run of it then fails with HOSTING_TASK_RUNNING and changes
 * nothing) and takes no queue lock. Decided here, on the hostmaster's database: never while a
 * task of the task's own node is processing (site-busy); pool work started in the background
 * (the aegir_operator_background_tasks variable, see create-site) does not occupy hosting-queued,
 * so when every processing task is such, the daemon is free and takes the task within seconds
 * (queue-idle); else only while every task hosting-queued is processing is for a site of the
 * pool's placeholder zone (never beside a customer's task, a platform's or the hostmaster's).
 * drush_build_drush_command() is drush's own way to call itself again (drush.php through the same
 * PHP and its options, as backend invoke does); the new process is detached from this one's input
 * and output, so the SSH command returns at once.
 * Input: {nid, zone, alias} (alias: the hostmaster's drush alias).
 */
export const RUN_TASK_BESIDE_PHP = `// aegir-operator:run-task-beside v1
${readInput}
${backgroundTasks}
${inZone}
if (!isset($in['nid'], $in['zone'], $in['alias']) || !is_int($in['nid']) || $in['nid'] <= 0 || !is_string($in['zone']) || $in['zone'] === '' || !is_string($in['alias']) || $in['alias'] === '') {
  return drush_set_error('AEGIR_OPERATOR_INPUT', 'Expected a task nid, a placeholder zone and the hostmaster alias.');
}
$nid = (int) $in['nid'];
// What Aegir is processing now, with the title (a site's uri) of the node each task is for.
$running = db_query('SELECT t.nid, t.rid, t.task_type, r.title FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid
  LEFT JOIN {node} r ON r.nid = t.rid WHERE t.task_status = -1 ORDER BY t.nid')->fetchAll();
$task = node_load($nid, NULL, TRUE);
if (!$task || $task->type != 'task') {
  return drush_set_error('AEGIR_OPERATOR_UNKNOWN_TASK', dt('Task !nid does not exist.', array('!nid' => $nid)));
}
$answer = function ($reason) { drush_print(json_encode(array('started' => FALSE, 'reason' => $reason))); };
if ((int) $task->task_status != 0) { return $answer('not-queued'); }
foreach ($running as $r) {
  if ((int) $r->rid == (int) $task->rid) { return $answer('site-busy'); }
}
// What hosting-queued runs: not the pool work started in the background (pool work by construction).
$background = _aegir_operator_background_tasks();
$daemon = array();
foreach ($running as $r) {
  if (!isset($background[(int) $r->nid])) { $daemon[] = $r; }
}
// hosting-queued runs nothing: it takes the task within seconds.
if (!$daemon) { return $answer('queue-idle'); }
// Pool work is a spare's install, clone, verify or delete; a spare's migrate is a claim's rename.
foreach ($daemon as $r) {
  if ($r->task_type == 'migrate' || !_aegir_operator_in_zone((string) $r->title, $in['zone'])) { return $answer('customer-task-running'); }
}
exec('nohup ' . drush_build_drush_command() . ' ' . escapeshellarg($in['alias']) . ' hosting-task ' . $nid . ' < /dev/null > /dev/null 2>&1 &');
drush_print(json_encode(array('started' => TRUE)));`;

/** Hostmaster: every backup of every site (hosting_site_backups), oldest first. */
export const SITE_BACKUPS_PHP = `// aegir-operator:site-backups v1
$backups = array();
foreach (db_query("SELECT b.bid, n.title, b.filename, b.timestamp FROM {hosting_site_backups} b
  INNER JOIN {node} n ON n.nid = b.site WHERE n.type = 'site' ORDER BY b.timestamp, b.bid") as $r) {
  $backups[] = array('bid' => (int) $r->bid, 'uri' => $r->title, 'file' => $r->filename, 'at' => (int) $r->timestamp);
}
drush_print(json_encode(array('backups' => $backups)));`;

/**
 * Hostmaster: queue a task on backups of a site, named by file: restore (one file, task
 * argument bid) or backup-delete (task arguments bid => file, as hosting_site's form sends
 * them). Refused while another task of the site is queued or running, or when a file is not one
 * of the site's backups. Input: {uri, type, files}.
 */
export const QUEUE_BACKUP_TASK_PHP = `// aegir-operator:queue-backup-task v1
${readInput}
${contextNid}
$nid = _aegir_operator_context_nid($in['uri']);
if (!$nid) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_SITE', dt('Site !uri does not exist.', array('!uri' => $in['uri']))); }
if (!in_array($in['type'], array('restore', 'backup-delete'), TRUE) || !is_array($in['files']) || !$in['files'] || ($in['type'] == 'restore' && count($in['files']) != 1)) {
  return drush_set_error('AEGIR_OPERATOR_INPUT', 'Expected a restore of one file or a backup-delete of files.');
}
$pending = db_query('SELECT t.nid FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid WHERE t.rid = :rid AND t.task_status IN (-1, 0)',
  array(':rid' => $nid))->fetchField();
if ($pending) { return drush_set_error('HOSTING_TASK_RUNNING', dt('Task !task of !uri is still queued or running.', array('!task' => $pending, '!uri' => $in['uri']))); }
$args = array();
foreach ($in['files'] as $file) {
  $bid = db_query('SELECT bid FROM {hosting_site_backups} WHERE site = :site AND filename = :file', array(':site' => $nid, ':file' => (string) $file))->fetchField();
  if (!$bid) { return drush_set_error('AEGIR_OPERATOR_UNKNOWN_BACKUP', dt('!file is not a backup of !uri.', array('!file' => $file, '!uri' => $in['uri']))); }
  if ($in['type'] == 'restore') { $args['bid'] = (int) $bid; } else { $args[(int) $bid] = (string) $file; }
}
$task = hosting_add_task($nid, $in['type'], $args);
drush_print(json_encode(array('nid' => (int) $task->nid)));`;

const accountInfo = `function _aegir_operator_account($name, $mail) {
  $account = $name ? user_load_by_name($name) : FALSE;
  if (!$account && $mail) { $account = user_load_by_mail($mail); }
  if (!$account) { return NULL; }
  return array('uid' => (int) $account->uid, 'name' => $account->name, 'mail' => $account->mail,
    'status' => (int) $account->status, 'roles' => array_values(array_diff($account->roles, array('authenticated user'))));
}`;

/**
 * Site: everything the reconciler compares in one bootstrap (the deep read). Input:
 * {owner: {name, mail}}.
 */
export const SITE_STATE_PHP = `// aegir-operator:site-state v1
${readInput}
${accountInfo}
// system_rebuild_theme_data(), not list_themes(): the system table does not know a theme added
// to the platform since the site's last rebuild.
$theme_data = system_rebuild_theme_data();
ksort($theme_data);
$themes = array();
foreach ($theme_data as $name => $theme) { if ($theme->status) { $themes[] = $name; } }
$module_data = system_rebuild_module_data();
ksort($module_data);
$welcome = variable_get('aegir_operator_welcome', array());
drush_print(json_encode(array(
  'modules' => array_values(module_list()),
  'available' => array_keys($module_data),
  'themes' => $themes,
  'availableThemes' => array_keys($theme_data),
  'theme' => variable_get('theme_default', ''),
  'userLimit' => variable_get('user_limit', NULL),
  'roles' => array_values(user_roles(TRUE)),
  'activeUsers' => (int) db_query('SELECT COUNT(*) FROM {users} WHERE uid > 1 AND status = 1')->fetchField(),
  'owner' => _aegir_operator_account($in['owner']['name'], $in['owner']['mail']),
  'welcome' => (object) $welcome,
)));`;

/** Any site: one account by name or mail (the support tracker). Input: {name, mail}. */
export const FIND_ACCOUNT_PHP = `// aegir-operator:find-account v1
${readInput}
${accountInfo}
drush_print(json_encode(array('account' => _aegir_operator_account($in['name'], $in['mail']))));`;

/**
 * Site: send the site's own "account created for you" mail (with a one-time login link) to
 * an account, once, and only to an owner: not uid 1, holding the owner role (checked here, in
 * the bootstrap that sends, so the account need not be read again after it was created). The
 * marker is written before sending: a crash can lose a mail but never send it twice. A failing
 * mail server makes drush exit 1 (Drupal logs the error) after the JSON is printed. Input:
 * {name, role}.
 */
export const WELCOME_MAIL_PHP = `// aegir-operator:welcome-mail v1
${readInput}
$account = user_load_by_name($in['name']);
if (!$account) { return drush_set_error('DRUSH_USER_ERROR', 'Unable to find a matching user for ' . $in['name'] . '.'); }
// The driver always names the role; input without one (recorded before it did) checks uid 1 only.
if ($account->uid <= 1 || (isset($in['role']) && !in_array($in['role'], $account->roles, TRUE))) {
  return drush_set_error('AEGIR_OPERATOR_NOT_OWNER', dt('!name is not an owner account with the !role role.', array('!name' => $account->name, '!role' => $in['role'])));
}
$welcome = variable_get('aegir_operator_welcome', array());
if (isset($welcome[$account->uid])) {
  drush_print(json_encode(array('uid' => (int) $account->uid, 'sent' => FALSE, 'marker' => $welcome[$account->uid])));
  return;
}
$welcome[$account->uid] = array('state' => 'sending', 'at' => REQUEST_TIME);
variable_set('aegir_operator_welcome', $welcome);
$mail = _user_mail_notify('register_admin_created', $account);
$welcome[$account->uid] = array('state' => $mail ? 'sent' : 'failed', 'at' => REQUEST_TIME);
variable_set('aegir_operator_welcome', $welcome);
drush_print(json_encode(array('uid' => (int) $account->uid, 'sent' => (bool) $mail, 'marker' => $welcome[$account->uid])));`;

/**
 * Site: enable modules with module_enable(), all or none, once every one and its whole
 * dependency closure is on the platform. drush pm-enable would download what is missing from
 * drupal.org into the shared platform. Input: {modules}.
 */
export const ENABLE_MODULES_PHP = `// aegir-operator:enable-modules v1
${readInput}
$data = system_rebuild_module_data();
$missing = array();
$dependencies = array();
foreach ($in['modules'] as $module) {
  if (!isset($data[$module])) { $missing[] = $module; continue; }
  // requires: the transitive dependencies, present or not.
  foreach (array_keys($data[$module]->requires) as $dependency) {
    if (!isset($data[$dependency])) { $dependencies[$module][] = $dependency; }
  }
}
$enabled = array();
if (!$missing && !$dependencies) {
  $before = module_list();
  if (!module_enable($in['modules'], TRUE)) { return drush_set_error('AEGIR_OPERATOR_ENABLE_FAILED', 'module_enable() refused the modules.'); }
  $enabled = array_values(array_diff(module_list(TRUE), $before));
}
drush_print(json_encode(array('enabled' => $enabled, 'missing' => $missing, 'missingDependencies' => (object) $dependencies)));`;

/**
 * Site: make a theme the default, enabling it and its base themes, once they are all on the
 * platform (system_rebuild_theme_data(), so a theme new on the platform is seen). Input: {theme}.
 */
export const SET_THEME_PHP = `// aegir-operator:set-theme v1
${readInput}
$data = system_rebuild_theme_data();
$theme = $in['theme'];
$missing = array();
if (!isset($data[$theme])) { $missing[] = $theme; }
else {
  // drupal_find_base_themes() lists a missing base theme with the value NULL.
  foreach ($data[$theme]->base_themes as $base => $name) { if ($name === NULL) { $missing[] = $base; } }
}
if (!$missing) {
  theme_enable(array_merge(array_keys($data[$theme]->base_themes), array($theme)));
  variable_set('theme_default', $theme);
}
drush_print(json_encode(array('theme' => variable_get('theme_default', ''), 'missing' => $missing)));`;

/**
 * Site: remove what a spare's placeholder domain left on the site it became, after the rename
 * (provision-deploy rewrites the files paths, not the variables): the placeholder replaced by
 * the site's domain in every variable (site_name, settings holding URLs) and account mail, every
 * cache flushed. Safe to run again: it touches nothing that names the site's own domain.
 * Reports what it changed and what still names the placeholder. Input: {placeholder, uri}.
 */
export const SCRUB_PLACEHOLDER_PHP = `// aegir-operator:scrub-placeholder v1
${readInput}
function _aegir_operator_replace($value, $old, $new) {
  if (is_string($value)) { return str_replace($old, $new, $value); }
  if (is_array($value)) { foreach ($value as $k => $v) { $value[$k] = _aegir_operator_replace($v, $old, $new); } }
  return $value;
}
// A spare cloned from another carries that one's placeholder too (and so on down its line): every
// spare domain of the zone found on the site is replaced, not only the spare's own.
$olds = array($in['placeholder']);
if (isset($in['zone'])) {
  $pattern = '/spare-[0-9a-f]+-[0-9a-f]+\\.' . preg_quote($in['zone'], '/') . '/';
  $zoneLike = '%' . db_like('.' . $in['zone']) . '%';
  $found = array_merge(
    db_query('SELECT value FROM {variable} WHERE value LIKE :p', array(':p' => $zoneLike))->fetchCol(),
    db_query('SELECT mail FROM {users} WHERE mail LIKE :p', array(':p' => $zoneLike))->fetchCol(),
    db_query('SELECT init FROM {users} WHERE init LIKE :p', array(':p' => $zoneLike))->fetchCol());
  foreach ($found as $text) {
    if (preg_match_all($pattern, $text, $m)) { $olds = array_merge($olds, $m[0]); }
  }
  $olds = array_values(array_unique($olds));
}
$variables = array();
$users = 0;
foreach ($olds as $old) {
  $like = '%' . db_like($old) . '%';
  // Serialized values: replaced after unserialize(), so the string lengths stay right.
  foreach (db_query('SELECT name, value FROM {variable} WHERE value LIKE :p', array(':p' => $like)) as $row) {
    variable_set($row->name, _aegir_operator_replace(unserialize($row->value), $old, $in['uri']));
    $variables[] = $row->name;
  }
  $users += db_update('users')->expression('mail', 'REPLACE(mail, :old, :new)', array(':old' => $old, ':new' => $in['uri']))
    ->expression('init', 'REPLACE(init, :old2, :new2)', array(':old2' => $old, ':new2' => $in['uri']))
    ->condition(db_or()->condition('mail', $like, 'LIKE')->condition('init', $like, 'LIKE'))->execute();
}
drupal_flush_all_caches();
$remaining = array();
foreach ($olds as $old) {
  $like = '%' . db_like($old) . '%';
  $remaining = array_merge($remaining, db_query('SELECT name FROM {variable} WHERE value LIKE :p', array(':p' => $like))->fetchCol());
  $remaining = array_merge($remaining, db_query('SELECT name FROM {users} WHERE name LIKE :p OR mail LIKE :p2', array(':p' => $like, ':p2' => $like))->fetchCol());
}
drush_print(json_encode(array('variables' => array_values(array_unique($variables)), 'users' => (int) $users, 'remaining' => array_values(array_unique($remaining)))));`;

export const SCRIPTS = {
  "server-status": SERVER_STATUS_PHP,
  "create-site": CREATE_SITE_PHP,
  "update-site": UPDATE_SITE_PHP,
  "queue-task": QUEUE_TASK_PHP,
  "run-task-beside": RUN_TASK_BESIDE_PHP,
  "site-state": SITE_STATE_PHP,
  "find-account": FIND_ACCOUNT_PHP,
  "welcome-mail": WELCOME_MAIL_PHP,
  "enable-modules": ENABLE_MODULES_PHP,
  "set-theme": SET_THEME_PHP,
  ...SPACE_SCRIPTS,
  "site-backups": SITE_BACKUPS_PHP,
  "queue-backup-task": QUEUE_BACKUP_TASK_PHP,
  "scrub-placeholder": SCRUB_PLACEHOLDER_PHP,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** The script's name from its first line, or undefined for code that is not ours. */
export function scriptName(code: string): ScriptName | undefined {
  const match = /^\/\/ aegir-operator:([a-z-]+) v1\n/.exec(code);
  const name = match?.[1];
  return name !== undefined && name in SCRIPTS && SCRIPTS[name as ScriptName] === code ? (name as ScriptName) : undefined;
}
