//! A content-stream tokenizer (PDF 32000-1 §7.2, §7.3, §8.9.7). lopdf's parser is built from
//! nom combinators that allocate per operand and backtrack between object kinds; after the font
//! and CMap fixes it was half of all PDF time. This one reads each byte once, knows what comes
//! next from the first byte, and keeps an operation's operands in buffers reused for the next:
//! a kerned `TJ` is dozens of one-glyph strings, and allocating each was a quarter of the time.
//! Anything it cannot read is an error, and the caller falls back to lopdf's own text extraction.

use lopdf::content::Operation;
use lopdf::{Dictionary, Object, StringFormat};

/// Arrays and dictionaries nested deeper than this are refused (real pages nest two or three).
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
pub(crate) struct Malformed;

/// One operand. Names and strings are ranges of [`Operands::bytes`]. An array or dictionary
/// is followed by its entries (nested ones flattened in order): `len` of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Operand {
    Int(i64),
    Real(f32),
    Bool(bool),
    Null,
    Name(u32, u32),
    Str(u32, u32, StringFormat),
    Array { len: u32 },
    Dict { len: u32 },
}

impl Operand {
    /// The number, as lopdf's `as_float` reads it.
    pub(crate) fn number(self) -> Option<f32> {
        match self {
            Operand::Int(i) => Some(i as f32),
            Operand::Real(r) => Some(r),
            _ => None,
        }
    }
}

/// The operands of one operation.
#[derive(Default)]
pub(crate) struct Operands {
    bytes: Vec<u8>,
    items: Vec<Operand>,
    /// Where each top-level operand is in `items`.
    tops: Vec<u32>,
}

