// The queue-task script's clone branch run by PHP itself against a stand-in for the hostmaster's
// API (hosting_context, node_load, hosting_domain_allowed, hosting_add_task, module_exists): the
// task arguments hosting_clone reads, and the refusals. Then pool work in the background, for
// queue-task and create-site (node_save, the variables, is_executable and exec stand in too: PHP's
// own disabled), and the flag server-status reads back.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { phpPresent, runPhpScript } from "../harness/php.ts";

const HOSTMASTER_STUB = String.raw`
class _Result { function __construct(public $value) {} function fetchField() { return $this->value; } function fetchCol() { return $this->value; } }
function _event($name, $value) { echo json_encode(array($name => $value)), "\n"; }
function db_query($sql, $args) {
  if (strpos($sql, '{hosting_context}') !== FALSE) { return new _Result($GLOBALS['contexts'][$args[':name']] ?? FALSE); }
  // Which of the listed tasks are still queued or processing: their nids, as strings like PDO's.
  if (isset($args[':nids'])) {
    if (!$args[':nids'] || strpos($sql, 't.task_status IN (-1, 0)') === FALSE) { throw new Exception('bad query: ' . $sql); }
    $status = $GLOBALS['task_status'];
    return new _Result(array_map('strval', array_values(array_filter($args[':nids'], function ($nid) use ($status) { return in_array($status[$nid] ?? NULL, array(-1, 0), TRUE); }))));
  }
  if (strpos($sql, '{hosting_package}') !== FALSE) { return new _Result('77'); }
  if (strpos($sql, "t.task_type = 'install'") !== FALSE) { return new _Result('98'); }
  return new _Result(FALSE);
}
function variable_get($name, $default = NULL) { return array_key_exists($name, $GLOBALS['variables']) ? $GLOBALS['variables'][$name] : $default; }
function variable_set($name, $value) { _event('variable_set', array($name, $value)); }
// A task node saved shows its nid and status; a site node its title.
function node_save($node) { _event('node_save', isset($node->task_status) ? array($node->nid, $node->task_status, $node->executed) : $node->title); $node->nid = $node->nid ?? 60; }
define('REQUEST_TIME', 1700000000);
function lock_acquire($name, $timeout) { _event('lock_acquire', $name); return TRUE; }
function lock_wait($name, $delay) { return FALSE; }
function lock_release($name) { _event('lock_release', $name); }
function is_executable($path) { return $path === '/usr/bin/ionice' && $GLOBALS['ionice']; }
function drush_build_drush_command() { return "'/usr/bin/php' '/usr/local/share/drush/drush.php' --php='/usr/bin/php'"; }
function exec($command) { _event('exec', $command); return ''; }
function node_load($nid) { return (object) array('nid' => $nid, 'title' => array_search($nid, $GLOBALS['contexts']), 'db_server' => 4, 'task_status' => 0); }
function hosting_domain_allowed($domain, $params) {
  foreach ($GLOBALS['sites'] as $uri => $nid) { if ($uri === $domain && (!isset($params['nid']) || $params['nid'] != $nid)) { return FALSE; } }
  return TRUE;
}
function module_exists($m) { return in_array($m, $GLOBALS['modules'], TRUE); }
function hosting_add_task($nid, $type, $args) { echo json_encode(array('added' => array($nid, $type, $args))), "\n"; return (object) array('nid' => 99); }
function dt($s, $a = array()) { return strtr($s, $a); }
function drush_print($s) { echo $s, "\n"; }
function drush_set_error($code, $message) { fwrite(STDERR, $code . ': ' . $message); return FALSE; }
`;

interface Hostmaster {
  /** aegir_operator_background_tasks, absent when undefined. */
  background?: unknown;
  /** Task nid → task_status, for the pruning query. */
  taskStatus?: Record<number, number>;
  /** /usr/bin/ionice is executable. */
  ionice?: boolean;
}

const json = (value: unknown) => `json_decode(${JSON.stringify(JSON.stringify(value))}, TRUE)`;

