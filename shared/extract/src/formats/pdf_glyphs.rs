//! Simple fonts whose codes are named by glyph names: an `/Encoding` dictionary's `/Differences`
//! and an embedded Type1 program's built-in encoding (PDF 32000-1 §9.6.6).
//!
//! lopdf refuses a whole `/Differences` array over one name outside the Adobe Glyph List
//! (`uni00E9`, `f_i`, `a.sc`), and does not read a Type1 program's own encoding, which is what
//! TeX's Computer Modern fonts rely on: without it "fi", "fl", dashes and quotes are lost. Names
//! resolve as the Adobe Glyph List specification says; a name that still means nothing keeps the
//! base encoding's text for its code, as pdfminer does.

use lopdf::{Dictionary, Document, Encoding, Object};

use crate::detect::find;
use crate::formats::pdf_lazy::Contents;

/// Each code's text; `None` where the encoding leaves the code undefined.
pub(crate) type CodeTexts = Vec<Option<String>>;

/// Largest font program decompressed to find its encoding.
const MAX_PROGRAM_BYTES: usize = 8 * 1024 * 1024;

/// The texts of a simple font's codes when its encoding is named glyph by glyph: an
/// `/Encoding` dictionary, or no `/Encoding` over an embedded Type1 program. Every code has a
/// text, empty where nothing defines it. `None` for named encodings and fonts without either,
/// which lopdf reads as it is.
///
/// An encoding dictionary the load left in the file is read from it again (`contents`); the
/// error is that it could not be.
pub(crate) fn code_texts(
    doc: &Document,
    contents: &Contents,
    font: &Dictionary,
) -> lopdf::Result<Option<CodeTexts>> {
    let encoding = match font.get(b"Encoding") {
        Ok(e) => match contents.resolve(doc, e)? {
            Some(e) => Some(e),
            None => return Ok(None),
        },
        Err(_) => None,
    };
    let encoding = match encoding.as_deref() {
        Some(Object::Dictionary(d)) => Some(d),
        Some(_) => return Ok(None),
        None => None,
    };
    Ok(texts_of(doc, font, encoding))
}

fn texts_of(doc: &Document, font: &Dictionary, encoding: Option<&Dictionary>) -> Option<CodeTexts> {
    let named_base = encoding
        .and_then(|e| e.get(b"BaseEncoding").and_then(Object::as_name).ok())
        .and_then(named_encoding);
    // Without `/BaseEncoding` an embedded program's own encoding is the base (Table 114).
    let base = named_base.or_else(|| builtin_encoding(doc, font));
    let mut texts = match (base, encoding) {
        (Some(base), _) => base,
        (None, Some(_)) => named_encoding(b"StandardEncoding")?,
        (None, None) => return None,
    };
    if let Some(differences) = encoding
        .and_then(|e| e.get(b"Differences").ok())
        .and_then(|d| doc.dereference(d).ok())
        .and_then(|(_, d)| d.as_array().ok())
    {
        apply_differences(&mut texts, differences);
    }
    // A code no name defines shows nothing, as in lopdf's decoding, rather than failing its
    // whole string.
    Some(
        texts
            .into_iter()
            .map(|t| Some(t.unwrap_or_default()))
            .collect(),
    )
}

/// A named base encoding's text per code (Annex D), from lopdf's tables.
fn named_encoding(name: &[u8]) -> Option<CodeTexts> {
    if !matches!(
        name,
        b"StandardEncoding" | b"WinAnsiEncoding" | b"MacRomanEncoding" | b"MacExpertEncoding"
    ) {
        return None;
    }
    through_lopdf_font("Encoding", Object::Name(name.to_vec()), |encoding| {
        (0..=255u8).map(|c| decoded(&encoding, c)).collect()
    })
}

