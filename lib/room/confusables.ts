/**
 * Look-alike letters across scripts, and the skeleton names are compared
 * by: two names with the same skeleton would pass for each other, so only
 * one of them may be held at a time.
 *
 * The skeleton follows Unicode's TR39 ("Unicode Security Mechanisms",
 * section 4, skeleton(X)) on a subset of its data: compatibility forms
 * folded (NFKC: fullwidth `ＡＤＡ` and math bold letters are plain letters),
 * case folded, default-ignorable code points removed, and each letter of
 * the table below replaced by the ASCII letter it passes for.
 *
 * The table is a hand-picked subset of TR39's confusables.txt: the letters
 * of Cyrillic, Greek, Armenian, Cherokee and Lisu, and Latin letters
 * outside ASCII (small capitals, IPA), that look like a basic Latin
 * letter, so that a whole name written in them can pass for an ASCII name.
 * Fullwidth and mathematical forms need no row: NFKC folds them (and
 * Greek's lunate sigma `ϲ` has none either: NFKC makes it `σ`, which is
 * `o`). Digits of other scripts and look-alikes that are not single
 * letters (`ш`, `ю`) are left out.
 *
 * Two choices differ from TR39 on purpose:
 *
 * - Look-alikes inside ASCII are not folded (TR39 maps `rn` and `m`, `l`,
 *   `1` and `I`, `0` and `O` together): they were told apart by case
 *   alone until now, so folding them would take names from people who hold
 *   them, and an ASCII name's key stays its lower case, which keeps the
 *   lookup of every private message cheap.
 * - Names are compared without regard to case, so the table is applied
 *   after case folding, and a letter whose capital looks like a Latin
 *   capital maps with its small letter (Greek `Η` and `η` are both `h`,
 *   Cyrillic `В` and `в` are both `b`): otherwise `ΗΑΝΝΑ` would pass for
 *   `HANNA` while being the same name as `ηαννα`.
 *
 * Knows nothing of the room.
 *
 * @module
 */

/**
 * The table: a letter (any case) and the ASCII letter it is taken for. The
 * room folds each row to small letters when the module loads.
 */
