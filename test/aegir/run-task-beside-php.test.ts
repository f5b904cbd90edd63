// The run-task-beside script run by PHP itself against a stand-in for the hostmaster (db_query of
// the processing tasks, node_load of the task, the variable listing the tasks started in the
// background, drush_build_drush_command) and for exec() (PHP's own disabled, so the stand-in can
// take its name): each decision, and the command line it launches.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { phpPresent, runPhpScript } from "../harness/php.ts";

const HOSTMASTER_STUB = String.raw`
class _Result { function __construct(public $rows) {} function fetchAll() { return $this->rows; } }
function db_query($sql, $args = array()) {
  if (strpos($sql, 't.task_status = -1') === FALSE) { throw new Exception('unexpected query: ' . $sql); }
  return new _Result(array_map(function ($r) { return (object) $r; }, $GLOBALS['running']));
}
function node_load($nid, $vid = NULL, $reset = FALSE) {
  if (!$reset) { throw new Exception('node_load without a reset: a cached node'); }
  return isset($GLOBALS['nodes'][$nid]) ? (object) $GLOBALS['nodes'][$nid] : FALSE;
}
function variable_get($name, $default = NULL) { return array_key_exists($name, $GLOBALS['variables']) ? $GLOBALS['variables'][$name] : $default; }
function drush_build_drush_command() { return "'/usr/bin/php' '/usr/local/share/drush/drush.php' --php='/usr/bin/php'"; }
function exec($command) { echo json_encode(array('exec' => $command)), "\n"; return ''; }
function dt($s, $a = array()) { return strtr($s, $a); }
function drush_print($s) { echo $s, "\n"; }
function drush_set_error($code, $message) { fwrite(STDERR, $code . ': ' . $message); return FALSE; }
`;

// Nodes: 10 spare-a (a refill clone running), 11 spare-b (its migrate queued), 12 a customer's site, 2 the hostmaster.
const NODES = {
  10: { nid: 10, type: "site", title: "spare-a.pool.invalid" },
  20: { nid: 20, type: "task", task_status: -1, rid: 10, task_type: "clone" },
  21: { nid: 21, type: "task", task_status: 0, rid: 11, task_type: "migrate" },
  22: { nid: 22, type: "task", task_status: 0, rid: 10, task_type: "migrate" },
  23: { nid: 23, type: "task", task_status: -1, rid: 11, task_type: "migrate" },
};
const CLONE = { nid: 20, rid: 10, task_type: "clone", title: "spare-a.pool.invalid" };

interface Row {
  nid: number;
  rid: number;
  task_type: string;
  title: string | null;
}

/** `background`: the nids in aegir_operator_background_tasks, as variable_get() returns them (an absent variable when undefined). */
function run(input: Record<string, unknown>, running: Row[], background?: Array<number | string>): { stdout: string; stderr: string } {
  const variables = background === undefined ? {} : { aegir_operator_background_tasks: background };
  const state = [
    `$GLOBALS['nodes'] = json_decode(${JSON.stringify(JSON.stringify(NODES))}, TRUE);`,
    `$GLOBALS['running'] = json_decode(${JSON.stringify(JSON.stringify(running))}, TRUE);`,
    `$GLOBALS['variables'] = json_decode(${JSON.stringify(JSON.stringify(variables))}, TRUE);`,
  ].join("\n");
  return runPhpScript(SCRIPTS["run-task-beside"], input, `${HOSTMASTER_STUB}\n${state}`, "", ["exec"]);
}

const INPUT = { nid: 21, zone: "pool.invalid", alias: "@hostmaster" };
const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown);