function script(name: "queue-task" | "create-site", input: Record<string, unknown>, modules: string[], hm: Hostmaster = {}): { stdout: string; stderr: string } {
  const state = [
    "$GLOBALS['contexts'] = array('spare-a.pool.invalid' => 10, 'taken.example.com' => 11, 'platform_openatrium2652' => 5, 'acme.example.com' => 12, 'pool.invalid' => 13, 'evilpool.invalid' => 14);",
    "$GLOBALS['sites'] = array('spare-a.pool.invalid' => 10, 'taken.example.com' => 11, 'acme.example.com' => 12);",
    `$GLOBALS['modules'] = ${json(modules)};`,
    `$GLOBALS['variables'] = ${json(hm.background === undefined ? {} : { aegir_operator_background_tasks: hm.background })};`,
    `$GLOBALS['task_status'] = ${json(hm.taskStatus ?? {})};`,
    `$GLOBALS['ionice'] = ${hm.ionice === true ? "TRUE" : "FALSE"};`,
  ].join("\n");
  return runPhpScript(SCRIPTS[name], input, `${HOSTMASTER_STUB}\n${state}`, "", ["exec", "is_executable"]);
}

function queue(input: Record<string, unknown>, modules: string[], hm: Hostmaster = {}): { stdout: string; stderr: string } {
  return script("queue-task", input, modules, hm);
}

const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown);

describe.skipIf(!phpPresent("the queue-task PHP tests"))("queue-task's clone in PHP", () => {
  const clone = { uri: "spare-a.pool.invalid", type: "clone", targetPlatform: "platform_openatrium2652", newUri: "spare-b.pool.invalid" };

  it("adds a clone task on the source with new_uri, the target platform's nid and the source's db server", () => {
    const { stdout, stderr } = queue(clone, ["hosting_clone"]);
    expect(stderr).toBe("");
    const [added, printed] = stdout.trim().split("\n");
    expect(JSON.parse(added ?? "")).toEqual({ added: [10, "clone", { target_platform: 5, new_uri: "spare-b.pool.invalid", new_db_server: 4 }] });
    expect(JSON.parse(printed ?? "")).toEqual({ nid: 99 });
  });

  it("refuses without hosting_clone, a taken domain (the source's own too) and an unknown platform, adding nothing", () => {
    for (const [input, modules, error] of [
      [clone, [], /^AEGIR_OPERATOR_TASK_UNAVAILABLE: Task type clone is not available/],
      [{ ...clone, newUri: "taken.example.com" }, ["hosting_clone"], /^AEGIR_OPERATOR_DOMAIN_TAKEN: /],
      [{ ...clone, newUri: "spare-a.pool.invalid" }, ["hosting_clone"], /^AEGIR_OPERATOR_DOMAIN_TAKEN: /],
      [{ ...clone, targetPlatform: "platform_gone" }, ["hosting_clone"], /^AEGIR_OPERATOR_UNKNOWN_PLATFORM: /],
    ] as const) {
      const { stdout, stderr } = queue(input, [...modules]);
      expect(stderr).toMatch(error);
      expect(stdout).toBe("");
    }
  });

  it("a migrate may keep the site's own name (no rename)", () => {
    const { stderr, stdout } = queue({ uri: "spare-a.pool.invalid", type: "migrate", targetPlatform: "platform_openatrium2652" }, []);
    expect(stderr).toBe("");
    expect(stdout).toContain('"new_uri":"spare-a.pool.invalid"');
  });
});

const BACKGROUND = { alias: "@hostmaster", zone: "pool.invalid" };
const DRUSH = "'/usr/bin/php' '/usr/local/share/drush/drush.php' --php='/usr/bin/php'";
const VARIABLE = "aegir_operator_background_tasks";

