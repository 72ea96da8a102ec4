//! E-mail (RFC 822/MIME): a header table, the body (text/plain preferred, else HTML converted),
//! and the list of attachments with sizes.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};

use crate::formats::html::to_markdown;
use crate::markdown::{join_blocks, normalise, table};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ExtractError::corrupt("EML", "no message headers could be read"))?;
    let from = message.from().map(addresses).unwrap_or_default();
    let to = message.to().map(addresses).unwrap_or_default();
    let cc = message.cc().map(addresses).unwrap_or_default();
    let subject = message.subject().unwrap_or("").to_owned();
    let date = message.date().map(|d| d.to_rfc3339());

    let mut headers = vec![vec!["Header".to_owned(), "Value".to_owned()]];
    for (name, value) in [
        ("From", &from),
        ("To", &to),
        ("Cc", &cc),
        ("Subject", &subject),
        ("Date", &date.clone().unwrap_or_default()),
    ] {
        if !value.is_empty() {
            headers.push(vec![name.to_owned(), value.clone()]);
        }
    }
    let body = body_markdown(&message, limits)?;
    let attachments: Vec<Vec<String>> = message
        .attachments()
        .map(|part| {
            vec![
                part.attachment_name().unwrap_or("(unnamed)").to_owned(),
                format_size(part.len()),
            ]
        })
        .collect();

    let mut blocks = vec![table(&headers), body];
    if !attachments.is_empty() {
        blocks.push("## Attachments".to_owned());
        let mut rows = vec![vec!["Name".to_owned(), "Size".to_owned()]];
        rows.extend(attachments.iter().cloned());
        blocks.push(table(&rows));
    }
    let mut metadata = Metadata {
        title: Some(subject).filter(|s| !s.is_empty()),
        author: Some(from).filter(|f| !f.is_empty()),
        created: date,
        ..Metadata::default()
    };
    metadata
        .extra
        .insert("attachments".to_owned(), attachments.len().to_string());
    if !to.is_empty() {
        metadata.extra.insert("to".to_owned(), to);
    }
    Ok(Extracted::new(Format::Eml, join_blocks(blocks), metadata))
}

/// The first text/plain body, or the first HTML body converted to Markdown.
fn body_markdown(
    message: &mail_parser::Message<'_>,
    limits: &Limits,
) -> Result<String, ExtractError> {
    let first = |ids: &[u32]| ids.first().and_then(|&id| message.parts.get(id as usize));
    if let Some(part) = first(&message.text_body)
        && let PartType::Text(text) = &part.body
    {
        return Ok(normalise(text));
    }
    if let Some(part) = first(&message.html_body)
        && let PartType::Html(html) = &part.body
    {
        return Ok(to_markdown(html, limits)?.0);
    }
    Ok(String::new())
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (None, Some(addr)) => addr.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn format_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
