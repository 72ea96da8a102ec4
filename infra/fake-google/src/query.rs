//! The part of Drive's `q` search language the connector uses: `trashed`, `'<id>' in parents`,
//! `mimeType`, `name` (`=`, `!=`, `contains`), joined with `and`. Anything else is refused as Drive
//! refuses a bad query (400 invalid, location q) rather than silently ignored.

use crate::state::{FileRecord, ROOT_FOLDER_ID};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Trashed(bool),
    InParents(String),
    MimeType { value: String, equal: bool },
    Name { value: String, op: Op },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Word(String),
    Op(&'static str),
}

fn tokenize(q: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '\'' | '"' => {
                let quote = c;
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next()? {
                        '\\' => s.push(chars.next()?),
                        c if c == quote => break,
                        c => s.push(c),
                    }
                }
                tokens.push(Token::Str(s));
            }
            '=' => {
                chars.next();
                tokens.push(Token::Op("="));
            }
            '!' => {
                chars.next();
                (chars.next()? == '=').then_some(())?;
                tokens.push(Token::Op("!="));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '=' | '!' | '\'' | '"') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Some(tokens)
}

/// Parses `q`; `None` when it uses something this fake does not understand.
pub(crate) fn parse(q: &str) -> Option<Vec<Term>> {
    let tokens = tokenize(q)?;
    let mut terms = Vec::new();
    for clause in tokens.split(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("and"))) {
        terms.push(parse_clause(clause)?);
    }
    Some(terms)
}

fn parse_clause(clause: &[Token]) -> Option<Term> {
    use Token::*;
    let op = |t: &Token| match t {
        Op("=") => Some(self::Op::Eq),
        Op("!=") => Some(self::Op::Ne),
        Word(w) if w.eq_ignore_ascii_case("contains") => Some(self::Op::Contains),
        _ => None,
    };
    match clause {
        [Str(id), Word(i), Word(p)] if i.eq_ignore_ascii_case("in") && p == "parents" => {
            Some(Term::InParents(id.clone()))
        }
        [Word(f), o, Word(b)] if f == "trashed" => {
            let value = match b.as_str() {
                "true" => true,
                "false" => false,
                _ => return None,
            };
            match op(o)? {
                self::Op::Eq => Some(Term::Trashed(value)),
                self::Op::Ne => Some(Term::Trashed(!value)),
                self::Op::Contains => None,
            }
        }
        [Word(f), o, Str(v)] if f == "mimeType" => match op(o)? {
            self::Op::Eq => Some(Term::MimeType {
                value: v.clone(),
                equal: true,
            }),
            self::Op::Ne => Some(Term::MimeType {
                value: v.clone(),
                equal: false,
            }),
            self::Op::Contains => None,
        },
        [Word(f), o, Str(v)] if f == "name" => Some(Term::Name {
            value: v.clone(),
            op: op(o)?,
        }),
        _ => None,
    }
}

impl Term {
    pub fn matches(&self, file: &FileRecord) -> bool {
        match self {
            Term::Trashed(t) => file.trashed == *t,
            Term::InParents(id) => {
                let id = if id == "root" {
                    ROOT_FOLDER_ID
                } else {
                    id.as_str()
                };
                file.parents.iter().any(|p| p == id)
            }
            Term::MimeType { value, equal } => (file.mime_type == *value) == *equal,
            Term::Name { value, op: Op::Eq } => file.name == *value,
            Term::Name { value, op: Op::Ne } => file.name != *value,
            // Drive's `contains` on names is a prefix match on words; a substring match is close enough.
            Term::Name {
                value,
                op: Op::Contains,
            } => file.name.to_lowercase().contains(&value.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_connector_query_parses() {
        let terms = parse("'abc' in parents and trashed = false and mimeType != 'application/vnd.google-apps.folder'").unwrap();
        assert_eq!(
            terms,
            vec![
                Term::InParents("abc".into()),
                Term::Trashed(false),
                Term::MimeType {
                    value: "application/vnd.google-apps.folder".into(),
                    equal: false
                }
            ]
        );
    }

    #[test]
    fn escaped_quotes_stay_in_the_string() {
        assert_eq!(
            parse(r"name = 'Dana\'s notes'").unwrap(),
            vec![Term::Name {
                value: "Dana's notes".into(),
                op: Op::Eq
            }]
        );
    }

    #[test]
    fn or_and_unknown_fields_are_refused() {
        assert!(parse("trashed = false or starred = true").is_none());
        assert!(parse("modifiedTime > '2024-01-01'").is_none());
        assert!(parse("name = 'unterminated").is_none());
    }
}
