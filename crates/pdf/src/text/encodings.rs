//! Static tables: the simple-font base encodings (WinAnsi, MacRoman, Standard), a Latin subset
//! of Adobe glyph names, and approximate metrics of the standard 14 fonts.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A base encoding of a simple font: code -> Unicode scalar (0 = undefined).
pub(crate) type BaseEncoding = [u16; 256];

/// Names of ASCII 0x20..=0x7E, in code order.
const ASCII_NAMES: [&str; 95] = [
    "space",
    "exclam",
    "quotedbl",
    "numbersign",
    "dollar",
    "percent",
    "ampersand",
    "quotesingle",
    "parenleft",
    "parenright",
    "asterisk",
    "plus",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less",
    "equal",
    "greater",
    "question",
    "at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "bracketleft",
    "backslash",
    "bracketright",
    "asciicircum",
    "underscore",
    "grave",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "braceleft",
    "bar",
    "braceright",
    "asciitilde",
];

/// Names of U+00A0..=U+00FF, in code-point order.
const LATIN1_NAMES: [&str; 96] = [
    "nbspace",
    "exclamdown",
    "cent",
    "sterling",
    "currency",
    "yen",
    "brokenbar",
    "section",
    "dieresis",
    "copyright",
    "ordfeminine",
    "guillemotleft",
    "logicalnot",
    "sfthyphen",
    "registered",
    "macron",
    "degree",
    "plusminus",
    "twosuperior",
    "threesuperior",
    "acute",
    "mu1",
    "paragraph",
    "periodcentered",
    "cedilla",
    "onesuperior",
    "ordmasculine",
    "guillemotright",
    "onequarter",
    "onehalf",
    "threequarters",
    "questiondown",
    "Agrave",
    "Aacute",
    "Acircumflex",
    "Atilde",
    "Adieresis",
    "Aring",
    "AE",
    "Ccedilla",
    "Egrave",
    "Eacute",
    "Ecircumflex",
    "Edieresis",
    "Igrave",
    "Iacute",
    "Icircumflex",
    "Idieresis",
    "Eth",
    "Ntilde",
    "Ograve",
    "Oacute",
    "Ocircumflex",
    "Otilde",
    "Odieresis",
    "multiply",
    "Oslash",
    "Ugrave",
    "Uacute",
    "Ucircumflex",
    "Udieresis",
    "Yacute",
    "Thorn",
    "germandbls",
    "agrave",
    "aacute",
    "acircumflex",
    "atilde",
    "adieresis",
    "aring",
    "ae",
    "ccedilla",
    "egrave",
    "eacute",
    "ecircumflex",
    "edieresis",
    "igrave",
    "iacute",
    "icircumflex",
    "idieresis",
    "eth",
    "ntilde",
    "ograve",
    "oacute",
    "ocircumflex",
    "otilde",
    "odieresis",
    "divide",
    "oslash",
    "ugrave",
    "uacute",
    "ucircumflex",
    "udieresis",
    "yacute",
    "thorn",
    "ydieresis",
];