describe.skipIf(!phpPresent("the background pool work PHP tests"))("pool work in the background, in PHP", () => {
  const clone = { uri: "spare-a.pool.invalid", type: "clone", targetPlatform: "platform_openatrium2652", newUri: "spare-b.pool.invalid", background: BACKGROUND };
  const spare = { uri: "spare-d.pool.invalid", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: 0 };

  it("queue-task records the nid (pruning tasks no longer pending), then forks a detached nice/ionice hosting-task of it", () => {
    // 5 finished, 6 processing, 7 queued, 8 gone.
    const { stdout, stderr } = queue(clone, ["hosting_clone"], { background: [5, 6, "7", 8], taskStatus: { 5: 1, 6: -1, 7: 0 }, ionice: true });
    expect(stderr).toBe("");
    expect(lines(stdout)).toEqual([
      { added: [10, "clone", { target_platform: 5, new_uri: "spare-b.pool.invalid", new_db_server: 4 }] },
      // Processing before the fork: hosting-queued takes only queued tasks.
      { node_save: [99, -1, 1700000000] },
      { lock_acquire: VARIABLE },
      { variable_set: [VARIABLE, [6, 7, 99]] },
      { lock_release: VARIABLE },
      { exec: `nohup nice -n 19 /usr/bin/ionice -c 3 ${DRUSH} '@hostmaster' hosting-task 99 --force < /dev/null > /dev/null 2>&1 &` },
      { nid: 99, background: true },
    ]);
  });

  it("without /usr/bin/ionice the process is niced only; a first background task makes the list", () => {
    for (const background of [undefined, []]) {
      const { stdout, stderr } = queue({ uri: "spare-a.pool.invalid", type: "delete", background: BACKGROUND }, [], { ...(background === undefined ? {} : { background }), ionice: false });
      expect(stderr).toBe("");
      expect(lines(stdout)).toEqual([
        { added: [10, "delete", []] },
        { node_save: [99, -1, 1700000000] },
        { lock_acquire: VARIABLE },
        { variable_set: [VARIABLE, [99]] },
        { lock_release: VARIABLE },
        { exec: `nohup nice -n 19 ${DRUSH} '@hostmaster' hosting-task 99 --force < /dev/null > /dev/null 2>&1 &` },
        { nid: 99, background: true },
      ]);
    }
  });

  it("a hostile alias arrives as one quoted argument", () => {
    const alias = "@h; rm -rf / #'";
    const { stdout, stderr } = queue({ uri: "spare-a.pool.invalid", type: "verify", background: { ...BACKGROUND, alias } }, [], { ionice: true });
    expect(stderr).toBe("");
    const exec = (lines(stdout) as Array<{ exec?: string }>).find((l) => l.exec !== undefined)?.exec ?? "";
    // The words sh makes of it (printf in place of nohup, without the redirections and the &).
    const words = /^nohup (.*) < \/dev\/null > \/dev\/null 2>&1 &$/.exec(exec)?.[1] ?? "";
    const argv = spawnSync("sh", ["-c", `printf '%s\\n' ${words}`], { encoding: "utf8" }).stdout.trimEnd().split("\n");
    expect(argv).toEqual(["nice", "-n", "19", "/usr/bin/ionice", "-c", "3", "/usr/bin/php", "/usr/local/share/drush/drush.php", "--php=/usr/bin/php", alias, "hosting-task", "99", "--force"]);
  });

  it("create-site starts the install task the node queued the same way, and says so; without background nothing of it", () => {
    const { stdout, stderr } = script("create-site", { ...spare, background: BACKGROUND }, [], { background: [6], taskStatus: { 6: -1 }, ionice: true });
    expect(stderr).toBe("");
    expect(lines(stdout)).toEqual([
      { node_save: "spare-d.pool.invalid" },
      { node_save: [98, -1, 1700000000] },
      { lock_acquire: VARIABLE },
      { variable_set: [VARIABLE, [6, 98]] },
      { lock_release: VARIABLE },
      { exec: `nohup nice -n 19 /usr/bin/ionice -c 3 ${DRUSH} '@hostmaster' hosting-task 98 --force < /dev/null > /dev/null 2>&1 &` },
      { nid: 60, task: 98, background: true },
    ]);
    const plain = script("create-site", spare, [], { background: [6], taskStatus: { 6: -1 }, ionice: true });
    expect(plain.stderr).toBe("");
    expect(lines(plain.stdout)).toEqual([{ node_save: "spare-d.pool.invalid" }, { nid: 60, task: 98 }]);
  });

  it.each([
    ["create-site", { ...spare, uri: "shop.example.com" }, "shop.example.com"],
    // The zone itself and a look-alike suffix are not under the zone.
    ["create-site", { ...spare, uri: "pool.invalid" }, "pool.invalid"],
    ["create-site", { ...spare, uri: "evilpool.invalid" }, "evilpool.invalid"],
    ["queue-task", { uri: "acme.example.com", type: "verify" }, "acme.example.com"],
    ["queue-task", { uri: "acme.example.com", type: "clone", targetPlatform: "platform_openatrium2652", newUri: "spare-c.pool.invalid" }, "acme.example.com"],
    ["queue-task", { ...clone, newUri: "shop.example.com" }, "shop.example.com"],
  ] as const)("%s refuses %j as pool work before anything is created", (name, input, uri) => {
    const { stdout, stderr } = script(name, { ...input, background: BACKGROUND }, ["hosting_clone"], { background: [6], taskStatus: { 6: -1 }, ionice: true });
    expect(stderr).toBe(`AEGIR_OPERATOR_NOT_POOL_WORK: ${uri} is not a site of the pool zone pool.invalid: only pool work runs in the background.`);
    // No node_save, hosting_add_task, variable_set or exec.
    expect(stdout).toBe("");
  });

  it.each(["migrate", "backup", "restore", "disable"])("queue-task refuses a %s of a spare as pool work: a spare's migrate is a claim's rename", (type) => {
    const { stdout, stderr } = queue({ uri: "spare-a.pool.invalid", type, targetPlatform: "platform_openatrium2652", newUri: "spare-e.pool.invalid", background: BACKGROUND }, ["hosting_clone"]);
    expect(stderr).toBe(`AEGIR_OPERATOR_NOT_POOL_WORK: A ${type} task is no pool work: only a clone, verify or delete runs in the background.`);
    // No node_save, hosting_add_task, variable_set or exec.
    expect(stdout).toBe("");
  });

  it("refuses background input without an alias and a zone", () => {
    for (const background of [{ zone: "pool.invalid" }, { alias: "@hostmaster", zone: "" }, { alias: 7, zone: "pool.invalid" }, "pool.invalid", [BACKGROUND]]) {
      for (const [name, input] of [["create-site", spare], ["queue-task", { uri: "spare-a.pool.invalid", type: "verify" }]] as const) {
        const { stdout, stderr } = script(name, { ...input, background }, []);
        expect(stderr).toBe("AEGIR_OPERATOR_INPUT: Expected the hostmaster alias and the placeholder zone of the pool work.");
        expect(stdout).toBe("");
      }
    }
  });
});

