// Quoting for the remote POSIX shell that sshd hands an exec request to. Every argument is
// single-quoted on its own, so nothing in it is ever interpreted by the shell.

/** Quote one argument. NUL cannot be passed in an argv at all, so it is refused. */
export function quoteArg(arg: string): string {
  if (arg.includes("\0")) throw new TypeError("an argument cannot contain a NUL byte");
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command string for an argv: each argument quoted on its own, joined by spaces. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError("empty command");
  return argv.map(quoteArg).join(" ");
}

/**
 * Split a command string the way a POSIX shell splits words (quotes and backslashes, no
 * expansions). Used by test servers that play the remote side; refuses anything that would
 * make a real shell do more than run one command (unquoted `;`, `|`, `&`, `$`, backticks,
 * redirections, newlines).
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new SyntaxError("unterminated single quote");
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let out = "";
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j] as string;
        if (d === "$" || d === "`") throw new SyntaxError(`expansion ${d} inside double quotes`);
        if (d === "\\" && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1] as string)) out += line[++j];
        else out += d;
      }
      if (j >= line.length) throw new SyntaxError("unterminated double quote");
      word = (word ?? "") + out;
      i = j;
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new SyntaxError("trailing backslash");
      word = (word ?? "") + line[++i];
    } else if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (";|&$`<>()\n{}*?[]~#".includes(c)) {
      throw new SyntaxError(`unquoted shell metacharacter ${JSON.stringify(c)}`);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
