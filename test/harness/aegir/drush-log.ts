// drush 8's log line layout (Drush\Log\Logger::log): the message word-wrapped to the terminal
// width minus 11, the first line padded to that width and followed by the level in brackets,
// right-aligned in 11 columns; continuation lines follow without a level. Written to stderr.

export type LogLevel = "error" | "warning" | "ok" | "success" | "notice" | "cancel";

/** drush's DRUSH_COLUMNS default when it cannot ask a terminal. */
const DEFAULT_COLUMNS = 80;

/** PHP wordwrap($text, $width) without cutting long words. */
export function wordwrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** One log entry as drush prints it, newline-terminated. */
export function logLine(message: string, level: LogLevel, columns = DEFAULT_COLUMNS): string {
  const width = columns - 11;
  const [first = "", ...rest] = wordwrap(message, width);
  return [first.padEnd(width) + `[${level}]`.padStart(11), ...rest].join("\n") + "\n";
}