const STATUS_STUB = String.raw`
class _Rows implements IteratorAggregate {
  function __construct(public $rows) {}
  function getIterator(): Iterator { return new ArrayIterator(array_map(function ($r) { return (object) $r; }, $this->rows)); }
}
function db_query($sql, $args = array()) {
  if (strpos($sql, 'FROM {hosting_site} s') !== FALSE) { return new _Rows($GLOBALS['sites']); }
  if (strpos($sql, 'FROM {hosting_task} t') !== FALSE) { return new _Rows($GLOBALS['tasks']); }
  return new _Rows(array());
}
function module_exists($m) { return FALSE; }
function db_table_exists($t) { return FALSE; }
function variable_get($name, $default = NULL) { return array_key_exists($name, $GLOBALS['variables']) ? $GLOBALS['variables'][$name] : $default; }
function drush_print($s) { echo $s, "
"; }
`;

describe.skipIf(!phpPresent("the server-status PHP tests"))("server-status's background flag in PHP", () => {
  it("a task is background while its nid is listed and it is queued or processing", () => {
    const sites = [{ nid: "10", title: "spare-a.pool.invalid", status: "1", verified: "0", platform: "platform_openatrium2652", profile: "openatrium" }];
    const task = (nid: number, type: string, status: number) => ({ nid: String(nid), rid: "10", task_type: type, task_status: String(status), executed: "0", delta: "0" });
    // Listed: 20 (finished), 21 (processing), 23 (queued); 22 queued but not listed.
    const tasks = [task(20, "install", 1), task(21, "verify", -1), task(22, "backup", 0), task(23, "clone", 0)];
    const state = `$GLOBALS['sites'] = ${json(sites)};\n$GLOBALS['tasks'] = ${json(tasks)};\n$GLOBALS['variables'] = ${json({ aegir_operator_background_tasks: [20, "21", 23] })};`;
    const { stdout, stderr } = runPhpScript(SCRIPTS["server-status"], {}, `${STATUS_STUB}\n${state}`);
    expect(stderr).toBe("");
    const status = JSON.parse(stdout) as { sites: Array<{ tasks: Array<{ nid: number; background: boolean }> }>; queue: unknown };
    expect(status.sites[0]?.tasks.map((t) => [t.nid, t.background])).toEqual([
      [20, false],
      [21, true],
      [22, false],
      [23, true],
    ]);
    expect(status.queue).toEqual({ queued: 2, processing: 1 });
  });

  it("no task is background while the variable is absent", () => {
    const sites = [{ nid: "10", title: "spare-a.pool.invalid", status: "1", verified: "0", platform: "platform_openatrium2652", profile: "openatrium" }];
    const tasks = [{ nid: "21", rid: "10", task_type: "verify", task_status: "-1", executed: "0", delta: "0" }];
    const state = `$GLOBALS['sites'] = ${json(sites)};\n$GLOBALS['tasks'] = ${json(tasks)};\n$GLOBALS['variables'] = array();`;
    const { stdout, stderr } = runPhpScript(SCRIPTS["server-status"], {}, `${STATUS_STUB}\n${state}`);
    expect(stderr).toBe("");
    expect((JSON.parse(stdout) as { sites: Array<{ tasks: unknown[] }> }).sites[0]?.tasks).toEqual([{ nid: 21, type: "verify", status: -1, executed: 0, delta: 0, background: false }]);
  });
});
