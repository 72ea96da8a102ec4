//! How a stored file is handed to a browser. Originals carry whatever an uploader or a provider
//! put in them (HTML, SVG with scripts), so they are downloaded as an attachment with a neutral
//! type, never rendered inline on our storage's origin.

/// The response headers a presigned download asks the store to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadAs {
    pub content_disposition: String,
    pub content_type: String,
}

impl DownloadAs {
    /// `attachment` with the file's name (RFC 6266, the name encoded per RFC 5987) and
    /// `application/octet-stream`, whatever type the file was stored with.
    pub fn attachment(file_name: &str) -> Self {
        DownloadAs {
            content_disposition: attachment_disposition(file_name),
            content_type: "application/octet-stream".into(),
        }
    }
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`.
pub fn attachment_disposition(file_name: &str) -> String {
    let name = file_name.trim();
    let name = if name.is_empty() { "file" } else { name };
    // The quoted fallback for old clients: printable ASCII without quotes or path separators.
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char; everything else is percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_name_is_quoted_and_encoded() {
        assert_eq!(
            attachment_disposition("report 2026.pdf"),
            "attachment; filename=\"report 2026.pdf\"; filename*=UTF-8''report%202026.pdf"
        );
    }

    #[test]
    fn quotes_newlines_and_non_ascii_cannot_break_out_of_the_header() {
        let d = attachment_disposition("évil\".html\r\nX-Injected: 1");
        assert!(!d.contains('\r') && !d.contains('\n'), "{d}");
        assert_eq!(
            d,
            "attachment; filename=\"_vil_.html__X-Injected: 1\"; \
             filename*=UTF-8''%C3%A9vil%22.html%0D%0AX-Injected%3A%201"
        );
        assert!(
            attachment_disposition("../etc/passwd")
                .contains("filename=\".._etc_passwd\"; filename*=UTF-8''..%2Fetc%2Fpasswd")
        );
        assert!(attachment_disposition("  ").contains("filename=\"file\""));
    }
}
