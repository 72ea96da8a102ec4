//! A content-stream tokenizer (PDF 32000-1 §7.2, §7.3, §8.9.7) producing lopdf's own
//! `Operation`s. lopdf's parser is built from nom combinators that allocate per operand and
//! backtrack between object kinds; after the font and CMap fixes it was half of all PDF time.
//! This one reads each byte once and knows what comes next from the first byte. Anything it
//! cannot read is an error, and the caller falls back to lopdf's own text extraction.

use lopdf::content::Operation;
use lopdf::{Dictionary, Object, StringFormat};

/// Arrays and dictionaries nested deeper than this are refused (real pages nest two or three).
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
pub(crate) struct Malformed;

pub(crate) fn operations(data: &[u8]) -> Result<Vec<Operation>, Malformed> {
    let mut ops = Vec::new();
    each_operation(data, |operator, operands| {
        ops.push(Operation::new(operator, operands.to_vec()));
        Ok::<_, Malformed>(())
    })?;
    Ok(ops)
}

/// Calls `f` with each operation in order, without collecting them: a page's operator names
/// and operand lists were a large share of its allocations. Stops at the first error, from `f`
/// or from the content (`Malformed`), so a caller must drop what a failed stream produced.
pub(crate) fn each_operation<E: From<Malformed>>(
    data: &[u8],
    mut f: impl FnMut(&str, &[Object]) -> Result<(), E>,
) -> Result<(), E> {
    let mut lexer = Lexer { data, pos: 0 };
    let mut operands = Vec::new();
    loop {
        lexer.skip_space();
        let Some(&byte) = data.get(lexer.pos) else {
            break;
        };
        if is_regular(byte) && !starts_object(byte) {
            let word = lexer.word();
            match word {
                b"true" => operands.push(Object::Boolean(true)),
                b"false" => operands.push(Object::Boolean(false)),
                b"null" => operands.push(Object::Null),
                b"BI" => {
                    lexer.skip_inline_image()?;
                    operands.clear();
                }
                _ => {
                    f(std::str::from_utf8(word).map_err(|_| Malformed)?, &operands)?;
                    operands.clear();
                }
            }
        } else {
            operands.push(lexer.object(0)?);
        }
    }
    Ok(())
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_space(b) && !is_delimiter(b)
}

/// Numbers start with a digit, a sign or a point; keywords with anything else regular.
fn starts_object(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
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
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.peek().is_some_and(|b| b != b'\n' && b != b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    fn object(&mut self, depth: usize) -> Result<Object, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.skip_space();
        match self.peek().ok_or(Malformed)? {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name()))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::String(self.literal()?, StringFormat::Literal))
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                self.dictionary(depth)
            }
            b'<' => {
                self.pos += 1;
                Ok(Object::String(self.hex()?, StringFormat::Hexadecimal))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek().ok_or(Malformed)? {
                        b']' => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        _ => items.push(self.object(depth + 1)?),
                    }
                }
            }
            b if starts_object(b) => self.number(),
            b if is_regular(b) => match self.word() {
                b"true" => Ok(Object::Boolean(true)),
                b"false" => Ok(Object::Boolean(false)),
                b"null" => Ok(Object::Null),
                _ => Err(Malformed), // an operator where an operand belongs
            },
            _ => Err(Malformed),
        }
    }

    fn number(&mut self) -> Result<Object, Malformed> {
        let word = self.word();
        let text = std::str::from_utf8(word).map_err(|_| Malformed)?;
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Object::Integer(i));
        }
        // PDF writers emit "-.5", "4." and even "--3"; a sign repeated is still that sign.
        let trimmed = text.trim_start_matches(['+', '-']);
        let negative = text.len() - trimmed.len() > 0 && text.starts_with('-');
        let value = trimmed.parse::<f32>().map_err(|_| Malformed)?;
        Ok(Object::Real(if negative { -value } else { value }))
    }

    fn name(&mut self) -> Vec<u8> {
        let raw = self.word();
        let mut out = Vec::with_capacity(raw.len());
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
        out
    }

    fn literal(&mut self) -> Result<Vec<u8>, Malformed> {
        let mut out = Vec::new();
        let mut open = 1usize;
        loop {
            let b = self.peek().ok_or(Malformed)?;
            self.pos += 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => {
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
                other => out.push(other),
            }
        }
    }

    fn hex(&mut self) -> Result<Vec<u8>, Malformed> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let b = self.peek().ok_or(Malformed)?;
            self.pos += 1;
            let nibble = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                b if is_space(b) => continue,
                _ => return Err(Malformed),
            };
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
        }
        if let Some(h) = high {
            out.push(h << 4); // an odd digit count: the last one is followed by 0
        }
        Ok(out)
    }

    fn dictionary(&mut self, depth: usize) -> Result<Object, Malformed> {
        let mut dict = Dictionary::new();
        loop {
            self.skip_space();
            match self.peek().ok_or(Malformed)? {
                b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(Object::Dictionary(dict));
                }
                b'/' => {
                    self.pos += 1;
                    let key = self.name();
                    let value = self.object(depth + 1)?;
                    dict.set(key, value);
                }
                _ => return Err(Malformed),
            }
        }
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
            self.object(1)?;
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
}
