//! Images: dimensions and a few EXIF facts (when taken, which camera). No OCR.

use std::io::Cursor;

use exif::{In, Tag};

use crate::{ExtractError, Extracted, Format, Metadata};

pub(crate) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    let size =
        imagesize::blob_size(bytes).map_err(|e| ExtractError::corrupt_by(format.label(), e))?;
    let mut metadata = Metadata {
        width: u32::try_from(size.width).ok(),
        height: u32::try_from(size.height).ok(),
        ..Metadata::default()
    };
    let mut description = format!(
        "Image ({}, {} × {} px)",
        format.label(),
        size.width,
        size.height
    );
    if let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        let field = |tag: Tag| {
            exif.get_field(tag, In::PRIMARY)
                .map(|f| {
                    f.display_value()
                        .to_string()
                        .trim_matches('"')
                        .trim()
                        .to_owned()
                })
                .filter(|v| !v.is_empty())
        };
        if let Some(taken) = field(Tag::DateTimeOriginal) {
            description.push_str(&format!(", taken {taken}"));
            metadata.created = Some(taken);
        }
        let camera: Vec<String> = [Tag::Make, Tag::Model]
            .into_iter()
            .filter_map(field)
            .collect();
        if !camera.is_empty() {
            description.push_str(&format!(", camera {}", camera.join(" ")));
        }
        for (key, tag) in [("camera_make", Tag::Make), ("camera_model", Tag::Model)] {
            if let Some(value) = field(tag) {
                metadata.extra.insert(key.to_owned(), value);
            }
        }
    }
    description.push('.');
    Ok(Extracted::new(format, description, metadata))
}