/// Names of U+0100..=U+017F (Latin Extended-A), in code-point order.
const LATIN_EXT_A_NAMES: [&str; 128] = [
    "Amacron",
    "amacron",
    "Abreve",
    "abreve",
    "Aogonek",
    "aogonek",
    "Cacute",
    "cacute",
    "Ccircumflex",
    "ccircumflex",
    "Cdotaccent",
    "cdotaccent",
    "Ccaron",
    "ccaron",
    "Dcaron",
    "dcaron",
    "Dcroat",
    "dcroat",
    "Emacron",
    "emacron",
    "Ebreve",
    "ebreve",
    "Edotaccent",
    "edotaccent",
    "Eogonek",
    "eogonek",
    "Ecaron",
    "ecaron",
    "Gcircumflex",
    "gcircumflex",
    "Gbreve",
    "gbreve",
    "Gdotaccent",
    "gdotaccent",
    "Gcommaaccent",
    "gcommaaccent",
    "Hcircumflex",
    "hcircumflex",
    "Hbar",
    "hbar",
    "Itilde",
    "itilde",
    "Imacron",
    "imacron",
    "Ibreve",
    "ibreve",
    "Iogonek",
    "iogonek",
    "Idotaccent",
    "dotlessi",
    "IJ",
    "ij",
    "Jcircumflex",
    "jcircumflex",
    "Kcommaaccent",
    "kcommaaccent",
    "kgreenlandic",
    "Lacute",
    "lacute",
    "Lcommaaccent",
    "lcommaaccent",
    "Lcaron",
    "lcaron",
    "Ldot",
    "ldot",
    "Lslash",
    "lslash",
    "Nacute",
    "nacute",
    "Ncommaaccent",
    "ncommaaccent",
    "Ncaron",
    "ncaron",
    "napostrophe",
    "Eng",
    "eng",
    "Omacron",
    "omacron",
    "Obreve",
    "obreve",
    "Ohungarumlaut",
    "ohungarumlaut",
    "OE",
    "oe",
    "Racute",
    "racute",
    "Rcommaaccent",
    "rcommaaccent",
    "Rcaron",
    "rcaron",
    "Sacute",
    "sacute",
    "Scircumflex",
    "scircumflex",
    "Scedilla",
    "scedilla",
    "Scaron",
    "scaron",
    "Tcommaaccent",
    "tcommaaccent",
    "Tcaron",
    "tcaron",
    "Tbar",
    "tbar",
    "Utilde",
    "utilde",
    "Umacron",
    "umacron",
    "Ubreve",
    "ubreve",
    "Uring",
    "uring",
    "Uhungarumlaut",
    "uhungarumlaut",
    "Uogonek",
    "uogonek",
    "Wcircumflex",
    "wcircumflex",
    "Ycircumflex",
    "ycircumflex",
    "Ydieresis",
    "Zacute",
    "zacute",
    "Zdotaccent",
    "zdotaccent",
    "Zcaron",
    "zcaron",
    "longs",
];