export const CONFUSABLE_LETTERS: readonly (readonly [number, string])[] = [
  // Cyrillic
  [0x0430, "a"], // а CYRILLIC SMALL LETTER A
  [0x0410, "a"], // А CYRILLIC CAPITAL LETTER A
  [0x0432, "b"], // в CYRILLIC SMALL LETTER VE
  [0x0412, "b"], // В CYRILLIC CAPITAL LETTER VE
  [0x044C, "b"], // ь CYRILLIC SMALL LETTER SOFT SIGN
  [0x042C, "b"], // Ь CYRILLIC CAPITAL LETTER SOFT SIGN
  [0x0441, "c"], // с CYRILLIC SMALL LETTER ES
  [0x0421, "c"], // С CYRILLIC CAPITAL LETTER ES
  [0x0501, "d"], // ԁ CYRILLIC SMALL LETTER KOMI DE
  [0x0435, "e"], // е CYRILLIC SMALL LETTER IE
  [0x0415, "e"], // Е CYRILLIC CAPITAL LETTER IE
  [0x04BD, "e"], // ҽ CYRILLIC SMALL LETTER ABKHASIAN CHE
  [0x04BB, "h"], // һ CYRILLIC SMALL LETTER SHHA
  [0x04BA, "h"], // Һ CYRILLIC CAPITAL LETTER SHHA
  [0x043D, "h"], // н CYRILLIC SMALL LETTER EN
  [0x041D, "h"], // Н CYRILLIC CAPITAL LETTER EN
  [0x0456, "i"], // і CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
  [0x0406, "i"], // І CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I
  [0x0458, "j"], // ј CYRILLIC SMALL LETTER JE
  [0x0408, "j"], // Ј CYRILLIC CAPITAL LETTER JE
  [0x043A, "k"], // к CYRILLIC SMALL LETTER KA
  [0x041A, "k"], // К CYRILLIC CAPITAL LETTER KA
  [0x04CF, "l"], // ӏ CYRILLIC SMALL LETTER PALOCHKA
  [0x04C0, "l"], // Ӏ CYRILLIC LETTER PALOCHKA
  [0x043C, "m"], // м CYRILLIC SMALL LETTER EM
  [0x041C, "m"], // М CYRILLIC CAPITAL LETTER EM
  [0x043F, "n"], // п CYRILLIC SMALL LETTER PE
  [0x043E, "o"], // о CYRILLIC SMALL LETTER O
  [0x041E, "o"], // О CYRILLIC CAPITAL LETTER O
  [0x0440, "p"], // р CYRILLIC SMALL LETTER ER
  [0x0420, "p"], // Р CYRILLIC CAPITAL LETTER ER
  [0x051B, "q"], // ԛ CYRILLIC SMALL LETTER QA
  [0x051A, "q"], // Ԛ CYRILLIC CAPITAL LETTER QA
  [0x0433, "r"], // г CYRILLIC SMALL LETTER GHE
  [0x0455, "s"], // ѕ CYRILLIC SMALL LETTER DZE
  [0x0405, "s"], // Ѕ CYRILLIC CAPITAL LETTER DZE
  [0x0442, "t"], // т CYRILLIC SMALL LETTER TE
  [0x0422, "t"], // Т CYRILLIC CAPITAL LETTER TE
  [0x0475, "v"], // ѵ CYRILLIC SMALL LETTER IZHITSA
  [0x0474, "v"], // Ѵ CYRILLIC CAPITAL LETTER IZHITSA
  [0x051D, "w"], // ԝ CYRILLIC SMALL LETTER WE
  [0x051C, "w"], // Ԝ CYRILLIC CAPITAL LETTER WE
  [0x0461, "w"], // ѡ CYRILLIC SMALL LETTER OMEGA
  [0x0445, "x"], // х CYRILLIC SMALL LETTER HA
  [0x0425, "x"], // Х CYRILLIC CAPITAL LETTER HA
  [0x0443, "y"], // у CYRILLIC SMALL LETTER U
  [0x0423, "y"], // У CYRILLIC CAPITAL LETTER U
  [0x04AF, "y"], // ү CYRILLIC SMALL LETTER STRAIGHT U
  [0x04AE, "y"], // Ү CYRILLIC CAPITAL LETTER STRAIGHT U
  // Greek
  [0x03B1, "a"], // α GREEK SMALL LETTER ALPHA
  [0x0391, "a"], // Α GREEK CAPITAL LETTER ALPHA
  [0x03B2, "b"], // β GREEK SMALL LETTER BETA
  [0x0392, "b"], // Β GREEK CAPITAL LETTER BETA
  [0x03B5, "e"], // ε GREEK SMALL LETTER EPSILON
  [0x0395, "e"], // Ε GREEK CAPITAL LETTER EPSILON
  [0x03B7, "h"], // η GREEK SMALL LETTER ETA
  [0x0397, "h"], // Η GREEK CAPITAL LETTER ETA
  [0x03B9, "i"], // ι GREEK SMALL LETTER IOTA
  [0x0399, "i"], // Ι GREEK CAPITAL LETTER IOTA
  [0x03F3, "j"], // ϳ GREEK LETTER YOT
  [0x037F, "j"], // Ϳ GREEK CAPITAL LETTER YOT
  [0x03BA, "k"], // κ GREEK SMALL LETTER KAPPA
  [0x039A, "k"], // Κ GREEK CAPITAL LETTER KAPPA
  [0x03BC, "m"], // μ GREEK SMALL LETTER MU
  [0x039C, "m"], // Μ GREEK CAPITAL LETTER MU
  [0x03BD, "n"], // ν GREEK SMALL LETTER NU
  [0x039D, "n"], // Ν GREEK CAPITAL LETTER NU
  [0x03BF, "o"], // ο GREEK SMALL LETTER OMICRON
  [0x039F, "o"], // Ο GREEK CAPITAL LETTER OMICRON
  [0x03C3, "o"], // σ GREEK SMALL LETTER SIGMA
  [0x03C1, "p"], // ρ GREEK SMALL LETTER RHO
  [0x03A1, "p"], // Ρ GREEK CAPITAL LETTER RHO
  [0x03C4, "t"], // τ GREEK SMALL LETTER TAU
  [0x03A4, "t"], // Τ GREEK CAPITAL LETTER TAU
  [0x03C7, "x"], // χ GREEK SMALL LETTER CHI
  [0x03A7, "x"], // Χ GREEK CAPITAL LETTER CHI
  [0x03B3, "y"], // γ GREEK SMALL LETTER GAMMA
  [0x03C5, "y"], // υ GREEK SMALL LETTER UPSILON
  [0x03A5, "y"], // Υ GREEK CAPITAL LETTER UPSILON
  [0x03B6, "z"], // ζ GREEK SMALL LETTER ZETA
  [0x0396, "z"], // Ζ GREEK CAPITAL LETTER ZETA
  // Armenian
  [0x0581, "g"], // ց ARMENIAN SMALL LETTER CO
  [0x0570, "h"], // հ ARMENIAN SMALL LETTER HO
  [0x0578, "n"], // ո ARMENIAN SMALL LETTER VO
  [0x0585, "o"], // օ ARMENIAN SMALL LETTER OH
  [0x0555, "o"], // Օ ARMENIAN CAPITAL LETTER OH
  [0x0563, "q"], // գ ARMENIAN SMALL LETTER GIM
  [0x0566, "q"], // զ ARMENIAN SMALL LETTER ZA
  [0x057F, "s"], // տ ARMENIAN SMALL LETTER TIWN
  [0x054F, "s"], // Տ ARMENIAN CAPITAL LETTER TIWN
  [0x057D, "u"], // ս ARMENIAN SMALL LETTER SEH
  [0x054D, "u"], // Ս ARMENIAN CAPITAL LETTER SEH
  // Cherokee (capital letters; their small letters fold to them)
  [0x13AA, "a"], // Ꭺ CHEROKEE LETTER GO
  [0x13F4, "b"], // Ᏼ CHEROKEE LETTER YV
  [0x13CF, "b"], // Ꮟ CHEROKEE LETTER SI
  [0x13DF, "c"], // Ꮯ CHEROKEE LETTER TLI
  [0x13A0, "d"], // Ꭰ CHEROKEE LETTER A
  [0x13E7, "d"], // Ꮷ CHEROKEE LETTER TSU
  [0x13AC, "e"], // Ꭼ CHEROKEE LETTER GV
  [0x13C0, "g"], // Ꮐ CHEROKEE LETTER NAH
  [0x13F3, "g"], // Ᏻ CHEROKEE LETTER YU
  [0x13BB, "h"], // Ꮋ CHEROKEE LETTER MI
  [0x13C2, "h"], // Ꮒ CHEROKEE LETTER NI
  [0x13A5, "i"], // Ꭵ CHEROKEE LETTER V
  [0x13AB, "j"], // Ꭻ CHEROKEE LETTER GU
  [0x13E6, "k"], // Ꮶ CHEROKEE LETTER TSO
  [0x13DE, "l"], // Ꮮ CHEROKEE LETTER TLE
  [0x13B7, "m"], // Ꮇ CHEROKEE LETTER LU
  [0x13E2, "p"], // Ꮲ CHEROKEE LETTER TLV
  [0x13A1, "r"], // Ꭱ CHEROKEE LETTER E
  [0x13D2, "r"], // Ꮢ CHEROKEE LETTER SV
  [0x13DA, "s"], // Ꮪ CHEROKEE LETTER DU
  [0x13D5, "s"], // Ꮥ CHEROKEE LETTER DE
  [0x13A2, "t"], // Ꭲ CHEROKEE LETTER I
  [0x13D9, "v"], // Ꮩ CHEROKEE LETTER DO
  [0x13B3, "w"], // Ꮃ CHEROKEE LETTER LA
  [0x13D4, "w"], // Ꮤ CHEROKEE LETTER TA
  [0x13A9, "y"], // Ꭹ CHEROKEE LETTER GI
  [0x13BD, "y"], // Ꮍ CHEROKEE LETTER MU
  [0x13C3, "z"], // Ꮓ CHEROKEE LETTER NO
  // Lisu
  [0xA4EE, "a"], // ꓮ LISU LETTER A
  [0xA4D0, "b"], // ꓐ LISU LETTER BA
  [0xA4DA, "c"], // ꓚ LISU LETTER CA
  [0xA4D2, "d"], // ꓒ LISU LETTER PHA
  [0xA4D3, "d"], // ꓓ LISU LETTER DA
  [0xA4F0, "e"], // ꓰ LISU LETTER E
  [0xA4DD, "f"], // ꓝ LISU LETTER TSA
  [0xA4D6, "g"], // ꓖ LISU LETTER GA
  [0xA4E7, "h"], // ꓧ LISU LETTER XA
  [0xA4F2, "i"], // ꓲ LISU LETTER I
  [0xA4D9, "j"], // ꓙ LISU LETTER JA
  [0xA4D7, "k"], // ꓗ LISU LETTER KA
  [0xA4E1, "l"], // ꓡ LISU LETTER LA
  [0xA4DF, "m"], // ꓟ LISU LETTER MA
  [0xA4E0, "n"], // ꓠ LISU LETTER NA
  [0xA4F3, "o"], // ꓳ LISU LETTER O
  [0xA4D1, "p"], // ꓑ LISU LETTER PA
  [0xA4E3, "r"], // ꓣ LISU LETTER ZHA
  [0xA4E2, "s"], // ꓢ LISU LETTER SA
  [0xA4D4, "t"], // ꓔ LISU LETTER TA
  [0xA4F4, "u"], // ꓴ LISU LETTER U
  [0xA4E6, "v"], // ꓦ LISU LETTER HA
  [0xA4EA, "w"], // ꓪ LISU LETTER WA
  [0xA4EB, "x"], // ꓫ LISU LETTER SHA
  [0xA4EC, "y"], // ꓬ LISU LETTER YA
  [0xA4DC, "z"], // ꓜ LISU LETTER DZA
  // Latin letters outside ASCII (small capitals, IPA)
  [0x0251, "a"], // ɑ LATIN SMALL LETTER ALPHA
  [0x1D00, "a"], // ᴀ LATIN LETTER SMALL CAPITAL A
  [0x0299, "b"], // ʙ LATIN LETTER SMALL CAPITAL B
  [0x1D04, "c"], // ᴄ LATIN LETTER SMALL CAPITAL C
  [0x1D05, "d"], // ᴅ LATIN LETTER SMALL CAPITAL D
  [0x1D07, "e"], // ᴇ LATIN LETTER SMALL CAPITAL E
  [0x0261, "g"], // ɡ LATIN SMALL LETTER SCRIPT G
  [0x0262, "g"], // ɢ LATIN LETTER SMALL CAPITAL G
  [0x029C, "h"], // ʜ LATIN LETTER SMALL CAPITAL H
  [0x0269, "i"], // ɩ LATIN SMALL LETTER IOTA
  [0x026A, "i"], // ɪ LATIN LETTER SMALL CAPITAL I
  [0x1D0A, "j"], // ᴊ LATIN LETTER SMALL CAPITAL J
  [0x1D0B, "k"], // ᴋ LATIN LETTER SMALL CAPITAL K
  [0x01C0, "l"], // ǀ LATIN LETTER DENTAL CLICK
  [0x029F, "l"], // ʟ LATIN LETTER SMALL CAPITAL L
  [0x1D0D, "m"], // ᴍ LATIN LETTER SMALL CAPITAL M
  [0x0274, "n"], // ɴ LATIN LETTER SMALL CAPITAL N
  [0x1D0F, "o"], // ᴏ LATIN LETTER SMALL CAPITAL O
  [0x1D18, "p"], // ᴘ LATIN LETTER SMALL CAPITAL P
  [0x0280, "r"], // ʀ LATIN LETTER SMALL CAPITAL R
  [0xA731, "s"], // ꜱ LATIN LETTER SMALL CAPITAL S
  [0x1D1B, "t"], // ᴛ LATIN LETTER SMALL CAPITAL T
  [0x1D1C, "u"], // ᴜ LATIN LETTER SMALL CAPITAL U
  [0x1D20, "v"], // ᴠ LATIN LETTER SMALL CAPITAL V
  [0x1D21, "w"], // ᴡ LATIN LETTER SMALL CAPITAL W
  [0x028F, "y"], // ʏ LATIN LETTER SMALL CAPITAL Y
  [0x1D22, "z"], // ᴢ LATIN LETTER SMALL CAPITAL Z
];

