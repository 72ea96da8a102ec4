//! The data that goes in and comes out of extraction.

use std::collections::BTreeMap;

use serde::Serialize;

/// The real type of a file, as found from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Csv,
    Tsv,
    Json,
    Xml,
    Yaml,
    Html,
    Docx,
    Xlsx,
    Xlsm,
    /// Excel binary workbook (a ZIP of binary parts).
    Xlsb,
    Xls,
    Ods,
    Pptx,
    Odt,
    Odp,
    Epub,
    Pdf,
    Rtf,
    Eml,
    Vtt,
    Srt,
    ZoomChat,
    Png,
    Jpeg,
    Gif,
    Webp,
    Tiff,
    /// HEIF still images (iPhone photos), HEVC-coded.
    Heic,
    Avif,
    Mp3,
    Wav,
    M4a,
    Mp4,
    Mov,
    Webm,
    /// Word 97-2003 (OLE2 compound file).
    Doc,
    /// PowerPoint 97-2003 (OLE2 compound file).
    Ppt,
    /// Outlook message (OLE2 compound file).
    Msg,
    /// A ZIP that is none of the office or e-book formats.
    Zip,
    /// Bytes we could not identify and that are not text.
    Binary,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 42] = {
        use Format::*;
        [
            Text, Markdown, Csv, Tsv, Json, Xml, Yaml, Html, Docx, Xlsx, Xlsm, Xlsb, Xls, Ods,
            Pptx, Odt, Odp, Epub, Pdf, Rtf, Eml, Vtt, Srt, ZoomChat, Png, Jpeg, Gif, Webp, Tiff,
            Heic, Avif, Mp3, Wav, M4a, Mp4, Mov, Webm, Doc, Ppt, Msg, Zip, Binary,
        ]
    };

    /// Audio and video: what a transcription endpoint can turn into text.
    pub fn is_media(self) -> bool {
        use Format::*;
        matches!(self, Mp3 | Wav | M4a | Mp4 | Mov | Webm)
    }

    /// The name people know the format by, used in messages.
    pub fn label(self) -> &'static str {
        use Format::*;
        match self {
            Text => "plain text",
            Markdown => "Markdown",
            Csv => "CSV",
            Tsv => "TSV",
            Json => "JSON",
            Xml => "XML",
            Yaml => "YAML",
            Html => "HTML",
            Docx => "DOCX",
            Xlsx => "XLSX",
            Xlsm => "XLSM",
            Xlsb => "XLSB",
            Xls => "XLS",
            Ods => "ODS",
            Pptx => "PPTX",
            Odt => "ODT",
            Odp => "ODP",
            Epub => "EPUB",
            Pdf => "PDF",
            Rtf => "RTF",
            Eml => "EML",
            Vtt => "WebVTT",
            Srt => "SRT",
            ZoomChat => "Zoom chat",
            Png => "PNG",
            Jpeg => "JPEG",
            Gif => "GIF",
            Webp => "WebP",
            Tiff => "TIFF",
            Heic => "HEIC",
            Avif => "AVIF",
            Mp3 => "MP3",
            Wav => "WAV",
            M4a => "M4A",
            Mp4 => "MP4",
            Mov => "MOV",
            Webm => "WebM",
            Doc => "DOC",
            Ppt => "PPT",
            Msg => "Outlook MSG",
            Zip => "ZIP",
            Binary => "binary data",
        }
    }

    /// The stable name a format is stored and reported by (the same as its serialized form):
    /// records keep it, so a name never changes once given.
    pub fn as_str(self) -> &'static str {
        use Format::*;
        match self {
            Text => "text",
            Markdown => "markdown",
            Csv => "csv",
            Tsv => "tsv",
            Json => "json",
            Xml => "xml",
            Yaml => "yaml",
            Html => "html",
            Docx => "docx",
            Xlsx => "xlsx",
            Xlsm => "xlsm",
            Xlsb => "xlsb",
            Xls => "xls",
            Ods => "ods",
            Pptx => "pptx",
            Odt => "odt",
            Odp => "odp",
            Epub => "epub",
            Pdf => "pdf",
            Rtf => "rtf",
            Eml => "eml",
            Vtt => "vtt",
            Srt => "srt",
            ZoomChat => "zoomchat",
            Png => "png",
            Jpeg => "jpeg",
            Gif => "gif",
            Webp => "webp",
            Tiff => "tiff",
            Heic => "heic",
            Avif => "avif",
            Mp3 => "mp3",
            Wav => "wav",
            M4a => "m4a",
            Mp4 => "mp4",
            Mov => "mov",
            Webm => "webm",
            Doc => "doc",
            Ppt => "ppt",
            Msg => "msg",
            Zip => "zip",
            Binary => "binary",
        }
    }

    /// The format a stored name stands for (see [`Format::as_str`]).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.as_str() == name)
    }

    /// Text-like formats can be relabelled among themselves (a `.csv` read as text is no mismatch).
    pub fn is_textual(self) -> bool {
        use Format::*;
        matches!(
            self,
            Text | Markdown
                | Csv
                | Tsv
                | Json
                | Xml
                | Yaml
                | Html
                | Vtt
                | Srt
                | ZoomChat
                | Eml
                | Rtf
        )
    }
}