/// Further glyph names (punctuation, ligatures, accents, Greek, a few math and TeX names).
const OTHER_NAMES: &[(&str, u32)] = &[
    ("quoteright", 0x2019),
    ("quoteleft", 0x2018),
    ("quotedblleft", 0x201C),
    ("quotedblright", 0x201D),
    ("quotesinglbase", 0x201A),
    ("quotedblbase", 0x201E),
    ("quotereversed", 0x201B),
    ("endash", 0x2013),
    ("emdash", 0x2014),
    ("figuredash", 0x2012),
    ("bullet", 0x2022),
    ("ellipsis", 0x2026),
    ("dagger", 0x2020),
    ("daggerdbl", 0x2021),
    ("perthousand", 0x2030),
    ("guilsinglleft", 0x2039),
    ("guilsinglright", 0x203A),
    ("guillemetleft", 0x00AB),
    ("guillemetright", 0x00BB),
    ("fraction", 0x2044),
    ("Euro", 0x20AC),
    ("euro", 0x20AC),
    ("trademark", 0x2122),
    ("florin", 0x0192),
    ("circumflex", 0x02C6),
    ("tilde", 0x02DC),
    ("caron", 0x02C7),
    ("breve", 0x02D8),
    ("dotaccent", 0x02D9),
    ("ring", 0x02DA),
    ("ogonek", 0x02DB),
    ("hungarumlaut", 0x02DD),
    ("commaaccent", 0x0326),
    ("minus", 0x2212),
    ("ff", 0xFB00),
    ("fi", 0xFB01),
    ("fl", 0xFB02),
    ("ffi", 0xFB03),
    ("ffl", 0xFB04),
    ("dotlessj", 0x0237),
    ("Gcedilla", 0x0122),
    ("gcedilla", 0x0123),
    ("Kcedilla", 0x0136),
    ("kcedilla", 0x0137),
    ("Lcedilla", 0x013B),
    ("lcedilla", 0x013C),
    ("Ncedilla", 0x0145),
    ("ncedilla", 0x0146),
    ("Rcedilla", 0x0156),
    ("rcedilla", 0x0157),
    ("Tcedilla", 0x0162),
    ("tcedilla", 0x0163),
    ("Dslash", 0x0110),
    ("dslash", 0x0111),
    ("Gdot", 0x0120),
    ("gdot", 0x0121),
    ("Zdot", 0x017B),
    ("zdot", 0x017C),
    ("Cdot", 0x010A),
    ("cdot", 0x010B),
    ("Edot", 0x0116),
    ("edot", 0x0117),
    ("Idot", 0x0130),
    ("Scommaaccent", 0x0218),
    ("scommaaccent", 0x0219),
    ("Tcommaaccent", 0x021A),
    ("tcommaaccent", 0x021B),
    ("nonbreakingspace", 0x00A0),
    ("space", 0x0020),
    ("mu", 0x03BC),
    ("middot", 0x00B7),
    ("overscore", 0x00AF),
    ("Delta", 0x2206),
    ("Omega", 0x2126),
    ("Alpha", 0x0391),
    ("Beta", 0x0392),
    ("Gamma", 0x0393),
    ("Epsilon", 0x0395),
    ("Zeta", 0x0396),
    ("Eta", 0x0397),
    ("Theta", 0x0398),
    ("Iota", 0x0399),
    ("Kappa", 0x039A),
    ("Lambda", 0x039B),
    ("Mu", 0x039C),
    ("Nu", 0x039D),
    ("Xi", 0x039E),
    ("Omicron", 0x039F),
    ("Pi", 0x03A0),
    ("Rho", 0x03A1),
    ("Sigma", 0x03A3),
    ("Tau", 0x03A4),
    ("Upsilon", 0x03A5),
    ("Phi", 0x03A6),
    ("Chi", 0x03A7),
    ("Psi", 0x03A8),
    ("alpha", 0x03B1),
    ("beta", 0x03B2),
    ("gamma", 0x03B3),
    ("delta", 0x03B4),
    ("epsilon", 0x03B5),
    ("zeta", 0x03B6),
    ("eta", 0x03B7),
    ("theta", 0x03B8),
    ("iota", 0x03B9),
    ("kappa", 0x03BA),
    ("lambda", 0x03BB),
    ("nu", 0x03BD),
    ("xi", 0x03BE),
    ("omicron", 0x03BF),
    ("pi", 0x03C0),
    ("rho", 0x03C1),
    ("sigma1", 0x03C2),
    ("sigma", 0x03C3),
    ("tau", 0x03C4),
    ("upsilon", 0x03C5),
    ("phi", 0x03C6),
    ("chi", 0x03C7),
    ("psi", 0x03C8),
    ("omega", 0x03C9),
    ("infinity", 0x221E),
    ("notequal", 0x2260),
    ("lessequal", 0x2264),
    ("greaterequal", 0x2265),
    ("partialdiff", 0x2202),
    ("summation", 0x2211),
    ("product", 0x220F),
    ("integral", 0x222B),
    ("radical", 0x221A),
    ("approxequal", 0x2248),
    ("lozenge", 0x25CA),
    ("degreesign", 0x00B0),
    ("periodcentered", 0x00B7),
    ("numero", 0x2116),
    ("visiblespace", 0x2423),
    ("arrowright", 0x2192),
    ("arrowleft", 0x2190),
    ("arrowup", 0x2191),
    ("arrowdown", 0x2193),
    ("checkmark", 0x2713),
    ("onesuperior", 0x00B9),
    ("rupiah", 0x20A8),
];

fn glyph_table() -> &'static HashMap<&'static str, u32> {
    static TABLE: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::with_capacity(512);
        for (name, cp) in OTHER_NAMES {
            map.insert(*name, *cp);
        }
        for (i, name) in ASCII_NAMES.iter().enumerate() {
            map.insert(*name, 0x20 + i as u32);
        }
        for (i, name) in LATIN1_NAMES.iter().enumerate() {
            map.insert(*name, 0xA0 + i as u32);
        }
        for (i, name) in LATIN_EXT_A_NAMES.iter().enumerate() {
            map.insert(*name, 0x100 + i as u32);
        }
        map
    })
}

/// Unicode text for one glyph name (Adobe Glyph List conventions, Latin subset).
pub(crate) fn glyph_name_to_unicode(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    // "a.sc" -> "a"; ".notdef" -> nothing.
    let base = match name.find('.') {
        Some(0) => return None,
        Some(dot) => name.get(..dot)?,
        None => name,
    };
    if base.is_empty() {
        return None;
    }
    if base.contains('_') {
        let mut out = String::new();
        for part in base.split('_') {
            out.push_str(&component_to_unicode(part)?);
        }
        return Some(out);
    }
    component_to_unicode(base)
}

