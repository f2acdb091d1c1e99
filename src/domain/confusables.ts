// Names that could pass for other names (pentest issue 14): "Оwner" with a Cyrillic О beside the
// built-in "Owner", a zero-width space inside a service account's name. A skeleton folds the
// common Latin/Cyrillic/Greek look-alikes, case, accents, spaces and invisible characters, so two
// names with one skeleton look alike; `lookAlikeRisk` names what makes one name suspicious on its
// own. A small table of the usual look-alikes, not all of Unicode's confusables.txt (UTS #39).
import { fail, type Failure } from '../errors.js';

/** Capitals that look like Latin capitals (mapped before lowercasing: Greek Η is H, its η is not). */
const CAPITALS: Record<string, string> = {
  // Cyrillic
  А: 'A', В: 'B', Е: 'E', Ѕ: 'S', І: 'I', Ј: 'J', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X',
  Ү: 'Y', Һ: 'H', Ԛ: 'Q', Ԝ: 'W', Ӏ: 'I',
  // Greek
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};

/** Small letters that look like Latin small letters. */
const SMALL: Record<string, string> = {
  // Cyrillic
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', ѕ: 's', і: 'i', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'i', ү: 'y',
  // Greek
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', υ: 'u', χ: 'x', ω: 'w', γ: 'y', η: 'n',
  // Latin letters outside ASCII
  ı: 'i', ɑ: 'a', ɡ: 'g', ɪ: 'i',
};

/** Characters that show nothing (or a blank): never part of what a reader sees. */
const INVISIBLE = /[\p{Cf}\u034f\u115f\u1160\u180b-\u180f\u2800\u3164\uffa0]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');

/** What a name looks like: two names with the same skeleton can be taken for each other. */
export function skeleton(name: string): string {
  let s = Array.from(name.normalize('NFKC'), (c) => CAPITALS[c] ?? c).join('');
  s = s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
  s = s.replace(/\s/gu, '').replace(INVISIBLE_ALL, '');
  s = Array.from(s, (c) => SMALL[c] ?? c).join('');
  return s.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/[l1|]/g, 'i').replace(/0/g, 'o');
}

const EMOJI = /\p{Extended_Pictographic}|\u{fe0f}|\p{Emoji_Modifier}/u;
const SCRIPTS = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
] as const;

/**
 * Why a name could pass for another on its own, or null: it holds an invisible character (a
 * zero-width joiner inside an emoji sequence is fine) or a space other than the plain one, or it
 * mixes Latin, Cyrillic and Greek letters.
 */
export function lookAlikeRisk(name: string): string | null {
  const chars = Array.from(name);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\u200d' && i > 0 && i < chars.length - 1 && EMOJI.test(chars[i - 1]!) && EMOJI.test(chars[i + 1]!)) continue;
    if (INVISIBLE.test(c) || (c !== ' ' && /\s/u.test(c))) {
      return `it holds an invisible or unusual space character (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
    }
  }
  const scripts = SCRIPTS.filter(([, pattern]) => chars.some((c) => pattern.test(c))).map(([script]) => script);
  if (scripts.length > 1) return `it mixes ${scripts.join(' and ')} letters`;
  return null;
}

/** The refusal of a name that could pass for another on its own (`lookAlikeRisk`); `kind` says what it names ("team"). */
export function confusableName(kind: string, name: string): Failure | null {
  const risk = lookAlikeRisk(name);
  return risk ? fail('CONFUSABLE_NAME', `This ${kind} name could pass for another: ${risk}; use letters of one script and visible characters`) : null;
}

/** The first of `names` that `name` can be taken for (same skeleton, not the very same text), or null. */
export function lookAlikeOf(name: string, names: Iterable<string>): string | null {
  const mine = skeleton(name);
  for (const other of names) if (other !== name && skeleton(other) === mine) return other;
  return null;
}
