//! ListParts: the parts S3 holds for an unfinished multipart upload, as S3 counts them (the
//! client's word is not taken for sizes).

use aws_sdk_s3::Client;
use recorder_domain::StoreError;
use recorder_domain::ports::StoredPart;

/// Every part of the upload, page by page (S3 answers at most 1,000 per page).
pub(super) async fn list(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Vec<StoredPart>, StoreError> {
    let mut parts = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_parts()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.take())
            .send()
            .await;
        let page = match out {
            Ok(out) => Page {
                parts: out
                    .parts()
                    .iter()
                    .map(|p| StoredPart {
                        part_number: p.part_number().unwrap_or(0).max(0) as u32,
                        size: p.size().unwrap_or(0).max(0) as u64,
                        etag: p.e_tag().unwrap_or_default().to_owned(),
                    })
                    .collect(),
                next: out
                    .is_truncated()
                    .unwrap_or(false)
                    .then(|| out.next_part_number_marker().map(str::to_owned))
                    .flatten(),
            },
            Err(e)
                if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchUpload") =>
            {
                return Err(StoreError::NotFound(format!(
                    "upload {upload_id} of s3://{bucket}/{key}"
                )));
            }
            Err(e) => {
                // moto answers 200 with a `ListPartsResponse` root where S3 says
                // `ListPartsResult`, which the SDK refuses; the body is read as it is.
                let raw = e
                    .raw_response()
                    .filter(|r| r.status().is_success())
                    .and_then(|r| r.body().bytes())
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .map(parse_page);
                match raw {
                    Some(page) => page,
                    None => {
                        return Err(StoreError::backend(
                            format!("could not list the parts of s3://{bucket}/{key}"),
                            e,
                        ));
                    }
                }
            }
        };
        parts.extend(page.parts);
        match page.next {
            Some(next) => marker = Some(next),
            None => return Ok(parts),
        }
    }
}

struct Page {
    parts: Vec<StoredPart>,
    next: Option<String>,
}

fn parse_page(xml: &str) -> Page {
    let parts = xml
        .split("<Part>")
        .skip(1)
        .map(|p| StoredPart {
            part_number: tag(p, "PartNumber").parse().unwrap_or(0),
            size: tag(p, "Size").parse().unwrap_or(0),
            etag: tag(p, "ETag")
                .replace("&quot;", "\"")
                .replace("&#34;", "\""),
        })
        .collect();
    let head = xml.split("<Part>").next().unwrap_or("");
    let next = (tag(head, "IsTruncated") == "true")
        .then(|| tag(head, "NextPartNumberMarker").to_owned())
        .filter(|m| !m.is_empty());
    Page { parts, next }
}

/// The text of the first `<name>…</name>` in `xml`; empty when absent.
fn tag<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map_or("", |(text, _)| text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_from_the_raw_answer() {
        let xml = "<ListPartsResponse><IsTruncated>true</IsTruncated>\
            <NextPartNumberMarker>2</NextPartNumberMarker>\
            <Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag><Size>5</Size></Part>\
            <Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag><Size>7</Size></Part>\
            </ListPartsResponse>";
        let page = parse_page(xml);
        assert_eq!(page.next.as_deref(), Some("2"));
        assert_eq!(
            page.parts,
            [
                StoredPart {
                    part_number: 1,
                    size: 5,
                    etag: "\"a\"".into()
                },
                StoredPart {
                    part_number: 2,
                    size: 7,
                    etag: "\"b\"".into()
                }
            ]
        );
    }
}