fn component_to_unicode(name: &str) -> Option<String> {
    if let Some(cp) = glyph_table().get(name) {
        return char::from_u32(*cp).map(String::from);
    }
    if let Some(hex) = name.strip_prefix("uni") {
        if !hex.is_empty() && hex.len() % 4 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let units: Vec<u16> = hex
                .as_bytes()
                .chunks(4)
                .filter_map(|c| std::str::from_utf8(c).ok())
                .filter_map(|s| u16::from_str_radix(s, 16).ok())
                .collect();
            let text: String = char::decode_utf16(units).filter_map(Result::ok).collect();
            if !text.is_empty() {
                return Some(text);
            }
        }
        return None;
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let cp = u32::from_str_radix(hex, 16).ok()?;
        return char::from_u32(cp).map(String::from);
    }
    None
}

/// The glyph name of a Latin character, used to find an approximate standard-14 width.
fn base_letter(c: char) -> Option<char> {
    let cp = c as u32;
    let name = if (0xC0..=0xFF).contains(&cp) {
        LATIN1_NAMES.get((cp - 0xA0) as usize)?
    } else if (0x100..=0x17F).contains(&cp) {
        LATIN_EXT_A_NAMES.get((cp - 0x100) as usize)?
    } else {
        return None;
    };
    name.chars().next().filter(|c| c.is_ascii_alphabetic())
}

const fn ascii_base() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = i as u16;
        i += 1;
    }
    t
}

const fn with_high(mut t: [u16; 256], high: &[(u8, u16)]) -> [u16; 256] {
    let mut i = 0;
    while i < high.len() {
        t[high[i].0 as usize] = high[i].1;
        i += 1;
    }
    t
}

const fn latin1_high(mut t: [u16; 256]) -> [u16; 256] {
    let mut i = 0xA0;
    while i < 0x100 {
        t[i] = i as u16;
        i += 1;
    }
    t
}

pub(crate) static WIN_ANSI: BaseEncoding = with_high(
    latin1_high(ascii_base()),
    &[
        (0x80, 0x20AC),
        (0x82, 0x201A),
        (0x83, 0x0192),
        (0x84, 0x201E),
        (0x85, 0x2026),
        (0x86, 0x2020),
        (0x87, 0x2021),
        (0x88, 0x02C6),
        (0x89, 0x2030),
        (0x8A, 0x0160),
        (0x8B, 0x2039),
        (0x8C, 0x0152),
        (0x8E, 0x017D),
        (0x91, 0x2018),
        (0x92, 0x2019),
        (0x93, 0x201C),
        (0x94, 0x201D),
        (0x95, 0x2022),
        (0x96, 0x2013),
        (0x97, 0x2014),
        (0x98, 0x02DC),
        (0x99, 0x2122),
        (0x9A, 0x0161),
        (0x9B, 0x203A),
        (0x9C, 0x0153),
        (0x9E, 0x017E),
        (0x9F, 0x0178),
        (0xAD, 0x002D),
    ],
);