impl Operands {
    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
        self.tops.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.tops.len()
    }

    /// The `i`th top-level operand.
    pub(crate) fn get(&self, i: usize) -> Option<Operand> {
        self.tops.get(i).map(|&at| self.items[at as usize])
    }

    /// The `i`th operand as a number, 0 when it is missing or not one.
    pub(crate) fn num(&self, i: usize) -> f32 {
        self.get(i).and_then(Operand::number).unwrap_or(0.0)
    }

    pub(crate) fn name(&self, i: usize) -> Option<&[u8]> {
        match self.get(i)? {
            Operand::Name(a, b) => Some(&self.bytes[a as usize..b as usize]),
            _ => None,
        }
    }

    /// A name's or string's bytes (empty for anything else).
    pub(crate) fn bytes(&self, operand: Operand) -> &[u8] {
        match operand {
            Operand::Name(a, b) | Operand::Str(a, b, _) => &self.bytes[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The `i`th top-level operand and, for an array or dictionary, its flattened entries.
    pub(crate) fn with_entries(&self, i: usize) -> &[Operand] {
        let Some(&at) = self.tops.get(i) else {
            return &[];
        };
        let at = at as usize;
        let len = match self.items[at] {
            Operand::Array { len } | Operand::Dict { len } => len as usize,
            _ => 0,
        };
        &self.items[at..at + 1 + len]
    }

    /// As lopdf objects (for the rare readers that want them, and for comparing with lopdf).
    fn to_objects(&self) -> Vec<Object> {
        (0..self.len())
            .map(|i| self.object(self.with_entries(i)).0)
            .collect()
    }

    /// The object starting `entries`, and how many entries it took.
    fn object(&self, entries: &[Operand]) -> (Object, usize) {
        let head = entries[0];
        let owned = |op| self.bytes(op).to_vec();
        match head {
            Operand::Int(i) => (Object::Integer(i), 1),
            Operand::Real(r) => (Object::Real(r), 1),
            Operand::Bool(b) => (Object::Boolean(b), 1),
            Operand::Null => (Object::Null, 1),
            Operand::Name(..) => (Object::Name(owned(head)), 1),
            Operand::Str(_, _, format) => (Object::String(owned(head), format), 1),
            Operand::Array { len } => {
                let end = 1 + len as usize;
                let mut items = Vec::new();
                let mut at = 1;
                while at < end {
                    let (item, used) = self.object(&entries[at..end]);
                    items.push(item);
                    at += used;
                }
                (Object::Array(items), end)
            }
            Operand::Dict { len } => {
                let end = 1 + len as usize;
                let mut dict = Dictionary::new();
                let mut at = 1;
                while at < end {
                    let key = owned(entries[at]);
                    let (value, used) = self.object(&entries[at + 1..end]);
                    dict.set(key, value);
                    at += 1 + used;
                }
                (Object::Dictionary(dict), end)
            }
        }
    }
}

/// The object at the start of `data` (what follows `N G obj`), references included, read as
/// lopdf's object parser reads it but several times faster: pages and links are read again from
/// the file as each page is rendered (see `pdf_lazy`). `None` where this reader is not sure to
/// read what lopdf reads (anything it refuses), for the caller to ask lopdf.
pub(crate) fn object(data: &[u8]) -> Option<Object> {
    Lexer { data, pos: 0 }.value(0).ok()
}

/// All operations as lopdf `Operation`s, for readers off the hot path (CMaps) and for
/// comparing with lopdf's parser in tests.
pub(crate) fn operations(data: &[u8]) -> Result<Vec<Operation>, Malformed> {
    let mut ops = Vec::new();
    each_operation(data, |operator, operands| {
        let operator = std::str::from_utf8(operator).map_err(|_| Malformed)?;
        ops.push(Operation::new(operator, operands.to_objects()));
        Ok::<_, Malformed>(())
    })?;
    Ok(ops)
}

/// Calls `f` with each operation in order, without collecting them. Stops at the first error,
/// from `f` or from the content (`Malformed`), so a caller must drop what a failed stream
/// produced.
pub(crate) fn each_operation<E: From<Malformed>>(
    data: &[u8],
    mut f: impl FnMut(&[u8], &Operands) -> Result<(), E>,
) -> Result<(), E> {
    let mut lexer = Lexer { data, pos: 0 };
    let mut operands = Operands::default();
    loop {
        lexer.skip_space();
        let Some(&byte) = data.get(lexer.pos) else {
            break;
        };
        if is_regular(byte) && !starts_object(byte) {
            let word = lexer.word();
            let keyword = match word {
                b"true" => Operand::Bool(true),
                b"false" => Operand::Bool(false),
                b"null" => Operand::Null,
                b"BI" => {
                    lexer.skip_inline_image()?;
                    operands.clear();
                    continue;
                }
                _ => {
                    // An operator that is not text makes the content unreadable (checked only
                    // past ASCII: operators are a letter or three).
                    if !word.is_ascii() {
                        std::str::from_utf8(word).map_err(|_| Malformed)?;
                    }
                    f(word, &operands)?;
                    operands.clear();
                    continue;
                }
            };
            operands.tops.push(operands.items.len() as u32);
            operands.items.push(keyword);
        } else {
            operands.tops.push(operands.items.len() as u32);
            lexer.object(&mut operands, 0)?;
        }
    }
    Ok(())
}

/// Byte classes (PDF 32000-1 §7.2.2), looked up rather than matched: the tokenizer asks for
/// every byte of the content.
const SPACE: u8 = 1;
const DELIMITER: u8 = 2;
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let spaces = b" \n\r\t\x0c\0";
    let mut i = 0;
    while i < spaces.len() {
        classes[spaces[i] as usize] = SPACE;
        i += 1;
    }
    let delimiters = b"()<>[]{}/%";
    let mut i = 0;
    while i < delimiters.len() {
        classes[delimiters[i] as usize] = DELIMITER;
        i += 1;
    }
    classes
};

/// Each byte's value as a hex digit, or `NOT_HEX`.
const NOT_HEX: u8 = 0xff;
const HEX_DIGITS: [u8; 256] = {
    let mut digits = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        digits[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        digits[b'a' as usize + i] = 10 + i as u8;
        digits[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    digits
};

fn is_space(b: u8) -> bool {
    CLASSES[b as usize] == SPACE
}

fn is_regular(b: u8) -> bool {
    CLASSES[b as usize] == 0
}

/// Numbers start with a digit, a sign or a point; keywords with anything else regular.
fn starts_object(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
}

/// A number as the general parser reads it: an integer, else a real, where a sign repeated
/// ("--3", which PDF writers emit, as they do "-.5" and "4.") is still that sign.
fn general_number(word: &[u8]) -> Result<Operand, Malformed> {
    let text = std::str::from_utf8(word).map_err(|_| Malformed)?;
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Operand::Int(i));
    }
    let trimmed = text.trim_start_matches(['+', '-']);
    let negative = text.len() - trimmed.len() > 0 && text.starts_with('-');
    let value = trimmed.parse::<f32>().map_err(|_| Malformed)?;
    Ok(Operand::Real(if negative { -value } else { value }))
}

struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                let rest = &self.data[self.pos..];
                self.pos += rest
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .unwrap_or(rest.len());
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        let len = rest
            .iter()
            .position(|&b| !is_regular(b))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Reads one object into `out`.
    fn object(&mut self, out: &mut Operands, depth: usize) -> Result<(), Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.skip_space();
        let first = self.peek().ok_or(Malformed)?;
        self.pos += 1;
        self.object_from(first, out, depth)
    }

    /// Reads the object whose first byte, `first`, was just read. Array entries are read here
    /// rather than through [`Lexer::object`]: a kerned `TJ` array has dozens.
    #[inline(always)]
    fn object_from(
        &mut self,
        first: u8,
        out: &mut Operands,
        depth: usize,
    ) -> Result<(), Malformed> {
        let item = match first {
            b'/' => {
                let start = out.bytes.len() as u32;
                self.name(&mut out.bytes);
                Operand::Name(start, out.bytes.len() as u32)
            }
            b'(' => {
                let start = out.bytes.len() as u32;
                self.literal(&mut out.bytes)?;
                Operand::Str(start, out.bytes.len() as u32, StringFormat::Literal)
            }
            b'<' if self.peek() == Some(b'<') => {
                self.pos += 1;
                return self.dictionary(out, depth);
            }
            b'<' => {
                let start = out.bytes.len() as u32;
                self.hex(&mut out.bytes)?;
                Operand::Str(start, out.bytes.len() as u32, StringFormat::Hexadecimal)
            }
            b'[' => return self.array(out, depth),
            b if starts_object(b) => {
                self.pos -= 1;
                self.number()?
            }
            b if is_regular(b) => {
                self.pos -= 1;
                self.keyword()?
            }
            _ => return Err(Malformed),
        };
        out.items.push(item);
        Ok(())
    }

    /// An array's entries, after its `[`.
    fn array(&mut self, out: &mut Operands, depth: usize) -> Result<(), Malformed> {
        let at = out.items.len();
        out.items.push(Operand::Array { len: 0 });
        loop {
            self.skip_space();
            let next = self.peek().ok_or(Malformed)?;
            self.pos += 1;
            if next == b']' {
                let len = (out.items.len() - at - 1) as u32;
                out.items[at] = Operand::Array { len };
                return Ok(());
            }
            // Entries are one level deeper.
            if depth >= MAX_DEPTH {
                return Err(Malformed);
            }
            self.object_from(next, out, depth + 1)?;
        }
    }

    fn number(&mut self) -> Result<Operand, Malformed> {
        match self.plain_number() {
            Some(number) => Ok(number),
            None => general_number(self.word()),
        }
    }

    /// A number written the usual way with at most 8 digits (`-12`, `3.5`, `.25`), read as its
    /// digits are scanned: kerned text has a number between every two strings. `None`
    /// (nothing consumed) for anything else, which [`general_number`] reads. The results are
    /// its exactly: a decimal's digits make an integer below 2^24, so both it and the power of
    /// ten are exact in `f32` and one division is the correctly rounded value (Clinger's fast
    /// path).
    fn plain_number(&mut self) -> Option<Operand> {
        let rest = &self.data[self.pos..];
        let (negative, mut i) = match rest.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let mut mantissa = 0u64;
        let mut digits = 0usize;
        let mut fraction: Option<usize> = None;
        while let Some(&b) = rest.get(i) {
            match b {
                b'0'..=b'9' => {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    digits += 1;
                    if let Some(f) = fraction.as_mut() {
                        *f += 1;
                    }
                }
                b'.' if fraction.is_none() => fraction = Some(0),
                _ => break,
            }
            i += 1;
            if digits > 8 {
                return None;
            }
        }
        if digits == 0 || rest.get(i).is_some_and(|&b| is_regular(b)) {
            return None;
        }
        let number = match fraction {
            None => {
                let value = mantissa as i64;
                Operand::Int(if negative { -value } else { value })
            }
            Some(_) if mantissa > 1 << 24 => return None,
            Some(places) => {
                const POWERS: [f32; 9] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
                let value = mantissa as f32 / POWERS[places];
                Operand::Real(if negative { -value } else { value })
            }
        };
        self.pos += i;
        Some(number)
    }

    fn name(&mut self, out: &mut Vec<u8>) {
        let raw = self.word();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'#'
                && let Some(v) = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(raw[i]);
            i += 1;
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let mut open = 1usize;
        loop {
            // Plain bytes up to the next parenthesis or escape are copied as they are.
            let rest = &self.data[self.pos..];
            let plain = rest
                .iter()
                .position(|&b| matches!(b, b'(' | b')' | b'\\'))
                .ok_or(Malformed)?;
            out.extend_from_slice(&rest[..plain]);
            let b = rest[plain];
            self.pos += plain + 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(());
                    }
                    out.push(b);
                }
                _ => {
                    let e = self.peek().ok_or(Malformed)?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        // A backslash at the end of a line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
            }
        }
    }

    fn hex(&mut self, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let rest = &self.data[self.pos..];
        let end = rest.iter().position(|&b| b == b'>').ok_or(Malformed)?;
        self.pos += end + 1;
        let mut high: Option<u8> = None;
        for &b in &rest[..end] {
            let nibble = HEX_DIGITS[b as usize];
            if nibble == NOT_HEX {
                if is_space(b) {
                    continue;
                }
                return Err(Malformed);
            }
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
        }
        if let Some(h) = high {
            out.push(h << 4); // an odd digit count: the last one is followed by 0
        }
        Ok(())
    }

    /// A dictionary's entries, each key (a name) followed by its value. A key given twice
    /// keeps both entries here; [`Operands::to_objects`] keeps the last, as lopdf does.
    fn dictionary(&mut self, out: &mut Operands, depth: usize) -> Result<(), Malformed> {
        let at = out.items.len();
        out.items.push(Operand::Dict { len: 0 });
        loop {
            self.skip_space();
            match self.peek().ok_or(Malformed)? {
                b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    let len = (out.items.len() - at - 1) as u32;
                    out.items[at] = Operand::Dict { len };
                    return Ok(());
                }
                b'/' => {
                    self.pos += 1;
                    let start = out.bytes.len() as u32;
                    self.name(&mut out.bytes);
                    out.items.push(Operand::Name(start, out.bytes.len() as u32));
                    self.object(out, depth + 1)?;
                }
                _ => return Err(Malformed),
            }
        }
    }

    /// `true`, `false` or `null`; any other word is an operator where an operand belongs.
    fn keyword(&mut self) -> Result<Operand, Malformed> {
        match self.word() {
            b"true" => Ok(Operand::Bool(true)),
            b"false" => Ok(Operand::Bool(false)),
            b"null" => Ok(Operand::Null),
            _ => Err(Malformed),
        }
    }

    /// One object as a lopdf `Object`, for [`object`].
    fn value(&mut self, depth: usize) -> Result<Object, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.skip_space();
        let first = self.peek().ok_or(Malformed)?;
        self.pos += 1;
        let mut bytes = Vec::new();
        Ok(match first {
            b'/' => {
                self.name(&mut bytes);
                Object::Name(bytes)
            }
            b'(' => {
                let start = self.pos;
                self.literal(&mut bytes)?;
                // lopdf turns a line break written inside the string into `\n`; left to it.
                if self.data[start..self.pos].contains(&b'\r') {
                    return Err(Malformed);
                }
                Object::String(bytes, StringFormat::Literal)
            }
            b'<' if self.peek() == Some(b'<') => {
                self.pos += 1;
                let mut dict = Dictionary::new();
                loop {
                    self.skip_space();
                    match self.peek().ok_or(Malformed)? {
                        b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            break Object::Dictionary(dict);
                        }
                        b'/' => {
                            self.pos += 1;
                            let mut key = Vec::new();
                            self.name(&mut key);
                            let value = self.value(depth + 1)?;
                            dict.set(key, value);
                        }
                        _ => return Err(Malformed),
                    }
                }
            }
            b'<' => {
                self.hex(&mut bytes)?;
                Object::String(bytes, StringFormat::Hexadecimal)
            }
            b'[' => {
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek().ok_or(Malformed)? == b']' {
                        self.pos += 1;
                        break Object::Array(items);
                    }
                    items.push(self.value(depth + 1)?);
                }
            }
            b if starts_object(b) => {
                self.pos -= 1;
                let digits_only = self.data[self.pos..]
                    .iter()
                    .take_while(|b| is_regular(**b))
                    .all(u8::is_ascii_digit);
                match self.number()? {
                    Operand::Int(n) if digits_only => match self.reference_after(n) {
                        Some(id) => Object::Reference(id),
                        None => Object::Integer(n),
                    },
                    Operand::Int(n) => Object::Integer(n),
                    Operand::Real(r) => Object::Real(r),
                    _ => return Err(Malformed),
                }
            }
            b if is_regular(b) => {
                self.pos -= 1;
                match self.keyword()? {
                    Operand::Bool(b) => Object::Boolean(b),
                    _ => Object::Null,
                }
            }
            _ => return Err(Malformed),
        })
    }

    /// After the object number `number` (plain digits): ` G R` makes a reference, read here;
    /// anything else is left unread.
    fn reference_after(&mut self, number: i64) -> Option<(u32, u16)> {
        let start = self.pos;
        let found = (|| {
            let number = u32::try_from(number).ok()?;
            self.skip_space();
            let rest = &self.data[self.pos..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || rest.get(digits).is_some_and(|b| is_regular(*b)) {
                return None;
            }
            let generation = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
            self.pos += digits;
            self.skip_space();
            let rest = &self.data[self.pos..];
            if rest.first() != Some(&b'R') || rest.get(1).is_some_and(|b| is_regular(*b)) {
                return None;
            }
            self.pos += 1;
            Some((number, generation))
        })();
        if found.is_none() {
            self.pos = start;
        }
        found
    }

    /// `BI <dict entries> ID <binary> EI`: the binary data may contain anything, so the end is
    /// `EI` between white space (or at the end), the usual reading when `/L` is not given.
    fn skip_inline_image(&mut self) -> Result<(), Malformed> {
        loop {
            self.skip_space();
            if self.peek().is_none() {
                return Err(Malformed);
            }
            if self.data[self.pos..].starts_with(b"ID")
                && self.data.get(self.pos + 2).is_none_or(|b| is_space(*b))
            {
                self.pos += 3;
                break;
            }
            self.object(&mut Operands::default(), 1)?;
        }
        while self.pos < self.data.len() {
            let at_end = |i: usize| self.data.get(i).is_none_or(|b| is_space(*b));
            if self.data[self.pos..].starts_with(b"EI")
                && self.pos > 0
                && is_space(self.data[self.pos - 1])
                && at_end(self.pos + 2)
            {
                self.pos += 2;
                return Ok(());
            }
            self.pos += 1;
        }
        Err(Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::content::Content;

    /// Same operations as lopdf's own parser on the constructs pages use.
    #[test]
    fn reads_what_lopdf_reads() {
        let samples: &[&[u8]] = &[
            b"BT /F1 12 Tf 72 700 Td (Hello, world) Tj ET",
            b"q 1 0 0 1 -3.5 .25 cm [(A) -120 (W) 30.5 (ay)] TJ Q",
            b"BT /F2 9 Tf <0048 0065006C> Tj (nested (paren) and \\(escaped\\) \\101\\n) ' 2 3 (x) \" ET",
            b"/Span <</ActualText (fi) /MCID 3>> BDC (\\\nwrapped) Tj EMC % a comment\n0.5 g",
            b"/Name#20With#23Hash gs 4. 5 -6 re f* true false null d0",
            b"<41 4 2> Tj",
        ];
        for sample in samples {
            let ours = operations(sample).unwrap();
            let theirs = Content::decode(sample).unwrap().operations;
            assert_eq!(
                format!("{ours:?}"),
                format!("{theirs:?}"),
                "{}",
                String::from_utf8_lossy(sample)
            );
        }
    }

    /// The number the scanner reads from `text`, if it reads one.
    fn scanned(text: &str) -> Option<Operand> {
        let data = format!("{text} ");
        Lexer {
            data: data.as_bytes(),
            pos: 0,
        }
        .plain_number()
    }

    #[test]
    fn short_decimals_read_as_the_general_parser_reads_them() {
        for text in [
            "0.1",
            "-.5",
            "4.",
            "+3.25",
            "16777.216",
            "0.0000001",
            "-0.0",
            "1677721.6",
        ] {
            let general = text.trim_start_matches('+').parse::<f32>().unwrap();
            let Some(Operand::Real(fast)) = scanned(text) else {
                panic!("{text} not read as a decimal");
            };
            assert_eq!(fast.to_bits(), general.to_bits(), "{text}");
        }
        for text in ["1.2.3", ".", "-", "12", "1e5", "9999999.9", "1.-2"] {
            assert!(!matches!(scanned(text), Some(Operand::Real(_))), "{text}");
        }
        // Every decimal with up to 6 digits and 0–5 after the point, exhaustively at 4 digits.
        for n in 0..10_000u32 {
            for places in 0..=4 {
                let digits = format!("{n:04}");
                let text = format!("{}.{}", &digits[..4 - places], &digits[4 - places..]);
                let general = text.parse::<f32>().unwrap();
                assert_eq!(scanned(&text), Some(Operand::Real(general)), "{text}");
            }
        }
    }

    #[test]
    fn numbers_read_as_they_are_scanned_are_what_the_general_path_reads() {
        let general = |text: &str| general_number(text.as_bytes()).ok();
        let mut texts: Vec<String> = [
            "0",
            "-2",
            "+7",
            "12345678",
            "123456789",
            "-.5",
            "4.",
            "+3.25",
            ".",
            "-",
            "1.2.3",
            "1e5",
            "16777.216",
            "16777.217",
            "99999.999",
            "0.0000001",
            "1-2",
            "--3",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        for n in (0..2_000_000u32).step_by(997) {
            for places in 0..=7usize {
                let digits = format!("{n:07}");
                texts.push(format!(
                    "-{}.{}",
                    &digits[..7 - places],
                    &digits[7 - places..]
                ));
            }
        }
        for text in &texts {
            for end in [" ", "]", "/", ""] {
                let data = format!("{text}{end}");
                let mut lexer = Lexer {
                    data: data.as_bytes(),
                    pos: 0,
                };
                if let Some(fast) = lexer.plain_number() {
                    assert_eq!(Some(fast), general(text), "{text}");
                    assert_eq!(lexer.pos, text.len(), "{text}");
                } else {
                    assert_eq!(lexer.pos, 0, "{text}");
                }
            }
        }
    }

    /// Every one-byte change of a page-like sample (each position set to each byte that
    /// changes how a token ends or starts) reads or is refused, never panics, and whatever
    /// reads converts to lopdf objects.
    #[test]
    fn mutated_content_reads_or_is_refused() {
        let sample: &[u8] =
            b"q BT /F1 9 Tf [(A\\)b) -12.5 <41 42> 3 [/N <</K (v) /L [1 2]>>]] TJ ET Q % c\n";
        let bytes = b"()<>[]{}/%\\ \n#.-+0a\x00\xff";
        let mut read = 0;
        for at in 0..sample.len() {
            for &b in bytes {
                let mut mutated = sample.to_vec();
                mutated[at] = b;
                if let Ok(ops) = operations(&mutated) {
                    read += 1;
                    assert!(ops.iter().all(|op| !op.operator.is_empty()));
                }
                mutated.truncate(at);
                let _ = operations(&mutated);
            }
        }
        assert!(read > 0);
    }

    #[test]
    fn inline_images_are_skipped_whole() {
        let data = b"q BI /W 2 /H 2 /BPC 8 /CS /G ID \x00EI\xffEI\x10 EI Q (after) Tj";
        let ops = operations(data).unwrap();
        let names: Vec<&str> = ops.iter().map(|o| o.operator.as_str()).collect();
        assert_eq!(names, ["q", "Q", "Tj"]);
    }

    #[test]
    fn deep_or_broken_input_is_refused_not_overflowed() {
        let deep = [b"[".repeat(100_000), b"] Tj".to_vec()].concat();
        assert!(operations(&deep).is_err());
        assert!(operations(b"(unterminated Tj").is_err());
        assert!(operations(b"<zz> Tj").is_err());
    }

    /// The object reader gives lopdf's objects: references, nesting, strings, names, numbers.
    #[test]
    fn objects_read_as_lopdf_reads_them() {
        let samples: &[&[u8]] = &[
            b"<< /Type /Page /Parent 2 0 R /Contents [ 5 0 R 6 0 R ] /MediaBox [0 0 595.3 841.89] >>",
            b"<</Resources<</Font<</F1 7 0 R/F2 8 0 R>>/ProcSet[/PDF/Text]>>/Annots 9 0 R>>",
            b"<< /Subtype /Link /Rect [ 72.5 -3 .5 4. ] /Border [0 0 1] /A << /S /URI /URI (http://x.org/a\\(b\\)) >> >>",
            b"<< /A#20B (nested (paren) \\101\n) /H <48 65 6c6C 6> /N null /T true /F false >>",
            b"[ 1 0 R 2 0 R 3 4 5 0 R 6 ]",
            b"[1 0 R%comment
 2
0
R]",
            b"<< /K [ [1 2] 0 3 ] /Big 12345678901 /Neg -7 /Gen 1 65535 R >>",
            b"<< /Count 3 /Kids [4 0 R] >> trailing bytes endobj",
            b"42",
            b"1 0 R",
            b"(a string) endobj",
        ];
        for sample in samples {
            let ours = object(sample);
            let theirs = lopdf_object(sample);
            assert!(ours.is_some(), "{}", String::from_utf8_lossy(sample));
            assert_eq!(
                format!("{ours:?}"),
                format!("{theirs:?}"),
                "{}",
                String::from_utf8_lossy(sample)
            );
        }
        // What it does not read is left to lopdf, never read differently.
        for refused in [
            &b"[ 0.00-4142502 1 ]"[..],
            b"<< /A 1 0 Rx >>",
            b"<< /A /B",
            b"[ 1 0 obj ]",
            b"<< 1 2 >>",
            b"<< /URI (a\r\nb) >>",
        ] {
            assert_eq!(
                object(refused),
                None,
                "{}",
                String::from_utf8_lossy(refused)
            );
        }
    }

    /// `data` parsed by lopdf, as the one object of an object stream.
    fn lopdf_object(data: &[u8]) -> Option<Object> {
        let mut content = b"1 0\n".to_vec();
        content.extend_from_slice(data);
        let dict = lopdf::dictionary! { "Type" => "ObjStm", "N" => 1, "First" => 4 };
        lopdf::ObjectStream::new(&lopdf::Stream::new(dict, content))
            .ok()?
            .objects
            .remove(&(1, 0))
    }
}
