/**
 * The scripts of a name, held to TR39's "Highly Restrictive" level
 * (Unicode Technical Standard #39, section 5.2): a name is written in one
 * script, or in Latin with Han and Hiragana or Katakana (Japanese), with
 * Han and Bopomofo (Chinese) or with Han and Hangul (Korean). Characters
 * that belong to every script (digits, `_`, `-`, combining marks) do not
 * count. So `たなか太郎` (Hiragana and Han) and `tanaka太郎` pass, and
 * `brunо` with a Cyrillic `о` does not.
 *
 * Scripts come from the runtime's Unicode data, through the regular
 * expression property `Script_Extensions`, so a character used by several
 * scripts (`ー` in Hiragana and Katakana) counts as any of them.
 *
 * Knows nothing of the room.
 *
 * @module
 */

// Every script of Unicode 16, by its long name. A name the runtime does not
// know is skipped; a character of no script listed counts as "Unknown".
const SCRIPT_NAMES = [
  "Latin",
  "Common",
  "Inherited",
  "Cyrillic",
  "Greek",
  "Han",
  "Hiragana",
  "Katakana",
  "Hangul",
  "Bopomofo",
  "Arabic",
  "Hebrew",
  "Armenian",
  "Georgian",
  "Devanagari",
  "Bengali",
  "Thai",
  "Adlam",
  "Ahom",
  "Anatolian_Hieroglyphs",
  "Avestan",
  "Balinese",
  "Bamum",
  "Bassa_Vah",
  "Batak",
  "Bhaiksuki",
  "Brahmi",
  "Braille",
  "Buginese",
  "Buhid",
  "Canadian_Aboriginal",
  "Carian",
  "Caucasian_Albanian",
  "Chakma",
  "Cham",
  "Cherokee",
  "Chorasmian",
  "Coptic",
  "Cuneiform",
  "Cypriot",
  "Cypro_Minoan",
  "Deseret",
  "Dives_Akuru",
  "Dogra",
  "Duployan",
  "Egyptian_Hieroglyphs",
  "Elbasan",
  "Elymaic",
  "Ethiopic",
  "Garay",
  "Glagolitic",
  "Gothic",
  "Grantha",
  "Gujarati",
  "Gunjala_Gondi",
  "Gurmukhi",
  "Gurung_Khema",
  "Hanifi_Rohingya",
  "Hanunoo",
  "Hatran",
  "Imperial_Aramaic",
  "Inscriptional_Pahlavi",
  "Inscriptional_Parthian",
  "Javanese",
  "Kaithi",
  "Kannada",
  "Kawi",
  "Kayah_Li",
  "Kharoshthi",
  "Khitan_Small_Script",
  "Khmer",
  "Khojki",
  "Khudawadi",
  "Kirat_Rai",
  "Lao",
  "Lepcha",
  "Limbu",
  "Linear_A",
  "Linear_B",
  "Lisu",
  "Lycian",
  "Lydian",
  "Mahajani",
  "Makasar",
  "Malayalam",
  "Mandaic",
  "Manichaean",
  "Marchen",
  "Masaram_Gondi",
  "Medefaidrin",
  "Meetei_Mayek",
  "Mende_Kikakui",
  "Meroitic_Cursive",
  "Meroitic_Hieroglyphs",
  "Miao",
  "Modi",
  "Mongolian",
  "Mro",
  "Multani",
  "Myanmar",
  "Nabataean",
  "Nag_Mundari",
  "Nandinagari",
  "New_Tai_Lue",
  "Newa",
  "Nko",
  "Nushu",
  "Nyiakeng_Puachue_Hmong",
  "Ogham",
  "Ol_Chiki",
  "Ol_Onal",
  "Old_Hungarian",
  "Old_Italic",
  "Old_North_Arabian",
  "Old_Permic",
  "Old_Persian",
  "Old_Sogdian",
  "Old_South_Arabian",
  "Old_Turkic",
  "Old_Uyghur",
  "Oriya",
  "Osage",
  "Osmanya",
  "Pahawh_Hmong",
  "Palmyrene",
  "Pau_Cin_Hau",
  "Phags_Pa",
  "Phoenician",
  "Psalter_Pahlavi",
  "Rejang",
  "Runic",
  "Samaritan",
  "Saurashtra",
  "Sharada",
  "Shavian",
  "Siddham",
  "SignWriting",
  "Sinhala",
  "Sogdian",
  "Sora_Sompeng",
  "Soyombo",
  "Sundanese",
  "Sunuwar",
  "Syloti_Nagri",
  "Syriac",
  "Tagalog",
  "Tagbanwa",
  "Tai_Le",
  "Tai_Tham",
  "Tai_Viet",
  "Takri",
  "Tamil",
  "Tangsa",
  "Tangut",
  "Telugu",
  "Thaana",
  "Tibetan",
  "Tifinagh",
  "Tirhuta",
  "Todhri",
  "Toto",
  "Tulu_Tigalari",
  "Ugaritic",
  "Vai",
  "Vithkuqi",
  "Wancho",
  "Warang_Citi",
  "Yezidi",
  "Yi",
  "Zanabazar_Square",
];

