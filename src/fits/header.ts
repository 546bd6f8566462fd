/**
 * FITS header cards (FITS Standard 4.0, section 4): 80-character ASCII cards in 2880-byte blocks.
 * Parsing is strict about what makes a header unreadable (non-ASCII bytes, unterminated strings,
 * values that are not FITS values) and lenient about what real archives get slightly wrong
 * (fixed-format columns, lower-case 'e'/'D' exponents, a missing END padding).
 */
import { FormatError } from '../core/errors';
import type { FitsCard, FitsHeader, FitsValue } from './types';

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;
export const CARDS_PER_BLOCK = BLOCK_LENGTH / CARD_LENGTH;

/** Keywords whose cards carry free text, not a value (FITS Standard 4.4.2.4). */
const COMMENTARY_KEYS = new Set(['HISTORY', 'COMMENT', '']);

const KEY_PATTERN = /^[A-Z0-9_-]*$/;
const INTEGER_PATTERN = /^[+-]?\d+$/;
const FLOAT_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/;
const COMPLEX_PATTERN = /^\(\s*[^,()]+\s*,\s*[^,()]+\s*\)$/;

/** In-memory header: cards in order plus a last-value-wins index (types.ts). */
class Header implements FitsHeader {
  readonly cards: readonly FitsCard[];
  private readonly index = new Map<string, FitsValue>();

  constructor(cards: readonly FitsCard[]) {
    this.cards = cards.map((card) => ({ ...card, key: card.key.toUpperCase() }));
    for (const card of this.cards) {
      if (card.value !== undefined) this.index.set(card.key, card.value);
    }
  }

  get(key: string): FitsValue | undefined {
    return this.index.get(key.toUpperCase());
  }

  getNumber(key: string): number | undefined {
    const value = this.get(key);
    return typeof value === 'number' ? value : undefined;
  }

  getString(key: string): string | undefined {
    const value = this.get(key);
    return typeof value === 'string' ? value : undefined;
  }

  has(key: string): boolean {
    return this.index.has(key.toUpperCase());
  }

  history(): string[] {
    return this.cards.filter((card) => card.key === 'HISTORY').map((card) => card.comment ?? '');
  }
}

/** Builds a header from cards, e.g. for code that needs a WCS without a file. */
export function headerFromCards(cards: readonly FitsCard[]): FitsHeader {
  return new Header(cards);
}

/** Thrown by the card parser; the caller adds the file name and card number. */
export class CardSyntaxError extends Error {}

/**
 * Parses one 80-character card. CONTINUE cards come back as `{ key: 'CONTINUE', value: string }`
 * and are merged into the previous card by parseCards().
 */
export function parseCard(text: string): FitsCard {
  if (text.length > CARD_LENGTH) throw new CardSyntaxError(`card longer than ${CARD_LENGTH} characters`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new CardSyntaxError(`non-printable character 0x${code.toString(16).padStart(2, '0')} at column ${i + 1}`);
    }
  }
  const card = text.padEnd(CARD_LENGTH, ' ');
  const rawKey = card.slice(0, 8);
  // Lower-case keywords are invalid FITS but occur in the wild; astropy accepts them with a warning.
  const key = rawKey.trimEnd().toUpperCase();

  if (key === 'HIERARCH') return parseHierarch(card);
  if (!KEY_PATTERN.test(key) || (key.length > 0 && rawKey.trimStart() !== rawKey)) {
    throw new CardSyntaxError(`invalid keyword ${JSON.stringify(rawKey)}`);
  }
  if (key === 'CONTINUE') {
    const { value, comment } = parseValueField(card.slice(8), 'CONTINUE');
    if (typeof value !== 'string') throw new CardSyntaxError('CONTINUE card without a string value');
    return comment === undefined ? { key, value } : { key, value, comment };
  }
  if (COMMENTARY_KEYS.has(key) || card.slice(8, 10) !== '= ') {
    const textPart = card.slice(8).trimEnd();
    return textPart.length > 0 ? { key, comment: textPart } : { key };
  }
  const { value, comment } = parseValueField(card.slice(10), key);
  const result: FitsCard = { key, value };
  if (comment !== undefined) result.comment = comment;
  return result;
}

