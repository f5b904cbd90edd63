// Reads a Kubernetes list response (`{"kind":"...List","metadata":{...},"items":[...]}`) as it
// streams in, handing over each element of `items` as soon as it is complete. A list of 10,000
// HostedSites is ~50 MB of JSON: read whole, its text, its parsed objects and the cache's copies
// were all alive at once and pushed the controller's heap past 600 MB at start. Streamed, only
// one chunk and one item are held besides what the cache keeps.
//
// The scanner looks only at ASCII structure bytes (quotes, backslashes, brackets), which never
// occur inside a multi-byte UTF-8 sequence, so chunks may split characters anywhere.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const ITEMS = [0x69, 0x74, 0x65, 0x6d, 0x73]; // "items"

export class ListItemSplitter {
  private readonly onItem: (json: string) => void;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Bytes of the current top-level key compared with "items" so far; -1 once it differs. */
  private keyMatch = -1;
  private lastKeyIsItems = false;
  private inItems = false;
  private itemParts: Buffer[] | undefined;
  /** Everything but the items, which parses to the list's own fields (metadata, kind). */
  private readonly skeleton: Buffer[] = [];

  constructor(onItem: (json: string) => void) {
    this.onItem = onItem;
  }

  push(bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let itemStart = this.itemParts === undefined ? -1 : 0;
    let skeletonStart = this.inItems ? -1 : 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.depth === 1) this.lastKeyIsItems = this.keyMatch === ITEMS.length;
        } else if (this.depth === 1 && this.keyMatch >= 0) {
          this.keyMatch = ITEMS[this.keyMatch] === c ? this.keyMatch + 1 : -1;
        }
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        this.keyMatch = 0;
      } else if (c === LBRACE || c === LBRACKET) {
        this.depth++;
        if (this.depth === 2 && c === LBRACKET && this.lastKeyIsItems) {
          this.inItems = true;
          this.skeleton.push(Buffer.from(chunk.subarray(skeletonStart, i + 1)));
          skeletonStart = -1;
        } else if (this.inItems && this.depth === 3) {
          this.itemParts = [];
          itemStart = i;
        }
      } else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.inItems && this.depth === 2 && this.itemParts !== undefined) {
          const parts = this.itemParts;
          this.itemParts = undefined;
          const text = parts.length === 0 ? chunk.toString("utf8", itemStart, i + 1) : Buffer.concat([...parts, chunk.subarray(itemStart, i + 1)]).toString("utf8");
          itemStart = -1;
          this.onItem(text);
        } else if (this.inItems && this.depth === 1) {
          this.inItems = false;
          skeletonStart = i;
        }
      }
    }
    // Bytes still needed later are copied: the chunk's buffer may be reused by the stream.
    if (this.itemParts !== undefined && itemStart >= 0) this.itemParts.push(Buffer.from(chunk.subarray(itemStart)));
    if (skeletonStart >= 0) this.skeleton.push(Buffer.from(chunk.subarray(skeletonStart)));
  }

  /** The list without its items (`"items":[]`), parsed; throws when the JSON ended early. */
  end(): Record<string, unknown> {
    if (this.depth !== 0 || this.inString) throw new SyntaxError("the list response ended before its JSON did");
    return JSON.parse(Buffer.concat(this.skeleton).toString("utf8")) as Record<string, unknown>;
  }
}