/// What `detect` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    pub format: Format,
    /// The type the caller declared (MIME or extension), when it disagrees with the content,
    /// e.g. "declared application/pdf but content is DOCX".
    pub mismatch: Option<String>,
    /// The format the caller declared, when one could be read from the MIME type or file name.
    pub declared: Option<Format>,
}

/// What the caller knows about the file; used only as hints.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub declared_mime: Option<String>,
    pub file_name: Option<String>,
}

impl Hints {
    pub fn named(file_name: &str) -> Self {
        Self {
            declared_mime: None,
            file_name: Some(file_name.to_owned()),
        }
    }
}

/// Ceilings that keep hostile files from exhausting memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Total bytes we are willing to decompress out of one archive.
    pub max_decompressed_bytes: u64,
    pub max_zip_entries: usize,
    /// Deepest nesting accepted for JSON, XML and HTML.
    pub max_nesting_depth: usize,
    pub max_input_bytes: u64,
    /// Longest PDF read. Pages are read one at a time where the file allows, but an encrypted
    /// or damaged one is loaded whole by lopdf, a few KB of parsed objects a page, so page
    /// count bounds that memory.
    pub max_pdf_pages: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 500 * 1024 * 1024,
            max_zip_entries: 10_000,
            max_nesting_depth: 256,
            max_input_bytes: 500 * 1024 * 1024,
            max_pdf_pages: 25_000,
        }
    }
}

/// Facts about a document, filled as far as the format tells them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slide_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// One timed utterance of a transcript or chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub speaker: Option<String>,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// The result of extracting one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extracted {
    pub format: Format,
    pub markdown: String,
    pub metadata: Metadata,
    /// Timed segments, for transcripts and chats; empty otherwise.
    pub segments: Vec<Segment>,
    /// Things a person may want to know, e.g. a declared type that disagreed with the content.
    pub warnings: Vec<String>,
}

impl Extracted {
    pub(crate) fn new(format: Format, markdown: String, metadata: Metadata) -> Self {
        Self {
            format,
            markdown,
            metadata,
            segments: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored on documents: changing one orphans every record that holds it.
    const NAMES: [&str; 42] = [
        "text", "markdown", "csv", "tsv", "json", "xml", "yaml", "html", "docx", "xlsx", "xlsm",
        "xlsb", "xls", "ods", "pptx", "odt", "odp", "epub", "pdf", "rtf", "eml", "vtt", "srt",
        "zoomchat", "png", "jpeg", "gif", "webp", "tiff", "heic", "avif", "mp3", "wav", "m4a",
        "mp4", "mov", "webm", "doc", "ppt", "msg", "zip", "binary",
    ];

    #[test]
    fn every_format_keeps_its_stored_name_and_reads_back_from_it() {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, NAMES);
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.as_str()), Some(f));
            // The name the extract CLI's JSON reports is the same one.
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert_eq!(Format::from_name("Docx"), None, "names are lowercase");
    }
}
