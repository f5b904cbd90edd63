// The preamble of every php-eval script: its input, a JSON object on standard input.
export const READ_INPUT_PHP = `$in = json_decode(stream_get_contents(STDIN), TRUE);
if (!is_array($in)) { return drush_set_error('AEGIR_OPERATOR_INPUT', 'Standard input is not a JSON object.'); }`;