pub(crate) static MAC_ROMAN: BaseEncoding = with_high(
    ascii_base(),
    &[
        (0x80, 0x00C4),
        (0x81, 0x00C5),
        (0x82, 0x00C7),
        (0x83, 0x00C9),
        (0x84, 0x00D1),
        (0x85, 0x00D6),
        (0x86, 0x00DC),
        (0x87, 0x00E1),
        (0x88, 0x00E0),
        (0x89, 0x00E2),
        (0x8A, 0x00E4),
        (0x8B, 0x00E3),
        (0x8C, 0x00E5),
        (0x8D, 0x00E7),
        (0x8E, 0x00E9),
        (0x8F, 0x00E8),
        (0x90, 0x00EA),
        (0x91, 0x00EB),
        (0x92, 0x00ED),
        (0x93, 0x00EC),
        (0x94, 0x00EE),
        (0x95, 0x00EF),
        (0x96, 0x00F1),
        (0x97, 0x00F3),
        (0x98, 0x00F2),
        (0x99, 0x00F4),
        (0x9A, 0x00F6),
        (0x9B, 0x00F5),
        (0x9C, 0x00FA),
        (0x9D, 0x00F9),
        (0x9E, 0x00FB),
        (0x9F, 0x00FC),
        (0xA0, 0x2020),
        (0xA1, 0x00B0),
        (0xA2, 0x00A2),
        (0xA3, 0x00A3),
        (0xA4, 0x00A7),
        (0xA5, 0x2022),
        (0xA6, 0x00B6),
        (0xA7, 0x00DF),
        (0xA8, 0x00AE),
        (0xA9, 0x00A9),
        (0xAA, 0x2122),
        (0xAB, 0x00B4),
        (0xAC, 0x00A8),
        (0xAD, 0x2260),
        (0xAE, 0x00C6),
        (0xAF, 0x00D8),
        (0xB0, 0x221E),
        (0xB1, 0x00B1),
        (0xB2, 0x2264),
        (0xB3, 0x2265),
        (0xB4, 0x00A5),
        (0xB5, 0x00B5),
        (0xB6, 0x2202),
        (0xB7, 0x2211),
        (0xB8, 0x220F),
        (0xB9, 0x03C0),
        (0xBA, 0x222B),
        (0xBB, 0x00AA),
        (0xBC, 0x00BA),
        (0xBD, 0x2126),
        (0xBE, 0x00E6),
        (0xBF, 0x00F8),
        (0xC0, 0x00BF),
        (0xC1, 0x00A1),
        (0xC2, 0x00AC),
        (0xC3, 0x221A),
        (0xC4, 0x0192),
        (0xC5, 0x2248),
        (0xC6, 0x2206),
        (0xC7, 0x00AB),
        (0xC8, 0x00BB),
        (0xC9, 0x2026),
        (0xCA, 0x00A0),
        (0xCB, 0x00C0),
        (0xCC, 0x00C3),
        (0xCD, 0x00D5),
        (0xCE, 0x0152),
        (0xCF, 0x0153),
        (0xD0, 0x2013),
        (0xD1, 0x2014),
        (0xD2, 0x201C),
        (0xD3, 0x201D),
        (0xD4, 0x2018),
        (0xD5, 0x2019),
        (0xD6, 0x00F7),
        (0xD7, 0x25CA),
        (0xD8, 0x00FF),
        (0xD9, 0x0178),
        (0xDA, 0x2044),
        (0xDB, 0x00A4),
        (0xDC, 0x2039),
        (0xDD, 0x203A),
        (0xDE, 0xFB01),
        (0xDF, 0xFB02),
        (0xE0, 0x2021),
        (0xE1, 0x00B7),
        (0xE2, 0x201A),
        (0xE3, 0x201E),
        (0xE4, 0x2030),
        (0xE5, 0x00C2),
        (0xE6, 0x00CA),
        (0xE7, 0x00C1),
        (0xE8, 0x00CB),
        (0xE9, 0x00C8),
        (0xEA, 0x00CD),
        (0xEB, 0x00CE),
        (0xEC, 0x00CF),
        (0xED, 0x00CC),
        (0xEE, 0x00D3),
        (0xEF, 0x00D4),
        (0xF1, 0x00D2),
        (0xF2, 0x00DA),
        (0xF3, 0x00DB),
        (0xF4, 0x00D9),
        (0xF5, 0x0131),
        (0xF6, 0x02C6),
        (0xF7, 0x02DC),
        (0xF8, 0x00AF),
        (0xF9, 0x02D8),
        (0xFA, 0x02D9),
        (0xFB, 0x02DA),
        (0xFC, 0x00B8),
        (0xFD, 0x02DD),
        (0xFE, 0x02DB),
        (0xFF, 0x02C7),
    ],
);

