// The queue-task script's clone branch run by PHP itself against a stand-in for the hostmaster's
// API (hosting_context, node_load, hosting_domain_allowed, hosting_add_task, module_exists): the
// task arguments hosting_clone reads, and the refusals.
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { phpPresent, runPhpScript } from "../harness/php.ts";

const HOSTMASTER_STUB = String.raw`
class _Result { function __construct(public $value) {} function fetchField() { return $this->value; } }
function db_query($sql, $args) {
  if (strpos($sql, '{hosting_context}') !== FALSE) { return new _Result($GLOBALS['contexts'][$args[':name']] ?? FALSE); }
  return new _Result(FALSE);
}
function node_load($nid) { return (object) array('nid' => $nid, 'title' => array_search($nid, $GLOBALS['contexts']), 'db_server' => 4); }
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

function queue(input: Record<string, unknown>, modules: string[]): { stdout: string; stderr: string } {
  const state = `$GLOBALS['contexts'] = array('spare-a.pool.invalid' => 10, 'taken.example.com' => 11, 'platform_openatrium2652' => 5);\n$GLOBALS['sites'] = array('spare-a.pool.invalid' => 10, 'taken.example.com' => 11);\n$GLOBALS['modules'] = json_decode(${JSON.stringify(JSON.stringify(modules))}, TRUE);\n`;
  return runPhpScript(SCRIPTS["queue-task"], input, `${HOSTMASTER_STUB}\n${state}`);
}

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