/// lopdf's reading of a font dictionary holding only `key` (`/Encoding`, `/ToUnicode`). Its
/// tables, glyph list and CMap parser are private; a font read through its public API reaches
/// them.
pub(crate) fn through_lopdf_font<T>(
    key: &str,
    value: Object,
    read: impl FnOnce(Encoding<'_>) -> T,
) -> Option<T> {
    static NO_DOCUMENT: std::sync::LazyLock<Document> = std::sync::LazyLock::new(Document::new);
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set(key, value);
    Some(read(font.get_font_encoding(&NO_DOCUMENT).ok()?))
}

/// One code's text; control characters (a music font's `controlSUB`) count as undefined.
fn decoded(encoding: &Encoding<'_>, code: u8) -> Option<String> {
    Document::decode_text(encoding, &[code])
        .ok()
        .filter(|t| !t.is_empty() && !t.chars().any(char::is_control))
}

/// `[code name name … code name …]`: each name takes the next code. Codes out of 0–255 and
/// entries of other types are skipped rather than failing the font. Only the last name of each
/// code is looked up, so a long array costs no more than 256 lookups.
fn apply_differences(texts: &mut CodeTexts, differences: &[Object]) {
    let mut names: Vec<Option<&[u8]>> = vec![None; 256];
    let mut code: Option<usize> = None;
    for entry in differences {
        match entry {
            Object::Integer(c) => code = usize::try_from(*c).ok().filter(|c| *c < 256),
            Object::Real(c) if c.fract() == 0.0 && (0.0..256.0).contains(c) => {
                code = Some(*c as usize)
            }
            Object::Name(name) => {
                if let Some(c) = code {
                    names[c] = Some(name);
                    code = (c + 1 < 256).then_some(c + 1);
                }
            }
            _ => {}
        }
    }
    for (text, name) in texts.iter_mut().zip(names) {
        if let Some(known) = name.and_then(glyph_text) {
            *text = Some(known);
        }
    }
}

/// A glyph name's text, as the Adobe Glyph List specification maps it: the part before the
/// first period; components joined by underscores; each component a glyph-list name,
/// `uniXXXX…` (groups of four hex digits) or `uXXXX` to `uXXXXXX`. `None` when any component
/// means nothing.
pub(crate) fn glyph_text(name: &[u8]) -> Option<String> {
    let name = name.split(|&b| b == b'.').next().unwrap_or(name);
    if name.is_empty() {
        return None;
    }
    let mut text = String::new();
    for component in name.split(|&b| b == b'_') {
        if let Some(known) = lopdf_glyph_text(component) {
            text.push_str(&known);
        } else if let Some(hex) = component.strip_prefix(b"uni")
            && !hex.is_empty()
            && hex.len() % 4 == 0
        {
            for group in hex.chunks(4) {
                text.push(scalar(group).filter(|c| (*c as u32) < 0x10000)?);
            }
        } else if let Some(hex) = component.strip_prefix(b"u")
            && (4..=6).contains(&hex.len())
        {
            text.push(scalar(hex)?);
        } else {
            return None;
        }
    }
    // Control characters (`controlSUB`, `uni001A`) are not text: music and symbol fonts name
    // glyphs so.
    (!text.chars().any(char::is_control)).then_some(text)
}

/// A name from lopdf's glyph list, the Adobe list with TeX's names added (`circlecopyrt`,
/// `angbracketleft`, `negationslash`…): a one-name `/Differences` at code 0, which
/// StandardEncoding leaves undefined.
fn lopdf_glyph_text(name: &[u8]) -> Option<String> {
    let mut differences = Dictionary::new();
    differences.set(
        "Differences",
        vec![Object::Integer(0), Object::Name(name.to_vec())],
    );
    through_lopdf_font("Encoding", Object::Dictionary(differences), |e| {
        decoded(&e, 0)
    })
    .flatten()
}

/// Uppercase hex digits as a Unicode scalar value (the specification allows no lowercase).
fn scalar(hex: &[u8]) -> Option<char> {
    if !hex
        .iter()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
    {
        return None;
    }
    char::from_u32(u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?)
}

/// The built-in encoding of the font's embedded Type1 program (`/FontFile`), from its clear-text
/// part: `/Encoding StandardEncoding def`, or `/Encoding 256 array … dup 12 /fi put … def`.
fn builtin_encoding(doc: &Document, font: &Dictionary) -> Option<CodeTexts> {
    let subtype = font.get(b"Subtype").and_then(Object::as_name).ok()?;
    if subtype != b"Type1" && subtype != b"MMType1" {
        return None;
    }
    let descriptor = font
        .get_deref(b"FontDescriptor", doc)
        .ok()?
        .as_dict()
        .ok()?;
    let program = descriptor
        .get_deref(b"FontFile", doc)
        .ok()?
        .as_stream()
        .ok()?;
    let data = program
        .get_plain_content_with_limit(MAX_PROGRAM_BYTES)
        .ok()?;
    let clear = &data[..find(&data, b"eexec").unwrap_or(data.len())];
    parse_type1_encoding(clear)
}

/// The encoding a Type1 program's clear text assigns; codes it does not assign are undefined.
pub(crate) fn parse_type1_encoding(clear: &[u8]) -> Option<CodeTexts> {
    let start = find(clear, b"/Encoding")? + b"/Encoding".len();
    let mut tokens = Tokens {
        rest: &clear[start..],
    };
    let first = tokens.next()?;
    if first == b"StandardEncoding" {
        return Some(named_encoding(b"StandardEncoding").unwrap());
    }
    // Looked up once per code at the end: a program may assign a code many times.
    let mut names: Vec<Option<&[u8]>> = vec![None; 256];
    let mut window: [&[u8]; 4] = [b""; 4];
    for token in std::iter::once(first).chain(tokens) {
        if token == b"def" || token == b"readonly" {
            break;
        }
        window = [window[1], window[2], window[3], token];
        if let [b"dup", code, name, b"put"] = window
            && let Some(name) = name.strip_prefix(b"/")
            && let Some(code) = std::str::from_utf8(code)
                .ok()
                .and_then(|c| c.parse::<usize>().ok())
                .filter(|c| *c < 256)
        {
            names[code] = Some(name);
        }
    }
    names
        .iter()
        .any(Option::is_some)
        .then(|| names.into_iter().map(|n| n.and_then(glyph_text)).collect())
}

/// PostScript tokens, split at white space and before each `/`, `{`, `}`, `[` and `]`.
struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let is_space = |b: &u8| b.is_ascii_whitespace() || *b == 0;
        let is_delimiter = |b: &u8| matches!(b, b'/' | b'{' | b'}' | b'[' | b']');
        let start = self.rest.iter().position(|b| !is_space(b))?;
        let rest = &self.rest[start..];
        let len = if matches!(rest[0], b'{' | b'}' | b'[' | b']') {
            1
        } else {
            1 + rest[1..]
                .iter()
                .position(|b| is_space(b) || is_delimiter(b))
                .unwrap_or(rest.len() - 1)
        };
        self.rest = &rest[len..];
        Some(&rest[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names_resolve_as_the_glyph_list_specification_says() {
        let cases: [(&[u8], Option<&str>); 12] = [
            (b"A", Some("A")),
            (b"fi", Some("\u{FB01}")),
            (b"uni00E9", Some("é")),
            (b"uni00660069", Some("fi")),
            (b"u1F600", Some("😀")),
            (b"f_f_i", Some("ffi")),
            (b"a.sc", Some("a")),
            (b"uni00e9", None),
            (b"circlecopyrt", Some("\u{20DD}")),
            (b"g12", None),
            (b"controlSUB", None),
            (b".notdef", None),
        ];
        for (name, want) in cases {
            assert_eq!(
                glyph_text(name).as_deref(),
                want,
                "{}",
                String::from_utf8_lossy(name)
            );
        }
    }

    #[test]
    fn a_type1_programs_encoding_array_is_read_from_its_clear_text() {
        let clear = b"%!PS-AdobeFont-1.0: CMR10 003.002\n/FontName /CMR10 def\n\
            /Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\n\
            dup 12 /fi put\ndup 13/fl put\ndup 65 /A put\ndup 123 /endash put\n\
            readonly def\ncurrentfile eexec";
        let texts = parse_type1_encoding(clear).unwrap();
        assert_eq!(texts[12].as_deref(), Some("\u{FB01}"));
        assert_eq!(texts[13].as_deref(), Some("\u{FB02}"));
        assert_eq!(texts[65].as_deref(), Some("A"));
        assert_eq!(texts[123].as_deref(), Some("–"));
        assert_eq!(texts[66], None);
        let standard = parse_type1_encoding(b"/Encoding StandardEncoding def").unwrap();
        assert_eq!(standard[65].as_deref(), Some("A"));
        assert!(parse_type1_encoding(b"/FontName /X def").is_none());
    }

    #[test]
    fn differences_keep_the_base_text_for_names_that_mean_nothing() {
        let mut texts = named_encoding(b"StandardEncoding").unwrap();
        let differences = [
            Object::Integer(65),
            Object::Name(b"uni00E9".to_vec()),
            Object::Name(b"g17".to_vec()),
            Object::Integer(300),
            Object::Name(b"Z".to_vec()),
            Object::Real(2.0),
            Object::Name(b"f_l".to_vec()),
        ];
        apply_differences(&mut texts, &differences);
        assert_eq!(texts[65].as_deref(), Some("é"));
        assert_eq!(texts[66].as_deref(), Some("B"));
        assert_eq!(texts[2].as_deref(), Some("fl"));
        // After a code out of range, names take no code until the next valid one.
        assert_eq!(texts.iter().flatten().filter(|t| *t == "Z").count(), 1);
    }
}