pub(crate) static STANDARD: BaseEncoding = with_high(
    ascii_base(),
    &[
        (0x27, 0x2019),
        (0x60, 0x2018),
        (0xA1, 0x00A1),
        (0xA2, 0x00A2),
        (0xA3, 0x00A3),
        (0xA4, 0x2044),
        (0xA5, 0x00A5),
        (0xA6, 0x0192),
        (0xA7, 0x00A7),
        (0xA8, 0x00A4),
        (0xA9, 0x0027),
        (0xAA, 0x201C),
        (0xAB, 0x00AB),
        (0xAC, 0x2039),
        (0xAD, 0x203A),
        (0xAE, 0xFB01),
        (0xAF, 0xFB02),
        (0xB1, 0x2013),
        (0xB2, 0x2020),
        (0xB3, 0x2021),
        (0xB4, 0x00B7),
        (0xB6, 0x00B6),
        (0xB7, 0x2022),
        (0xB8, 0x201A),
        (0xB9, 0x201E),
        (0xBA, 0x201D),
        (0xBB, 0x00BB),
        (0xBC, 0x2026),
        (0xBD, 0x2030),
        (0xBF, 0x00BF),
        (0xC1, 0x0060),
        (0xC2, 0x00B4),
        (0xC3, 0x02C6),
        (0xC4, 0x02DC),
        (0xC5, 0x00AF),
        (0xC6, 0x02D8),
        (0xC7, 0x02D9),
        (0xC8, 0x00A8),
        (0xCA, 0x02DA),
        (0xCB, 0x00B8),
        (0xCD, 0x02DD),
        (0xCE, 0x02DB),
        (0xCF, 0x02C7),
        (0xD0, 0x2014),
        (0xE1, 0x00C6),
        (0xE3, 0x00AA),
        (0xE8, 0x0141),
        (0xE9, 0x00D8),
        (0xEA, 0x0152),
        (0xEB, 0x00BA),
        (0xF1, 0x00E6),
        (0xF5, 0x0131),
        (0xF8, 0x0142),
        (0xF9, 0x00F8),
        (0xFA, 0x0153),
        (0xFB, 0x00DF),
    ],
);

/// Base encoding named by a PDF /Encoding or /BaseEncoding name.
pub(crate) fn base_encoding_by_name(name: &[u8]) -> Option<&'static BaseEncoding> {
    match name {
        b"WinAnsiEncoding" => Some(&WIN_ANSI),
        b"MacRomanEncoding" => Some(&MAC_ROMAN),
        b"StandardEncoding" => Some(&STANDARD),
        // PDFDocEncoding agrees with WinAnsi on the printable ASCII and Latin-1 range.
        b"PDFDocEncoding" => Some(&WIN_ANSI),
        _ => None,
    }
}

// Widths (1/1000 em) of ASCII 0x20..=0x7E in the standard 14 fonts (AFM values); Helvetica and
// Helvetica-Bold are in `crate::afm`, shared with the stamp.
const TIMES_ROMAN: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500, 500,
    500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667, 722, 611,
    556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722,
    722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500,
    278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480, 200, 480, 541,
];
const TIMES_BOLD: [u16; 95] = [
    250, 333, 555, 500, 500, 1000, 833, 278, 333, 333, 500, 570, 250, 333, 250, 278, 500, 500, 500,
    500, 500, 500, 500, 500, 500, 500, 333, 333, 570, 570, 570, 500, 930, 722, 667, 722, 722, 667,
    611, 778, 778, 389, 500, 778, 667, 944, 722, 778, 611, 778, 722, 556, 667, 722, 722, 1000, 722,
    722, 667, 333, 278, 333, 581, 500, 333, 500, 556, 444, 556, 444, 333, 500, 556, 278, 333, 556,
    278, 833, 556, 500, 556, 556, 444, 389, 333, 556, 500, 722, 500, 500, 444, 394, 220, 394, 520,
];

/// Approximate metrics of a standard-14 (or look-alike) font, chosen from its /BaseFont name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StdFamily {
    Helvetica,
    HelveticaBold,
    Times,
    TimesBold,
    Courier,
}

impl StdFamily {
    pub(crate) fn from_base_font(name: &[u8]) -> StdFamily {
        // Drop a subset tag "ABCDEF+".
        let name = match name.iter().position(|&b| b == b'+') {
            Some(6) => name.get(7..).unwrap_or(name),
            _ => name,
        };
        let lower: String = String::from_utf8_lossy(name).to_ascii_lowercase();
        let bold = lower.contains("bold") || lower.contains("black") || lower.contains("heavy");
        if lower.contains("courier") || lower.contains("mono") {
            StdFamily::Courier
        } else if lower.contains("times")
            || (lower.contains("serif") && !lower.contains("sans"))
            || lower.contains("roman")
        {
            if bold {
                StdFamily::TimesBold
            } else {
                StdFamily::Times
            }
        } else if bold {
            StdFamily::HelveticaBold
        } else {
            StdFamily::Helvetica
        }
    }

