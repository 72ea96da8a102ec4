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

use crate::{ExtractError, Extracted, Format, Limits};

/// A page header or footer worth keeping once: not empty, and not only a page-number field's
/// value from the last save.
pub(crate) fn is_page_furniture(text: &str) -> bool {
    !text.is_empty() && !text.chars().all(|c| c.is_ascii_digit())
}

pub(crate) fn extract_as(
    format: Format,
    bytes: &[u8],
    limits: &Limits,
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
        Pdf => pdf::extract(bytes, limits),
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
