//! One module per format; `extract_as` routes detected bytes to the right one.

pub(crate) mod audio_split;
pub(crate) mod csv;
pub(crate) mod docx;
pub(crate) mod eml;
pub(crate) mod epub;
pub(crate) mod html;
pub(crate) mod image;
pub(crate) mod json;
pub mod media;
pub(crate) mod odf;
pub(crate) mod ooxml;
pub(crate) mod pdf;
pub(crate) mod pdf_content;
pub(crate) mod pdf_glyphs;
pub(crate) mod pdf_lazy;
pub(crate) mod pdf_text;
pub(crate) mod pptx;
pub(crate) mod rtf;
pub mod text;
pub(crate) mod transcript;
pub(crate) mod xlsx;
pub(crate) mod xml;

use crate::markdown::{MarkdownOut, join_blocks};
use crate::{ExtractError, Extracted, Format, Limits};

/// A document's page headers and footers (DOCX, ODT, RTF). Every page repeats them, so each
/// distinct one is kept once: headers before the body, footers after it.
#[derive(Default)]
pub(crate) struct PageFurniture {
    headers: Vec<String>,
    footers: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Furniture {
    Header,
    Footer,
}

impl PageFurniture {
    /// Keeps `text` unless it is empty, already kept, or only a number (a page-number field's
    /// value on the last save).
    pub(crate) fn add(&mut self, which: Furniture, text: &str) {
        let text = text.trim();
        if text.is_empty() || text.chars().all(|c| c.is_ascii_digit()) {
            return;
        }
        let kept = match which {
            Furniture::Header => &mut self.headers,
            Furniture::Footer => &mut self.footers,
        };
        if !kept.iter().any(|k| k == text) {
            kept.push(text.to_owned());
        }
    }

    /// The body's Markdown between the headers and the footers (unchanged, not copied, when
    /// there are none).
    pub(crate) fn around(self, body: String) -> String {
        if self.headers.is_empty() && self.footers.is_empty() {
            return body;
        }
        join_blocks(self.headers.into_iter().chain([body]).chain(self.footers))
    }
}

/// Reads `bytes` as `format`. A PDF's Markdown goes to `out` page by page; every other format's
/// comes back whole in the `Extracted`.
pub(crate) fn extract_as(
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    out: &mut MarkdownOut,
) -> Result<Extracted, ExtractError> {
    use Format::*;
    match format {
        Text => text::extract_text(bytes),
        Markdown => text::extract_markdown(bytes),
        Yaml => text::extract_yaml(bytes),
        Csv | Tsv => csv::extract(bytes, format),
        Json => json::extract(bytes, limits),
        Xml => xml::extract(bytes, limits),
        Html => html::extract(bytes, limits),
        Docx => docx::extract(bytes, limits),
        Xlsx | Xlsm | Xlsb | Xls | Ods => xlsx::extract(bytes, format, limits),
        Pptx => pptx::extract(bytes, limits),
        Odt | Odp => odf::extract(bytes, format, limits),
        Epub => epub::extract(bytes, limits),
        Pdf => pdf::extract(bytes, limits, out),
        Rtf => rtf::extract(bytes, limits),
        Eml => eml::extract(bytes, limits),
        Vtt | Srt | ZoomChat => transcript::extract(bytes, format),
        Png | Jpeg | Gif | Webp | Tiff | Heic | Avif => image::extract(bytes, format),
        Mp3 | Wav | M4a | Mp4 | Mov | Webm => media::extract(bytes, format),
        Doc => Err(ExtractError::Unsupported {
            what: "legacy format: DOC (Word 97-2003); save it as DOCX".into(),
        }),
        Ppt => Err(ExtractError::Unsupported {
            what: "legacy format: PPT (PowerPoint 97-2003); save it as PPTX".into(),
        }),
        Msg => Err(ExtractError::Unsupported {
            what: "format: Outlook MSG; save the e-mail as EML (File > Save As) and upload that"
                .into(),
        }),
        Zip => Err(ExtractError::Unsupported {
            what: "archive: ZIP files are not unpacked; upload the documents inside it".into(),
        }),
        Binary => Err(ExtractError::Unsupported {
            what: "file type: the content is not a document we can read".into(),
        }),
    }
}