    /// Advance width in 1/1000 em of the glyph showing `text`.
    pub(crate) fn width(self, text: Option<&str>) -> f64 {
        let table = match self {
            StdFamily::Courier => return 600.0,
            StdFamily::Helvetica => &crate::afm::HELVETICA,
            StdFamily::HelveticaBold => &crate::afm::HELVETICA_BOLD,
            StdFamily::Times => &TIMES_ROMAN,
            StdFamily::TimesBold => &TIMES_BOLD,
        };
        let default = match self {
            StdFamily::Helvetica | StdFamily::HelveticaBold => 556.0,
            _ => 500.0,
        };
        let mut chars = text.unwrap_or("").chars();
        let c = match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            _ => return default,
        };
        let c = if c.is_ascii() {
            c
        } else {
            match c {
                '\u{2018}' | '\u{2019}' => '\'',
                '\u{201C}' | '\u{201D}' => '"',
                '\u{2013}' | '\u{2212}' => '-',
                '\u{00A0}' => ' ',
                _ => match base_letter(c) {
                    Some(b) => b,
                    None => return default,
                },
            }
        };
        let idx = (c as usize).wrapping_sub(0x20);
        table.get(idx).map_or(default, |w| f64::from(*w))
    }

    /// Ascent and descent in 1/1000 em (AFM Ascender / Descender).
    pub(crate) fn ascent_descent(self) -> (f64, f64) {
        match self {
            StdFamily::Helvetica | StdFamily::HelveticaBold => (718.0, -207.0),
            StdFamily::Times | StdFamily::TimesBold => (683.0, -217.0),
            StdFamily::Courier => (629.0, -157.0),
        }
    }
}

/// True for the standard 14 font names (and their common aliases) that may come without /Widths.
pub(crate) fn is_standard_14(name: &[u8]) -> bool {
    matches!(
        name,
        b"Helvetica"
            | b"Helvetica-Bold"
            | b"Helvetica-Oblique"
            | b"Helvetica-BoldOblique"
            | b"Times-Roman"
            | b"Times-Bold"
            | b"Times-Italic"
            | b"Times-BoldItalic"
            | b"Courier"
            | b"Courier-Bold"
            | b"Courier-Oblique"
            | b"Courier-BoldOblique"
            | b"Symbol"
            | b"ZapfDingbats"
            | b"Arial"
            | b"Arial,Bold"
            | b"Arial,Italic"
            | b"Arial,BoldItalic"
            | b"TimesNewRoman"
            | b"TimesNewRoman,Bold"
            | b"CourierNew"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names() {
        assert_eq!(glyph_name_to_unicode(b"A").as_deref(), Some("A"));
        assert_eq!(glyph_name_to_unicode(b"eacute").as_deref(), Some("\u{e9}"));
        assert_eq!(glyph_name_to_unicode(b"scaron").as_deref(), Some("\u{161}"));
        assert_eq!(glyph_name_to_unicode(b"uni0041").as_deref(), Some("A"));
        assert_eq!(glyph_name_to_unicode(b"uni00410042").as_deref(), Some("AB"));
        assert_eq!(
            glyph_name_to_unicode(b"u1F600").as_deref(),
            Some("\u{1F600}")
        );
        assert_eq!(glyph_name_to_unicode(b"f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_name_to_unicode(b"a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_name_to_unicode(b".notdef"), None);
        assert_eq!(glyph_name_to_unicode(b"g123"), None);
        assert_eq!(glyph_name_to_unicode(b"fi").as_deref(), Some("\u{FB01}"));
    }

    #[test]
    fn tables() {
        assert_eq!(WIN_ANSI[0x41], 0x41);
        assert_eq!(WIN_ANSI[0x80], 0x20AC);
        assert_eq!(WIN_ANSI[0xE9], 0xE9);
        assert_eq!(STANDARD[0x27], 0x2019);
        assert_eq!(MAC_ROMAN[0x8E], 0xE9);
        assert_eq!(StdFamily::Helvetica.width(Some("K")), 667.0);
        assert_eq!(StdFamily::Helvetica.width(Some("\u{e9}")), 556.0);
        assert_eq!(
            StdFamily::from_base_font(b"ABCDEF+Arial-BoldMT"),
            StdFamily::HelveticaBold
        );
        assert_eq!(StdFamily::from_base_font(b"Times-Roman"), StdFamily::Times);
    }
}