// Case folding as the registry's keys fold case: `ß` is `ss`, `ς` is `σ`,
// a Cherokee capital its small letter.
function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase();
}

const BY_LETTER: ReadonlyMap<string, string> = new Map(
  CONFUSABLE_LETTERS.map((
    [codePoint, ascii],
  ) => [foldCase(String.fromCodePoint(codePoint)), ascii]),
);

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * The skeleton of `text`: NFKC, case folded, default-ignorable code points
 * removed, look-alike letters replaced by the ASCII letter they pass for,
 * in NFC. Marks stay (`é` is not `e`): decomposing first makes `ё` (Cyrillic
 * `е` with a diaeresis) the skeleton of `ë`.
 *
 * @example
 * ```ts
 * skeleton("ＡＤＡ"); // "ada"
 * skeleton("\u0430lice"); // "alice" (a Cyrillic а)
 * skeleton("ΗΑΝΝΑ"); // "hanna" (Greek capitals)
 * ```
 */
export function skeleton(text: string): string {
  const folded = foldCase(text.normalize("NFKC")).normalize("NFD");
  let out = "";
  for (const char of folded) {
    if (IGNORABLE.test(char)) continue;
    out += BY_LETTER.get(char) ?? char;
  }
  return out.normalize("NFC");
}