function parseHierarch(card: string): FitsCard {
  const body = card.slice(8);
  const eq = body.indexOf('=');
  if (eq < 0) return { key: 'HIERARCH', comment: body.trimEnd() };
  const key = body.slice(0, eq).trim().toUpperCase();
  if (key.length === 0) throw new CardSyntaxError('HIERARCH card without a keyword');
  const { value, comment } = parseValueField(body.slice(eq + 1), key);
  const result: FitsCard = { key, value };
  if (comment !== undefined) result.comment = comment;
  return result;
}

/** Parses the value/comment field (columns 11-80) of a value card. */
function parseValueField(field: string, key: string): { value: FitsValue; comment?: string } {
  let i = 0;
  while (i < field.length && field[i] === ' ') i++;
  let value: FitsValue;
  let rest: string;
  if (field[i] === "'") {
    // Strings: '' is an escaped quote; trailing blanks are not significant (FITS 4.2.1.1).
    let text = '';
    let j = i + 1;
    for (;;) {
      if (j >= field.length) throw new CardSyntaxError(`unterminated string value for ${key}`);
      if (field[j] === "'") {
        if (field[j + 1] === "'") {
          text += "'";
          j += 2;
          continue;
        }
        break;
      }
      text += field[j];
      j++;
    }
    value = text.trimEnd();
    rest = field.slice(j + 1);
  } else {
    const slash = field.indexOf('/', i);
    const raw = (slash < 0 ? field.slice(i) : field.slice(i, slash)).trim();
    rest = slash < 0 ? '' : field.slice(slash);
    value = parseBareValue(raw, key);
  }
  const trimmed = rest.trim();
  if (trimmed.length === 0) return { value };
  if (!trimmed.startsWith('/')) {
    throw new CardSyntaxError(`unexpected text after the value of ${key}: ${JSON.stringify(trimmed.slice(0, 20))}`);
  }
  const comment = trimmed.slice(1).trim();
  return comment.length > 0 ? { value, comment } : { value };
}

function parseBareValue(raw: string, key: string): FitsValue {
  if (raw.length === 0) return null; // undefined value (FITS 4.1.2.3)
  if (raw === 'T') return true;
  if (raw === 'F') return false;
  if (INTEGER_PATTERN.test(raw)) return Number(raw);
  if (FLOAT_PATTERN.test(raw)) return Number(raw.replace(/[Dd]/, 'E'));
  if (COMPLEX_PATTERN.test(raw)) return raw; // complex values are kept as their text; nothing here uses them
  throw new CardSyntaxError(`cannot parse the value of ${key}: ${JSON.stringify(raw.slice(0, 30))}`);
}

/**
 * Parses a list of 80-character cards (without END), merging CONTINUE long strings
 * (FITS Standard 4.2.1.2: a string ending in '&' continues on the following CONTINUE cards).
 * `where` names the source in error messages (usually the file path).
 */
export function parseCards(cardTexts: readonly string[], where: string): FitsCard[] {
  const cards: FitsCard[] = [];
  let continuing: FitsCard | null = null;
  cardTexts.forEach((text, index) => {
    let card: FitsCard;
    try {
      card = parseCard(text);
    } catch (err) {
      if (err instanceof CardSyntaxError) {
        throw new FormatError(`${where}: bad header card ${index + 1} (${err.message}): ${JSON.stringify(text.trimEnd().slice(0, 80))}`);
      }
      throw err;
    }
    if (card.key === 'CONTINUE' && continuing && typeof continuing.value === 'string') {
      const head = continuing.value.slice(0, -1);
      continuing.value = head + (card.value as string);
      if (card.comment) continuing.comment = continuing.comment ? `${continuing.comment} ${card.comment}` : card.comment;
      if (!(continuing.value as string).endsWith('&')) continuing = null;
      return;
    }
    cards.push(card);
    continuing = typeof card.value === 'string' && card.value.endsWith('&') ? card : null;
  });
  return cards;
}

/** Formats a number as a FITS value: integers as integers, others with round-trip precision. */
export function formatNumber(value: number, key: string): string {
  if (!Number.isFinite(value)) throw new FormatError(`FITS header value for ${key} must be finite, got ${value}`);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  let text = String(value).toUpperCase();
  if (text.includes('E')) {
    const [mantissa, exponent] = text.split('E');
    text = `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent}`;
  } else if (!text.includes('.')) {
    text += '.0';
  }
  return text;
}