describe.skipIf(!phpPresent("the run-task-beside PHP tests"))("run-task-beside in PHP", () => {
  it("starts the task beside a refill: one detached hosting-task of the nid, the alias quoted", () => {
    const { stdout, stderr } = run(INPUT, [CLONE]);
    expect(stderr).toBe("");
    expect(lines(stdout)).toEqual([
      { exec: "nohup '/usr/bin/php' '/usr/local/share/drush/drush.php' --php='/usr/bin/php' '@hostmaster' hosting-task 21 < /dev/null > /dev/null 2>&1 &" },
      { started: true },
    ]);
  });

  it("a hostile alias arrives as one quoted argument", () => {
    const { stdout, stderr } = run({ ...INPUT, alias: "@h; rm -rf /" }, [CLONE]);
    expect(stderr).toBe("");
    const [exec] = lines(stdout) as [{ exec: string }];
    expect(exec.exec).toContain(" '@h; rm -rf /' hosting-task 21 < /dev/null");
    // The words sh makes of it (printf in place of nohup, without the redirections and the &).
    const words = /^nohup (.*) < \/dev\/null > \/dev\/null 2>&1 &$/.exec(exec.exec)?.[1] ?? "";
    const argv = spawnSync("sh", ["-c", `printf '%s\\n' ${words}`], { encoding: "utf8" }).stdout.trimEnd().split("\n");
    expect(argv).toEqual(["/usr/bin/php", "/usr/local/share/drush/drush.php", "--php=/usr/bin/php", "@h; rm -rf /", "hosting-task", "21"]);
  });

  it("refuses a nid that is not an integer, and other input, launching nothing", () => {
    for (const input of [{ ...INPUT, nid: "21; id" }, { ...INPUT, nid: 21.5 }, { ...INPUT, nid: 0 }, { ...INPUT, zone: "" }, { nid: 21, zone: "pool.invalid" }]) {
      const { stdout, stderr } = run(input, [CLONE]);
      expect(stderr).toMatch(/^AEGIR_OPERATOR_INPUT: /);
      expect(stdout).toBe("");
    }
  });

  it("an unknown node or one that is not a task is AEGIR_OPERATOR_UNKNOWN_TASK", () => {
    for (const nid of [99, 10]) {
      const { stdout, stderr } = run({ ...INPUT, nid }, [CLONE]);
      expect(stderr).toBe(`AEGIR_OPERATOR_UNKNOWN_TASK: Task ${nid} does not exist.`);
      expect(stdout).toBe("");
    }
  });

  it.each([
    ["not-queued", { ...INPUT, nid: 23 }, [CLONE, { nid: 23, rid: 11, task_type: "migrate", title: "spare-b.pool.invalid" }]],
    ["queue-idle", INPUT, []],
    ["site-busy", { ...INPUT, nid: 22 }, [CLONE]],
    ["customer-task-running", INPUT, [{ nid: 30, rid: 12, task_type: "install", title: "acme.example.com" }]],
    ["customer-task-running", INPUT, [CLONE, { nid: 31, rid: 2, task_type: "verify", title: "aegir.example.com" }]],
    // Another claim's rename runs on its spare's node: a customer's task.
    ["customer-task-running", INPUT, [{ nid: 35, rid: 16, task_type: "migrate", title: "spare-c.pool.invalid" }]],
    // The zone itself, a look-alike suffix and a node that is gone are not pool work.
    ["customer-task-running", INPUT, [{ nid: 32, rid: 13, task_type: "install", title: "pool.invalid" }]],
    ["customer-task-running", INPUT, [{ nid: 33, rid: 14, task_type: "install", title: "evilpool.invalid" }]],
    ["customer-task-running", INPUT, [{ nid: 34, rid: 15, task_type: "install", title: null }]],
  ] as const)("%s: prints the reason and launches nothing", (reason, input, running) => {
    const { stdout, stderr } = run(input, [...running]);
    expect(stderr).toBe("");
    expect(lines(stdout)).toEqual([{ started: false, reason }]);
  });

  // Background pool work: a spare's install (40, on node 17) and a verify (41, on node 11, spare-b's).
  const INSTALL = { nid: 40, rid: 17, task_type: "install", title: "spare-d.pool.invalid" };

  it("queue-idle while only pool work started in the background processes (hosting-queued is free); site-busy still counts it", () => {
    for (const listed of [[40], ["40", 7]]) {
      const { stdout, stderr } = run(INPUT, [INSTALL], listed);
      expect(stderr).toBe("");
      expect(lines(stdout)).toEqual([{ started: false, reason: "queue-idle" }]);
    }
    const busy = run(INPUT, [INSTALL, { nid: 41, rid: 11, task_type: "verify", title: "spare-b.pool.invalid" }], [40, 41]);
    expect(lines(busy.stdout)).toEqual([{ started: false, reason: "site-busy" }]);
  });

  it("the customer-task check looks only at what hosting-queued runs: beside its pool task the task starts, background work aside", () => {
    const started = [
      { exec: "nohup '/usr/bin/php' '/usr/local/share/drush/drush.php' --php='/usr/bin/php' '@hostmaster' hosting-task 21 < /dev/null > /dev/null 2>&1 &" },
      { started: true },
    ];
    const beside = run(INPUT, [CLONE, INSTALL], [40]);
    expect(beside.stderr).toBe("");
    expect(lines(beside.stdout)).toEqual(started);
    // queue-task starts any task of the zone's sites in the background (it checks names, not
    // types): a migrate among them is no claim's rename, not hosting-queued's.
    const move = { nid: 42, rid: 18, task_type: "migrate", title: "spare-e.pool.invalid" };
    expect(lines(run(INPUT, [CLONE, move], [42]).stdout)).toEqual(started);
    // Not listed: the daemon runs it, and it is a customer's.
    const customer = { nid: 30, rid: 12, task_type: "install", title: "acme.example.com" };
    expect(lines(run(INPUT, [INSTALL, customer], [40]).stdout)).toEqual([{ started: false, reason: "customer-task-running" }]);
    // An install of the pool's zone that is not listed is hosting-queued's: pool work it runs.
    expect(lines(run(INPUT, [INSTALL], [39]).stdout)).toEqual([{ exec: expect.stringContaining(" hosting-task 21 ") as unknown }, { started: true }]);
  });
});
