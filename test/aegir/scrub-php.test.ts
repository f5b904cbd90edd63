// The scrub-placeholder script run by PHP itself against a stand-in for Drupal's database API
// (variables and users in memory, LIKE matched as MySQL does): a spare cloned from other spares
// carries their placeholders, and with the pool's zone the script replaces all of them.
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { phpPresent, runPhpScript } from "../harness/php.ts";

/** Just enough of D7's database layer for the script's queries; the state is printed as JSON at the end. */
const DRUPAL_STUB = String.raw`
function _like($pattern, $text) {
  $re = '';
  for ($i = 0; $i < strlen($pattern); $i++) {
    $c = $pattern[$i];
    if ($c === '\\' && $i + 1 < strlen($pattern)) { $re .= preg_quote($pattern[++$i], '/'); }
    elseif ($c === '%') { $re .= '.*'; }
    elseif ($c === '_') { $re .= '.'; }
    else { $re .= preg_quote($c, '/'); }
  }
  return preg_match('/^' . $re . '$/s', (string) $text) === 1;
}
class _Result implements IteratorAggregate {
  function __construct(public array $rows) {}
  function getIterator(): Iterator { return new ArrayIterator($this->rows); }
  function fetchCol() { return array_map(fn($r) => array_values((array) $r)[0], $this->rows); }
}
function db_like($s) { return addcslashes($s, '\\%_'); }
function db_query($sql, $args) {
  $rows = array();
  if (strpos($sql, '{variable}') !== FALSE) {
    foreach ($GLOBALS['variables'] as $name => $value) {
      $ser = serialize($value);
      if (!_like($args[':p'], $ser)) { continue; }
      if (strpos($sql, 'SELECT name, value') === 0) { $rows[] = (object) array('name' => $name, 'value' => $ser); }
      elseif (strpos($sql, 'SELECT value') === 0) { $rows[] = (object) array('value' => $ser); }
      else { $rows[] = (object) array('name' => $name); }
    }
  } else {
    foreach ($GLOBALS['users'] as $u) {
      if (strpos($sql, 'SELECT mail') === 0 && _like($args[':p'], $u['mail'])) { $rows[] = (object) array('mail' => $u['mail']); }
      if (strpos($sql, 'SELECT init') === 0 && _like($args[':p'], $u['init'])) { $rows[] = (object) array('init' => $u['init']); }
      if (strpos($sql, 'SELECT name') === 0 && (_like($args[':p'], $u['name']) || _like($args[':p2'], $u['mail']))) { $rows[] = (object) array('name' => $u['name']); }
    }
  }
  return new _Result($rows);
}
function variable_set($name, $value) { $GLOBALS['variables'][$name] = $value; }
class _Or { public $likes = array(); function condition($f, $v, $op) { $this->likes[$f] = $v; return $this; } }
function db_or() { return new _Or(); }
class _Update {
  public $replace = array(); public $or;
  function expression($field, $expr, $args) { $a = array_values($args); $this->replace[$field] = $a; return $this; }
  function condition($or) { $this->or = $or; return $this; }
  function execute() {
    $n = 0;
    foreach ($GLOBALS['users'] as $i => $u) {
      if (!_like($this->or->likes['mail'], $u['mail']) && !_like($this->or->likes['init'], $u['init'])) { continue; }
      foreach ($this->replace as $field => $a) { $GLOBALS['users'][$i][$field] = str_replace($a[0], $a[1], $u[$field]); }
      $n++;
    }
    return $n;
  }
}
function db_update($table) { return new _Update(); }
function drupal_flush_all_caches() {}
function drush_print($s) { echo $s, "\n"; }
function drush_set_error($code, $message) { fwrite(STDERR, $message); return FALSE; }
`;

interface Run {
  out: { variables: string[]; users: number; remaining: string[] };
  variables: Record<string, unknown>;
  users: Array<{ name: string; mail: string; init: string }>;
}

function scrub(input: Record<string, unknown>, variables: Record<string, unknown>, users: Array<{ name: string; mail: string; init: string }>): Run {
  const state = `$GLOBALS['variables'] = json_decode(${JSON.stringify(JSON.stringify(variables))}, TRUE);\n$GLOBALS['users'] = json_decode(${JSON.stringify(JSON.stringify(users))}, TRUE);\n`;
  const run = runPhpScript(SCRIPTS["scrub-placeholder"], input, `${DRUPAL_STUB}\n${state}`, `echo json_encode(array('variables' => $GLOBALS['variables'], 'users' => $GLOBALS['users'])), "\\n";\n`);
  expect(run.stderr).toBe("");
  const [out, after] = run.stdout.trim().split("\n");
  const state2 = JSON.parse(after ?? "{}") as { variables: Record<string, unknown>; users: Run["users"] };
  return { out: JSON.parse(out ?? "{}") as Run["out"], variables: state2.variables, users: state2.users };
}

describe.skipIf(!phpPresent("the scrub-placeholder PHP tests"))("scrub-placeholder in PHP", () => {
  const own = "spare-2fc731-cc4cb50a4a.pool.invalid";
  const source = "spare-2fc731-af27a8f342.pool.invalid";
  const first = "spare-2fc731-0123456789.pool.invalid";
  const uri = "acme.sites.example.com";
  const variables = {
    site_name: first,
    cache_page_front: { url: `http://${source}/node`, links: [`http://${first}/user`] },
    file_public_path: `sites/${own}/files`,
    site_mail: "aegir@aegir.example.com",
    unrelated: "pool.invalid is a reserved zone",
  };
  const users = [
    { name: "admin", mail: "aegir@aegir.example.com", init: "aegir@aegir.example.com" },
    { name: "tester", mail: `tester@${source}`, init: `tester@${first}` },
  ];

  it("with the zone: every spare domain the site names is replaced by its own, nothing remains", () => {
    const { out, variables: after, users: people } = scrub({ uri, placeholder: own, zone: "pool.invalid" }, variables, users);
    expect(out.remaining).toEqual([]);
    expect(JSON.stringify(after)).not.toMatch(/spare-[0-9a-f]+-[0-9a-f]+\.pool\.invalid/);
    expect(after).toMatchObject({ site_name: uri, file_public_path: `sites/${uri}/files`, cache_page_front: { url: `http://${uri}/node`, links: [`http://${uri}/user`] }, unrelated: "pool.invalid is a reserved zone" });
    expect(people[1]).toEqual({ name: "tester", mail: `tester@${uri}`, init: `tester@${uri}` });
    expect(out.users).toBeGreaterThanOrEqual(1);
  });

  it("without the zone only the spare's own placeholder goes: a clone keeps its sources' (why claims pass the zone)", () => {
    const { variables: after } = scrub({ uri, placeholder: own }, variables, users);
    expect(after).toMatchObject({ site_name: first, file_public_path: `sites/${uri}/files` });
  });
});