const SCRIPTS: readonly (readonly [string, RegExp])[] = SCRIPT_NAMES.flatMap(
  (name) => {
    try {
      return [[name, new RegExp(`^\\p{Script_Extensions=${name}}$`, "u")]];
    } catch {
      return [];
    }
  },
);

// What a character of every script counts as: nothing.
const ANY: readonly string[] = [];
const UNKNOWN: readonly string[] = ["Unknown"];

// A character's scripts, cached: names repeat their letters.
const cache = new Map<string, readonly string[]>();
const CACHE_LIMIT = 4_096;

// The scripts of one character (its Script_Extensions), or ANY for a
// character of every script (Common, Inherited).
function scriptsOf(char: string): readonly string[] {
  const cached = cache.get(char);
  if (cached !== undefined) return cached;
  const found = SCRIPTS.filter(([, test]) => test.test(char))
    .map(([name]) => name);
  const scripts = found.length === 0
    ? UNKNOWN
    : found.every((name) => name === "Common" || name === "Inherited")
    ? ANY
    : found;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(char, scripts);
  return scripts;
}

// TR39 5.1: Han, Hiragana, Katakana, Hangul and Bopomofo also count as the
// writing systems they are part of, so that Japanese (Jpan), Korean (Kore)
// and Chinese with Bopomofo (Hanb) are each one script.
const AUGMENTED: Readonly<Record<string, readonly string[]>> = {
  Han: ["Han", "Jpan", "Kore", "Hanb"],
  Hiragana: ["Hiragana", "Jpan"],
  Katakana: ["Katakana", "Jpan"],
  Hangul: ["Hangul", "Kore"],
  Bopomofo: ["Bopomofo", "Hanb"],
};

// TR39 5.2, Highly Restrictive: the sets a name may also be covered by.
const COVERING_SETS: readonly ReadonlySet<string>[] = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

/**
 * The scripts `name` mixes, in the order they first appear, if it breaks
 * TR39's "Highly Restrictive" level; null if it keeps to it.
 *
 * @example
 * ```ts
 * mixedScripts("brun\u043e"); // ["Latin", "Cyrillic"]
 * mixedScripts("たなか太郎"); // null
 * ```
 */
export function mixedScripts(name: string): string[] | null {
  const sets: (readonly string[])[] = [];
  let resolved = null as Set<string> | null;
  for (const char of name) {
    const scripts = scriptsOf(char);
    if (scripts === ANY) continue;
    sets.push(scripts);
    const augmented = new Set(scripts.flatMap((s) => AUGMENTED[s] ?? [s]));
    resolved = resolved === null
      ? augmented
      : new Set([...resolved].filter((s) => augmented.has(s)));
  }
  if (resolved === null || resolved.size > 0) return null;
  const covered = COVERING_SETS.some((allowed) =>
    sets.every((scripts) => scripts.some((s) => allowed.has(s)))
  );
  if (covered) return null;
  const named: string[] = [];
  for (const scripts of sets) {
    if (!scripts.some((s) => named.includes(s))) named.push(scripts[0]);
  }
  return named;
}