function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''").padEnd(8, ' ')}'`;
}

/**
 * Formats a card as one or more 80-character strings. Long strings use CONTINUE cards,
 * long HISTORY/COMMENT text is split across cards.
 */
export function formatCard(card: FitsCard): string[] {
  const key = card.key.toUpperCase();
  if (!KEY_PATTERN.test(key) || key.length > 8) throw new FormatError(`invalid FITS keyword ${JSON.stringify(card.key)}: expected up to 8 characters A-Z 0-9 - _`);
  const keyField = key.padEnd(8, ' ');
  const checkText = (text: string) => {
    if (/[^\x20-\x7e]/.test(text)) throw new FormatError(`FITS header text for ${key} must be printable ASCII, got ${JSON.stringify(text.slice(0, 40))}`);
  };
  if (card.value === undefined) {
    const text = card.comment ?? '';
    checkText(text);
    return splitCommentary(text).map((piece) => (keyField + piece).padEnd(80, ' '));
  }
  const comment = card.comment ?? '';
  checkText(comment);
  const value = card.value;
  if (typeof value === 'string') {
    checkText(value);
    return formatStringCard(keyField, value, comment);
  }
  let valueText: string;
  if (value === null) valueText = '';
  else if (typeof value === 'boolean') valueText = (value ? 'T' : 'F').padStart(20, ' ');
  else valueText = formatNumber(value, key).padStart(20, ' ');
  return [withComment(`${keyField}= ${valueText}`, comment)];
}

/**
 * Splits commentary text into 72-character pieces, breaking at spaces where it can: trailing blanks
 * of a card are not significant, so a break after a space would lose it. The break's space is
 * dropped; readers join continued HISTORY lines with one space.
 */
function splitCommentary(text: string): string[] {
  if (text.length <= 72) return [text];
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > 72) {
    const space = rest.lastIndexOf(' ', 72);
    if (space > 0) {
      pieces.push(rest.slice(0, space));
      rest = rest.slice(space + 1);
    } else {
      pieces.push(rest.slice(0, 72));
      rest = rest.slice(72);
    }
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

function withComment(head: string, comment: string): string {
  if (comment.length === 0 || head.length + 3 >= 80) return head.padEnd(80, ' ').slice(0, 80);
  return `${head} / ${comment}`.slice(0, 80).padEnd(80, ' ');
}

function formatStringCard(keyField: string, value: string, comment: string): string[] {
  const quoted = quoteString(value);
  if (10 + quoted.length <= 80) return [withComment(`${keyField}= ${quoted}`, comment)];
  // CONTINUE convention: each piece ends in '&' except the last; never split an escaped quote.
  const pieces: string[] = [];
  let rest = value;
  const firstRoom = 80 - 10 - 2 - 1; // quotes and '&'
  const continueRoom = 80 - 10 - 2 - 1;
  let room = firstRoom;
  while (rest.length > 0) {
    let take = 0;
    let escaped = 0;
    while (take < rest.length) {
      const extra = rest[take] === "'" ? 2 : 1;
      if (escaped + extra > room) break;
      escaped += extra;
      take++;
    }
    pieces.push(rest.slice(0, take));
    rest = rest.slice(take);
    room = continueRoom;
  }
  return pieces.map((piece, index) => {
    const last = index === pieces.length - 1;
    const body = `'${piece.replace(/'/g, "''")}${last ? '' : '&'}'`;
    const head = index === 0 ? `${keyField}= ${body}` : `CONTINUE  ${body}`;
    return last ? withComment(head, comment) : head.padEnd(80, ' ');
  });
}

/** Formats cards and END into whole 2880-byte blocks (space padded). */
export function formatHeaderBlocks(cards: readonly FitsCard[]): Buffer {
  const lines: string[] = [];
  for (const card of cards) lines.push(...formatCard(card));
  lines.push('END'.padEnd(80, ' '));
  const text = lines.join('');
  const length = Math.ceil(text.length / BLOCK_LENGTH) * BLOCK_LENGTH;
  return Buffer.from(text.padEnd(length, ' '), 'latin1');
}
