// php-eval scripts of the conformance check (`aegir-operator check-server`). Like the driver's
// scripts: constant code, input as JSON on standard input, one JSON document on stdout.
// Read-only, except the test mail that is sent only when asked for.

const readInput = `$in = json_decode(stream_get_contents(STDIN), TRUE);
if (!is_array($in)) { return drush_set_error('AEGIR_OPERATOR_INPUT', 'Standard input is not a JSON object.'); }`;

/**
 * Hostmaster: what the operator relies on besides the sites. Echoes the input's nonce (proof
 * that standard input reaches php-eval), and reports the Unix user, the hosting modules, how
 * the task queue is run, tasks stuck for hours, and each named platform's extensions read
 * from the .info files under its root (with their dependencies), as Drupal would find them.
 * Input: {nonce, platforms: [context names], stuckAfter: seconds}.
 */
export const HOSTMASTER_PROBE_PHP = `// aegir-operator:conformance-hostmaster v1
${readInput}
$user = function_exists('posix_getpwuid') ? posix_getpwuid(posix_geteuid()) : FALSE;
$modules = array();
foreach (array('hosting_alias', 'hosting_https', 'hosting_queued') as $m) { $modules[$m] = module_exists($m); }
$stuck = array();
$rows = db_query('SELECT t.nid, t.task_type, t.task_status, t.executed, n.changed FROM {hosting_task} t INNER JOIN {node} n ON n.vid = t.vid
  WHERE t.task_status IN (-1, 0) AND n.changed < :before ORDER BY t.nid', array(':before' => REQUEST_TIME - (int) $in['stuckAfter']));
foreach ($rows as $r) {
  $stuck[] = array('nid' => (int) $r->nid, 'type' => $r->task_type, 'status' => (int) $r->task_status, 'since' => (int) $r->changed);
}
$platforms = array();
foreach ($in['platforms'] as $name) {
  $p = db_query("SELECT n.nid, p.publish_path, p.status FROM {hosting_context} c INNER JOIN {node} n ON n.nid = c.nid
    INNER JOIN {hosting_platform} p ON p.vid = n.vid WHERE c.name = :name AND n.type = 'platform'", array(':name' => $name))->fetchObject();
  if (!$p) { $platforms[] = array('name' => $name, 'exists' => FALSE); continue; }
  $extensions = array('modules' => array(), 'themes' => array());
  foreach (array('modules', 'themes', 'sites/all', 'profiles') as $dir) {
    if (!is_dir($p->publish_path . '/' . $dir)) { continue; }
    foreach (file_scan_directory($p->publish_path . '/' . $dir, '/^[a-z][a-z0-9_]*\\.info$/', array('key' => 'name')) as $file) {
      $info = drupal_parse_info_file($file->uri);
      if (empty($info['core']) || $info['core'] != DRUPAL_CORE_COMPATIBILITY) { continue; }
      if (strpos($file->uri, '/themes/') !== FALSE && strpos($file->uri, '/modules/') === FALSE) { $extensions['themes'][$file->name] = TRUE; continue; }
      $deps = array();
      foreach (isset($info['dependencies']) ? $info['dependencies'] : array() as $dep) { $deps[] = preg_replace('/[^a-z0-9_].*$/', '', trim($dep)); }
      $extensions['modules'][$file->name] = $deps;
    }
  }
  ksort($extensions['modules']);
  ksort($extensions['themes']);
  $platforms[] = array('name' => $name, 'exists' => TRUE, 'root' => $p->publish_path, 'status' => (int) $p->status,
    'modules' => (object) $extensions['modules'], 'themes' => array_keys($extensions['themes']));
}
drush_print(json_encode(array(
  'nonce' => isset($in['nonce']) ? (string) $in['nonce'] : '',
  'user' => $user ? $user['name'] : get_current_user(),
  'modules' => $modules,
  'queue' => array(
    'daemonStarted' => (int) variable_get('hosting_queued_process_started', 0),
    'dispatchEnabled' => (bool) variable_get('hosting_dispatch_enabled', FALSE),
    'tasksEnabled' => (bool) variable_get('hosting_queue_tasks_enabled', TRUE),
  ),
  'now' => REQUEST_TIME,
  'stuck' => $stuck,
  'platforms' => $platforms,
)));`;

/** Hostmaster: send one plain test mail through Drupal's mail system. Input: {to}. */
export const TEST_MAIL_PHP = `// aegir-operator:conformance-mail v1
${readInput}
$from = variable_get('site_mail', ini_get('sendmail_from'));
$message = array('id' => 'aegir_operator_conformance', 'module' => 'aegir_operator', 'key' => 'conformance', 'to' => $in['to'], 'from' => $from,
  'language' => language_default(), 'params' => array(), 'send' => TRUE, 'subject' => 'aegir-operator test mail',
  'body' => array('This message tests that the Aegir server can send mail. No action is needed.'),
  'headers' => array('MIME-Version' => '1.0', 'Content-Type' => 'text/plain; charset=UTF-8; format=flowed; delsp=yes',
    'Content-Transfer-Encoding' => '8Bit', 'X-Mailer' => 'Drupal', 'From' => $from, 'Sender' => $from, 'Return-Path' => $from));
$system = drupal_mail_system('aegir_operator', 'conformance');
$sent = (bool) $system->mail($system->format($message));
drush_print(json_encode(array('sent' => $sent)));`;

export const CONFORMANCE_SCRIPTS = {
  "conformance-hostmaster": HOSTMASTER_PROBE_PHP,
  "conformance-mail": TEST_MAIL_PHP,
} as const;

export type ConformanceScriptName = keyof typeof CONFORMANCE_SCRIPTS;

/** The script's name from its first line, or undefined for code that is not one of these. */
export function conformanceScriptName(code: string): ConformanceScriptName | undefined {
  const name = /^\/\/ aegir-operator:([a-z-]+) v1\n/.exec(code)?.[1];
  return name !== undefined && name in CONFORMANCE_SCRIPTS && CONFORMANCE_SCRIPTS[name as ConformanceScriptName] === code ? (name as ConformanceScriptName) : undefined;
}
