//! Loading a PDF without copying what text extraction never reads.
//!
//! lopdf copies every stream's bytes out of the file when it loads a document. In a text PDF the
//! page content streams are most of the file (73 of 88 MB in the benchmark handbook), and in a
//! scanned or illustrated one the images are; TrueType and CFF font programs are never needed
//! for text. So the load drops all stream data, the small streams text needs (CMaps, and Type1
//! programs for their built-in encodings) are copied back, and each page's content, and each
//! Form XObject a page draws, is read from the file when the page is rendered. Anything this
//! cannot do exactly as lopdf would (damaged cross-reference data, encryption, a stream whose
//! length does not land on `endstream`) falls back to lopdf's ordinary load.
//!
//! What is left once the streams are gone is mostly one page's worth of dictionaries per page:
//! the page itself, its link annotations and their actions (~7 KB a page as lopdf holds them,
//! 160 MB for a 23,000-page book), and in some files thousands of font encodings. The load keeps
//! these as `null`, and they are read from the file again when used, a page's objects for the
//! one page being rendered (by `pdf_content::object`, or lopdf's parser where that is unsure).
//! One that cannot be read again, or reading more than the document's allowance again, sends
//! the document to lopdf's ordinary load.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use flate2::{Decompress, FlushDecompress, Status};
use lopdf::xref::XrefEntry;
use lopdf::{
    DecompressError, Dictionary, Document, LoadOptions, Object, ObjectId, ObjectStream, Stream,
    dictionary,
};

use crate::detect::find;
use crate::formats::pdf_content;

/// Where page content streams are read from.
pub(crate) enum Contents<'a> {
    /// lopdf loaded every stream's data.
    Loaded,
    /// Page content streams and Form XObjects are read from the file on demand.
    Lazy {
        file: &'a [u8],
        spans: HashMap<ObjectId, Range<usize>>,
        /// One inflater for every stream: setting one up (its window zeroed) per stream was
        /// a few percent of the time on pages of kerned text.
        inflater: Box<RefCell<Decompress>>,
        /// How pages, links and actions are read again.
        reread: Reread,
        /// The pages, numbered, as lopdf's ordinary load lists them.
        pages: Vec<(u32, ObjectId)>,
    },
}

/// Reading again what the load left in the file.
pub(crate) struct Reread {
    /// Every top-level object's offset, sorted: an object is read up to the next one, as
    /// lopdf bounds it.
    offsets: Vec<usize>,
    xref_start: usize,
    /// Object streams decoded, most recent last: a page's annotations are usually in one of
    /// the few its neighbours used.
    object_streams: RefCell<Vec<(u32, std::rc::Rc<Members>)>>,
    /// Decompression bound for an object stream.
    max_stream: usize,
    /// Bytes that may still be read again (objects parsed, object streams decoded). A file
    /// that makes every page read the same large objects again runs out of it, and goes to
    /// the ordinary load, which reads each object once.
    allowance: std::cell::Cell<usize>,
}

/// Object streams kept decoded, and their most bytes together.
const OBJECT_STREAMS_KEPT: usize = 4;
const OBJECT_STREAM_BYTES_KEPT: usize = 8 * 1024 * 1024;

/// A decoded object stream: its data and where each member starts in it.
pub(crate) struct Members {
    data: Vec<u8>,
    /// Member number → its start, as the stream's index gives it (later entries win, as in
    /// lopdf's map).
    starts: HashMap<u32, usize>,
    /// Every start, sorted: a member ends where the next one starts.
    sorted: Vec<usize>,
}

impl Members {
    /// The stream's data and index, read as lopdf's `ObjectStream` reads them.
    fn decode(stream: &Stream, max_stream: usize) -> Option<Members> {
        let data = stream.get_plain_content_with_limit(max_stream).ok()?;
        let first =
            usize::try_from(stream.dict.get(b"First").and_then(Object::as_i64).ok()?).ok()?;
        let index = std::str::from_utf8(data.get(..first)?).ok()?;
        let numbers: Vec<Option<u32>> = index
            .split(['\r', '\n'])
            .flat_map(|line| {
                line.split('%')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
            })
            .map(|n| n.parse().ok())
            .collect();
        let mut starts = HashMap::new();
        for pair in numbers.chunks_exact(2) {
            if let [Some(number), Some(offset)] = *pair {
                // lopdf skips a member that starts past the data.
                let start = first.saturating_add(offset as usize);
                if start < data.len() {
                    starts.insert(number, start);
                }
            }
        }
        let mut sorted: Vec<usize> = starts.values().copied().collect();
        sorted.sort_unstable();
        Some(Members {
            data,
            starts,
            sorted,
        })
    }

    /// Member `number`, up to where the next member starts, and the bytes that took.
    fn get(&self, number: u32) -> Option<(Object, usize)> {
        let start = *self.starts.get(&number)?;
        let next = self.sorted.partition_point(|&s| s <= start);
        let end = self.sorted.get(next).copied().unwrap_or(self.data.len());
        let data = self.data.get(start..end)?;
        Some((one_object(data, number)?, data.len()))
    }
}

/// References followed in a chain before giving up, as lopdf's.
const MAX_REFERENCE_CHAIN: usize = 128;

/// Depth of the page tree walked for inherited resources, as lopdf's.
const MAX_TREE_DEPTH: usize = 100;

/// Stream dictionaries are small; one whose `stream` keyword is further than this from the
/// object's start is left to lopdf.
const MAX_DICT_BYTES: usize = 1024 * 1024;

/// Type1 programs are tens of kilobytes; a larger one is left in the file (its font then falls
/// back to StandardEncoding) rather than copied into memory.
const MAX_TYPE1_PROGRAM_BYTES: usize = 4 * 1024 * 1024;

/// A document whose page contents stay in `file`, or `None` where lopdf's own load must be used.
/// For files that do not mention `/Encrypt` (the caller checks): lopdf decrypts encrypted ones
/// whole, whatever the filter.
/// `allowance` bounds the bytes read again for pages' objects (see [`Reread`]).
pub(crate) fn load(
    file: &[u8],
    max_stream: usize,
    allowance: usize,
) -> Option<(Document, Contents<'_>)> {
    let options = LoadOptions {
        max_decompressed_size: Some(max_stream),
        filter: Some(leave_in_file),
        ..LoadOptions::default()
    };
    let mut doc = Document::load_mem_with_options(file, options).ok()?;
    // A filtered load skips lopdf's repair of a damaged page tree, so repaired files go the
    // ordinary way.
    if doc.xref_recovery.is_some() || doc.trailer.get(b"Encrypt").is_ok() {
        return None;
    }
    // Offsets count from the header, as lopdf reads them.
    let body = &file[find(file, b"%PDF-").unwrap_or(0)..];
    let mut offsets: Vec<usize> = (doc.reference_table.entries.values())
        .filter_map(|entry| match entry {
            XrefEntry::Normal { offset, .. } => Some(*offset as usize),
            _ => None,
        })
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let reread = Reread {
        offsets,
        xref_start: doc.xref_start,
        object_streams: RefCell::new(Vec::new()),
        max_stream,
        allowance: std::cell::Cell::new(allowance),
    };
    let mut contents = Contents::Lazy {
        file: body,
        spans: HashMap::new(),
        inflater: Box::new(RefCell::new(Decompress::new(true))),
        reread,
        pages: Vec::new(),
    };
    // Each page is read once here, for its content streams and to list it as lopdf's ordinary
    // load would: that load skips a page-tree entry with another `/Type` (a link, say), which
    // this one, seeing `null`, cannot tell from a page.
    let mut pages = Vec::new();
    let mut page_contents = HashSet::new();
    for id in doc.page_iter() {
        let dict = contents.page_dict(&doc, id).ok()?;
        if matches!(dict.get_type(), Ok(kind) if kind != b"Page") {
            continue;
        }
        page_contents.extend(self::page_contents(&doc, &dict));
        pages.push((pages.len() as u32 + 1, id));
    }
    let unread_programs = font_programs(&doc, &[b"FontFile2", b"FontFile3"]);
    let type1_programs = font_programs(&doc, &[b"FontFile"]);
    let mut read_later = HashMap::new();
    let mut restore = Vec::new();
    for (&id, object) in &doc.objects {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !stream.content.is_empty()
            || (!page_contents.contains(&id)
                && (never_read(&stream.dict) || unread_programs.contains(&id)))
        {
            continue;
        }
        let Some(XrefEntry::Normal { offset, .. }) = doc.reference_table.get(id.0) else {
            continue;
        };
        let span = data_span(body, *offset as usize, length(&doc, &stream.dict)?)?;
        if type1_programs.contains(&id) && span.len() > MAX_TYPE1_PROGRAM_BYTES {
            continue;
        }
        if page_contents.contains(&id) || is_form(&stream.dict) {
            read_later.insert(id, span);
        } else {
            restore.push((id, span));
        }
    }
    for (id, span) in restore {
        if let Ok(Object::Stream(stream)) = doc.get_object_mut(id) {
            stream.content = body[span].to_vec();
        }
    }
    if let Contents::Lazy {
        spans, pages: all, ..
    } = &mut contents
    {
        *spans = read_later;
        *all = pages;
    }
    Some((doc, contents))
}

impl Reread {
    /// Object `id` read again: from its offset, or from its object stream. `None` if it cannot
    /// be, or the allowance is spent.
    fn read(&self, doc: &Document, file: &[u8], id: ObjectId) -> Option<Object> {
        let (object, used) = match *doc.reference_table.get(id.0)? {
            XrefEntry::Normal { offset, .. } => {
                let offset = offset as usize;
                let next = self.offsets.partition_point(|&o| o <= offset);
                let end = (self.offsets.get(next).copied().into_iter())
                    .chain((self.xref_start > offset).then_some(self.xref_start))
                    .min()
                    .unwrap_or(file.len())
                    .min(file.len());
                read_at(file.get(offset..end)?, id)?
            }
            XrefEntry::Compressed { container, .. } => self.members(doc, container)?.get(id.0)?,
            _ => return None,
        };
        self.spend(used).then_some(object)
    }

    /// Takes `bytes` from the allowance; `false` once it is spent.
    fn spend(&self, bytes: usize) -> bool {
        let left = self.allowance.get();
        self.allowance.set(left.saturating_sub(bytes));
        bytes <= left
    }

    /// Object stream `container`, decoded, from those kept or decoded now.
    fn members(&self, doc: &Document, container: u32) -> Option<std::rc::Rc<Members>> {
        let mut kept = self.object_streams.borrow_mut();
        if let Some(at) = kept.iter().position(|(number, _)| *number == container) {
            let entry = kept.remove(at);
            kept.push(entry);
        } else {
            let stream = doc.get_object((container, 0)).and_then(Object::as_stream);
            let members = Members::decode(stream.ok()?, self.max_stream)?;
            if !self.spend(members.data.len()) {
                return None;
            }
            kept.push((container, std::rc::Rc::new(members)));
            let total = |kept: &Vec<(u32, std::rc::Rc<Members>)>| {
                kept.iter().map(|(_, m)| m.data.len()).sum::<usize>()
            };
            while kept.len() > 1
                && (kept.len() > OBJECT_STREAMS_KEPT || total(&kept) > OBJECT_STREAM_BYTES_KEPT)
            {
                kept.remove(0);
            }
        }
        kept.last().map(|(_, members)| members.clone())
    }
}

/// Load filter: keep the data of object and cross-reference streams (the load itself reads
/// them), drop every other stream's, and keep pages, links and actions as `null`.
///
/// lopdf keeps a top-level object as the filter left it and an object-stream member as the
/// filter returns it. Streams are never members, so they are changed in place; members are
/// returned as they are (or as `null`).
fn leave_in_file(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    match object {
        Object::Stream(stream) => {
            if !stream.dict.has_type(b"ObjStm") && !stream.dict.has_type(b"XRef") {
                stream.content = Vec::new();
                // An indirect length makes lopdf read the data after the load; without a
                // position it cannot, and the data is found here instead.
                stream.start_position = None;
            }
            Some((id, Object::Null))
        }
        Object::Dictionary(dict) if read_when_used(dict) => {
            *object = Object::Null;
            Some((id, Object::Null))
        }
        Object::Dictionary(dict) if never_read_dict(dict) => None,
        _ => Some((id, object.clone())),
    }
}

/// Named destinations (`<< /D [page /XYZ …] >>`) and the nodes of name and number trees below
/// the root (the ones with `/Limits`): text extraction never reads them, and a LaTeX manual with
/// hyperref has one destination per label and index entry (49,000 in LaTeX's `source3`). Left
/// out of the load altogether.
fn never_read_dict(dict: &Dictionary) -> bool {
    let destination = dict.len() == 1 && matches!(dict.get(b"D"), Ok(Object::Array(_)));
    destination || dict.has(b"Limits")
}

/// Read from the file when used, not kept: a page, a link annotation or an action (read when
/// the page is rendered), and an encoding with `/Differences` (read with its font, once; TeX
/// and LilyPond manuals have thousands, each a few hundred glyph names). A page with a font
/// dictionary written into it stays loaded, as fonts are kept across pages by their place in
/// the document.
fn read_when_used(dict: &Dictionary) -> bool {
    let name = |key: &[u8]| dict.get(key).and_then(Object::as_name).ok();
    (dict.has_type(b"Page") && !has_direct_fonts(dict))
        || name(b"Subtype") == Some(b"Link")
        || dict.has_type(b"Action")
        || name(b"S") == Some(b"URI")
        || dict.has(b"Differences")
}

fn has_direct_fonts(page: &Dictionary) -> bool {
    let Ok(Object::Dictionary(resources)) = page.get(b"Resources") else {
        return false;
    };
    let Ok(Object::Dictionary(fonts)) = resources.get(b"Font") else {
        return false;
    };
    fonts.iter().any(|(_, font)| font.as_dict().is_ok())
}

/// The object `N G obj …` in `data` (from its offset to the next object's), and the bytes that
/// took; `None` if another object is there or it does not parse.
fn read_at(data: &[u8], id: ObjectId) -> Option<(Object, usize)> {
    let keyword = find(data, b"obj")?;
    let number = std::str::from_utf8(&data[..keyword])
        .ok()?
        .split_whitespace()
        .next()?;
    if number.parse::<u32>().ok()? != id.0 {
        return None;
    }
    Some((
        one_object(&data[keyword + b"obj".len()..], id.0)?,
        data.len(),
    ))
}

/// The object at the start of `data`: by our reader, or where it is unsure, by lopdf's parser,
/// reached by making `data` the one object of an object stream.
fn one_object(data: &[u8], number: u32) -> Option<Object> {
    if let Some(object) = pdf_content::object(data) {
        return Some(object);
    }
    let mut content = format!("{number} 0\n").into_bytes();
    let first = content.len() as i64;
    content.extend_from_slice(data);
    let dict = dictionary! { "Type" => "ObjStm", "N" => 1, "First" => first };
    ObjectStream::new(&Stream::new(dict, content))
        .ok()?
        .objects
        .remove(&(number, 0))
}

/// The ids of a page's content streams, as lopdf's `get_page_contents` finds them.
pub(crate) fn page_contents(doc: &Document, page: &Dictionary) -> Vec<ObjectId> {
    let mut streams = Vec::new();
    let Ok(mut contents) = page.get(b"Contents") else {
        return streams;
    };
    for _ in 0..MAX_REFERENCE_CHAIN {
        match contents {
            Object::Reference(id) => match doc.objects.get(id) {
                None | Some(Object::Stream(_)) => streams.push(*id),
                Some(other) => {
                    contents = other;
                    continue;
                }
            },
            Object::Array(array) => {
                streams.extend(array.iter().filter_map(|c| c.as_reference().ok()));
            }
            _ => {}
        }
        break;
    }
    streams
}

/// A page's resource dictionaries as lopdf's `get_page_resources` finds them: the nearest one
/// written into the page or a page-tree node, and the ids of those referred to on the way up.
pub(crate) fn page_resources<'d>(
    doc: &'d Document,
    page: &'d Dictionary,
) -> lopdf::Result<(Option<&'d Dictionary>, Vec<ObjectId>)> {
    let (mut direct, mut ids) = (None, Vec::new());
    let mut node = page;
    let mut seen = HashSet::new();
    loop {
        match node.get(b"Resources") {
            Ok(Object::Reference(id)) => ids.push(*id),
            Ok(Object::Dictionary(dict)) if direct.is_none() && ids.is_empty() => {
                direct = Some(dict);
            }
            _ => {}
        }
        let Ok(parent) = node.get(b"Parent").and_then(Object::as_reference) else {
            return Ok((direct, ids));
        };
        if !seen.insert(parent) {
            return Err(lopdf::Error::ReferenceCycle(parent));
        }
        if seen.len() > MAX_TREE_DEPTH {
            return Err(lopdf::Error::RecursionLimit);
        }
        node = doc.get_dictionary(parent)?;
    }
}

/// Images, font programs and XML metadata: text extraction never reads them.
fn never_read(dict: &Dictionary) -> bool {
    let subtype = dict.get(b"Subtype").and_then(Object::as_name).ok();
    matches!(
        subtype,
        Some(b"Image" | b"Type1C" | b"CIDFontType0C" | b"OpenType")
    ) || dict.has_type(b"Metadata")
}

/// The streams font descriptors name under `keys`. TrueType and CFF programs (`/FontFile2`,
/// `/FontFile3`) are never read; Type1 programs (`/FontFile`) are, for the built-in encoding in
/// their clear text, which TeX fonts rely on. `/Length1` does not tell which stream is a
/// program: some producers give it to every stream, page contents and ToUnicode CMaps included.
fn font_programs(doc: &Document, keys: &[&[u8]]) -> HashSet<ObjectId> {
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .flat_map(|d| {
            keys.iter()
                .filter_map(|k| d.get(k).and_then(Object::as_reference).ok())
        })
        .collect()
}

/// A Form XObject: read like page content, when a page draws it.
fn is_form(dict: &Dictionary) -> bool {
    dict.get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|s| s == b"Form")
}

fn length(doc: &Document, dict: &Dictionary) -> Option<usize> {
    let (_, value) = doc.dereference(dict.get(b"Length").ok()?).ok()?;
    usize::try_from(value.as_i64().ok()?).ok()
}

/// The data of the stream object at `offset`: after its `stream` keyword and end of line, and
/// followed by `endstream` exactly where the length says, as lopdf requires before it guesses.
fn data_span(body: &[u8], offset: usize, length: usize) -> Option<Range<usize>> {
    let window = body.get(offset..)?;
    let window = &window[..window.len().min(MAX_DICT_BYTES)];
    let keyword = find(window, b"stream")?;
    let mut start = offset + keyword + b"stream".len();
    while matches!(body.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    start += eol(&body[start..])?;
    let end = start.checked_add(length)?;
    let after = body.get(end..)?;
    let after = &after[eol(after).unwrap_or(0)..];
    after.starts_with(b"endstream").then_some(start..end)
}

fn eol(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'\r', b'\n', ..] => Some(2),
        [b'\n' | b'\r', ..] => Some(1),
        _ => None,
    }
}

impl Contents<'_> {
    /// The pages, numbered, as lopdf's ordinary load lists them.
    pub(crate) fn pages(&self, doc: &Document) -> Vec<(u32, ObjectId)> {
        match self {
            Contents::Loaded => doc.get_pages().into_iter().collect(),
            Contents::Lazy { pages, .. } => pages.clone(),
        }
    }

    /// The object `id` (`None` if the document has none): the document's, or, for one the
    /// load kept as `null`, read from the file now. An error if that cannot be done: the
    /// document then needs lopdf's ordinary load.
    pub(crate) fn object<'d>(
        &self,
        doc: &'d Document,
        id: ObjectId,
    ) -> lopdf::Result<Option<Cow<'d, Object>>> {
        let Some(found) = doc.objects.get(&id) else {
            return Ok(None);
        };
        match (found, self) {
            (Object::Null, Contents::Lazy { file, reread, .. }) => reread
                .read(doc, file, id)
                .map(|object| Some(Cow::Owned(object)))
                .ok_or(lopdf::Error::ObjectNotFound(id)),
            _ => Ok(Some(Cow::Borrowed(found))),
        }
    }

    /// `object` with references followed, as lopdf's `dereference` does; `None` where the
    /// chain ends at nothing.
    pub(crate) fn resolve<'d>(
        &self,
        doc: &'d Document,
        object: &'d Object,
    ) -> lopdf::Result<Option<Cow<'d, Object>>> {
        let mut current = Cow::Borrowed(object);
        for _ in 0..MAX_REFERENCE_CHAIN {
            let Object::Reference(id) = *current else {
                return Ok(Some(current));
            };
            match self.object(doc, id)? {
                Some(next) => current = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// A page's dictionary, read from the file if the load left it there; an empty one (a
    /// blank page, as lopdf reads it) if there is none.
    pub(crate) fn page_dict<'d>(
        &self,
        doc: &'d Document,
        page: ObjectId,
    ) -> lopdf::Result<Cow<'d, Dictionary>> {
        Ok(match self.object(doc, page)? {
            Some(Cow::Borrowed(Object::Dictionary(dict))) => Cow::Borrowed(dict),
            Some(Cow::Owned(Object::Dictionary(dict))) => Cow::Owned(dict),
            _ => Cow::Owned(Dictionary::new()),
        })
    }

    /// The page's content streams decoded and joined, at most `limit` bytes, as lopdf's
    /// `get_page_content_with_limit` gives them.
    pub(crate) fn page(
        &self,
        doc: &Document,
        page: ObjectId,
        dict: &Dictionary,
        limit: usize,
    ) -> lopdf::Result<Vec<u8>> {
        if let Contents::Loaded = self {
            return doc.get_page_content_with_limit(page, limit);
        }
        let mut content = Vec::new();
        for id in page_contents(doc, dict) {
            let remaining = limit.saturating_sub(content.len());
            match self.stream(doc, id, remaining) {
                // Most pages have one content stream: it is used as it is, not copied.
                Ok(data) if content.is_empty() => content = data,
                Ok(data) => content.extend_from_slice(&data),
                Err(e @ lopdf::Error::Decompress(_)) => return Err(e),
                Err(_) => continue,
            }
            content.push(b'\n');
        }
        Ok(content)
    }

    /// One stream's data decoded, at most `limit` bytes: from the file when it was left there.
    /// Data that cannot be decoded is used as it is, as lopdf does; anything over the limit is
    /// `MemoryLimitExceeded`.
    pub(crate) fn stream(
        &self,
        doc: &Document,
        id: ObjectId,
        limit: usize,
    ) -> lopdf::Result<Vec<u8>> {
        let exceeded = || lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { limit });
        let stream = doc.get_object(id).and_then(Object::as_stream)?;
        let read;
        let stream = match self {
            Contents::Lazy {
                file,
                spans,
                inflater,
                ..
            } => match spans.get(&id) {
                Some(span) => {
                    let data = &file[span.clone()];
                    if let Some(inflated) =
                        inflate(&stream.dict, data, limit, &mut inflater.borrow_mut())
                    {
                        return Ok(inflated);
                    }
                    read = Stream {
                        dict: stream.dict.clone(),
                        content: data.to_vec(),
                        allows_compression: true,
                        start_position: None,
                    };
                    &read
                }
                None => stream,
            },
            Contents::Loaded => stream,
        };
        match stream.decompressed_content_with_limit(limit) {
            Ok(data) => Ok(data),
            Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                Err(exceeded())
            }
            Err(_) if stream.content.len() <= limit => Ok(stream.content.clone()),
            Err(_) => Err(exceeded()),
        }
    }
}

/// A stream whose one filter is FlateDecode, without a predictor, inflated by `inflater` into
/// a buffer sized from the data, with no copy of the data. `None` for any other stream, for
/// output over `limit` and for data that does not inflate cleanly to its end: lopdf's decoder
/// then reads it by its own rules (a partial result, raw deflate, the limit error).
fn inflate(
    dict: &Dictionary,
    data: &[u8],
    limit: usize,
    inflater: &mut Decompress,
) -> Option<Vec<u8>> {
    let flate = match dict.get(b"Filter").ok()? {
        Object::Name(name) => name == b"FlateDecode",
        Object::Array(filters) => {
            matches!(filters.as_slice(), [Object::Name(name)] if name == b"FlateDecode")
        }
        _ => false,
    };
    if !flate || dict.has(b"DecodeParms") {
        return None;
    }
    inflater.reset(true);
    // Content streams inflate to about four times their size.
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).clamp(64, limit.max(64)));
    loop {
        let read = inflater.total_in() as usize;
        let status = inflater
            .decompress_vec(data.get(read..)?, &mut out, FlushDecompress::None)
            .ok()?;
        if status == Status::StreamEnd {
            return (out.len() <= limit).then_some(out);
        }
        if out.len() > limit {
            return None;
        }
        if out.len() < out.capacity() {
            // Room was left, so the data ran out before the end of the stream.
            return None;
        }
        // Doubled, but never past one byte over the limit (which is then refused above).
        let room = limit.saturating_add(1).saturating_sub(out.len());
        out.reserve_exact(out.len().max(64).min(room));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    const TEXT: &[u8] = b"BT /F1 12 Tf 72 700 Td (lazy) Tj ET";

    /// One page whose content is `TEXT`, plus a ToUnicode-like stream no page lists as content
    /// and an image, as lopdf writes them (offsets in its xref table).
    fn pdf() -> (Vec<u8>, ObjectId, ObjectId) {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, TEXT.to_vec()));
        let cmap = doc.add_object(Stream::new(dictionary! {}, b"cmap data".to_vec()));
        let image = doc.add_object(Stream::new(
            dictionary! { "Subtype" => "Image" },
            vec![7; 1000],
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
            "Extra" => cmap, "Picture" => image,
        });
        (save(doc, pages, page), content, cmap)
    }

    /// Writes `doc` with `page` as its one page under `pages`.
    fn save(doc: Document, pages: ObjectId, page: ObjectId) -> Vec<u8> {
        save_kids(doc, pages, vec![page.into()])
    }

    /// Writes `doc` with `kids` as the entries of its page tree's root `pages`.
    fn save_kids(mut doc: Document, pages: ObjectId, kids: Vec<Object>) -> Vec<u8> {
        let count = kids.len() as i64;
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("save");
        out
    }

    /// A document with one page drawing `TEXT`: its page tree's root, content and page.
    fn text_page() -> (Document, ObjectId, ObjectId, ObjectId) {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, TEXT.to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
        });
        (doc, pages, content, page)
    }

    fn page_of(doc: &Document) -> ObjectId {
        *doc.get_pages().values().next().expect("a page")
    }

    /// The first page's content, as rendering reads it.
    fn first_page(doc: &Document, contents: &Contents) -> Vec<u8> {
        let page = page_of(doc);
        let dict = contents.page_dict(doc, page).expect("page read again");
        contents.page(doc, page, &dict, 1 << 20).expect("page")
    }

    #[test]
    fn page_content_is_read_from_the_file_and_other_streams_are_restored() {
        let (bytes, content, cmap) = pdf();
        let (doc, contents) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
        let Contents::Lazy { spans, .. } = &contents else {
            panic!("expected a lazy load");
        };
        assert_eq!(spans.keys().collect::<Vec<_>>(), vec![&content]);
        let stream = |id| doc.get_object(id).unwrap().as_stream().unwrap();
        assert!(
            stream(content).content.is_empty(),
            "content stays in the file"
        );
        assert_eq!(stream(cmap).content, b"cmap data");
        let page = first_page(&doc, &contents);
        assert_eq!(page, [TEXT, b"\n"].concat());
    }

    /// Pages, links, actions and encodings are `null` after the load and read back as lopdf
    /// reads them, from the file and from an object stream.
    #[test]
    fn pages_links_and_actions_are_read_from_the_file_when_asked_for() {
        for object_streams in [false, true] {
            let mut doc = Document::with_version("1.5");
            let pages = doc.new_object_id();
            let content = doc.add_object(Stream::new(dictionary! {}, TEXT.to_vec()));
            let action = doc.add_object(dictionary! {
                "Type" => "Action", "S" => "URI",
                "URI" => Object::string_literal("https://example.org/(a)"),
            });
            let link = doc.add_object(dictionary! {
                "Type" => "Annot", "Subtype" => "Link",
                "Rect" => vec![70.into(), 695.into(), 110.5.into(), 712.into()], "A" => action,
            });
            let encoding = doc.add_object(dictionary! {
                "Type" => "Encoding", "Differences" => vec![65.into(), "eacute".into()],
            });
            let font = doc.add_object(dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
                "Encoding" => encoding,
            });
            let page = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages, "Contents" => content,
                "Annots" => vec![link.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            });
            let mut bytes = save(doc, pages, page);
            if object_streams {
                let mut doc = Document::load_mem(&bytes).expect("lopdf");
                let options = lopdf::SaveOptions::builder()
                    .use_object_streams(true)
                    .use_xref_streams(true)
                    .build();
                bytes.clear();
                doc.save_with_options(&mut bytes, options).expect("save");
            }
            let full = Document::load_mem(&bytes).expect("lopdf");
            let (doc, contents) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
            for id in [page, link, action, encoding] {
                assert!(matches!(doc.objects.get(&id), Some(Object::Null)), "{id:?}");
                let read = contents.object(&doc, id).expect("read again");
                let read = read.map(|o| format!("{o:?}"));
                let expected = full.get_object(id).ok().map(|o| format!("{o:?}"));
                assert!(read.is_some());
                assert_eq!(read, expected, "object streams: {object_streams}");
            }
            assert_eq!(first_page(&doc, &contents), [TEXT, b"\n"].concat());
        }
    }

    #[test]
    fn named_destinations_and_name_tree_nodes_are_left_out_of_the_load() {
        let (mut doc, pages, content, page) = text_page();
        let at = vec![
            page.into(),
            "XYZ".into(),
            0.into(),
            700.into(),
            Object::Null,
        ];
        let destination = doc.add_object(dictionary! { "D" => at });
        let name = || Object::string_literal("section.1");
        let leaf = doc.add_object(dictionary! {
            "Limits" => vec![name(), name()], "Names" => vec![name(), destination.into()],
        });
        let bytes = save(doc, pages, page);
        let (doc, contents) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
        assert!(!doc.objects.contains_key(&destination));
        assert!(!doc.objects.contains_key(&leaf));
        assert!(doc.objects.contains_key(&content));
        assert_eq!(first_page(&doc, &contents), [TEXT, b"\n"].concat());
    }

    /// A page-tree entry that is a link, not a page, is skipped as lopdf's ordinary load skips
    /// it, though the load kept it as `null`; and a document that would read more again than
    /// it is allowed goes to the ordinary load.
    #[test]
    fn pages_are_listed_as_the_ordinary_load_lists_them() {
        let (mut doc, pages, _, page) = text_page();
        let stray = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Link",
            "Rect" => vec![0.into(), 0.into(), 1.into(), 1.into()],
        });
        let bytes = save_kids(doc, pages, vec![stray.into(), page.into()]);

        let full = Document::load_mem(&bytes).expect("lopdf");
        let (doc, contents) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
        assert!(matches!(doc.objects.get(&stray), Some(Object::Null)));
        let listed: Vec<_> = full.get_pages().into_iter().collect();
        assert_eq!(listed, vec![(1, page)]);
        assert_eq!(contents.pages(&doc), listed);
        assert!(load(&bytes, 1 << 20, 10).is_none(), "over the allowance");
    }

    /// An object stream's index may point past its data: lopdf skips that member, and so does
    /// reading it again (no panic).
    #[test]
    fn a_member_starting_past_the_data_is_skipped() {
        let content = b"10 0 11 99999 <</A 1>>".to_vec();
        let dict = dictionary! { "Type" => "ObjStm", "N" => 2, "First" => 14 };
        let members = Members::decode(&Stream::new(dict, content), 1 << 20).expect("decoded");
        assert!(members.get(11).is_none());
        let (ten, _) = members.get(10).expect("member 10");
        assert_eq!(
            format!("{ten:?}"),
            format!("{:?}", dictionary! { "A" => 1 })
        );
    }

    #[test]
    fn images_are_never_copied() {
        let (bytes, ..) = pdf();
        let (doc, _) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
        let images: Vec<&Stream> = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .filter(|s| never_read(&s.dict))
            .collect();
        assert_eq!(images.len(), 1);
        assert!(images[0].content.is_empty());
    }

    #[test]
    fn a_wrong_direct_length_is_read_as_lopdf_recovered_it() {
        let (bytes, ..) = pdf();
        let written = format!("/Length {}", TEXT.len());
        let at = find(&bytes, written.as_bytes()).expect("length");
        let mut wrong = bytes[..at].to_vec();
        wrong.extend_from_slice(format!("/Length {}", TEXT.len() - 3).as_bytes());
        wrong.extend_from_slice(&bytes[at + written.len()..]);
        let (doc, contents) = load(&wrong, 1 << 20, 1 << 30).expect("lazy load");
        let page = first_page(&doc, &contents);
        let loaded = Document::load_mem(&wrong).expect("lopdf");
        let expected = loaded.get_page_content(page_of(&loaded));
        assert_eq!(page, expected);
    }

    #[test]
    fn a_length_that_cannot_be_read_is_left_to_lopdf() {
        let (bytes, content, _) = pdf();
        let mut doc = Document::load_mem(&bytes).expect("lopdf");
        let stream = doc
            .get_object_mut(content)
            .unwrap()
            .as_stream_mut()
            .unwrap();
        stream.dict.set("Length", Object::Reference((999, 0)));
        let mut unreadable = Vec::new();
        doc.save_to(&mut unreadable).expect("save");
        assert!(find(&unreadable, b"/Length 999 0 R").is_some());
        assert!(load(&unreadable, 1 << 20, 1 << 30).is_none());
    }

    #[test]
    fn forms_stay_in_the_file_and_only_named_font_programs_are_dropped() {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        // This producer gives every stream a `/Length1`, page content and CMap included.
        let content = doc.add_object(Stream::new(dictionary! { "Length1" => 3 }, TEXT.to_vec()));
        let cmap = doc.add_object(Stream::new(
            dictionary! { "Length1" => 9 },
            b"cmap data".to_vec(),
        ));
        let program = doc.add_object(Stream::new(dictionary! {}, vec![1; 500]));
        let descriptor = doc.add_object(dictionary! {
            "Type" => "FontDescriptor", "FontFile2" => program,
        });
        let form = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Form" },
            b"BT (form) Tj ET".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
            "Extra" => cmap, "Descriptor" => descriptor,
            "Resources" => dictionary! { "XObject" => dictionary! { "Fm1" => form } },
        });
        let bytes = save(doc, pages, page);

        let (doc, contents) = load(&bytes, 1 << 20, 1 << 30).expect("lazy load");
        let Contents::Lazy { spans, .. } = &contents else {
            panic!("expected a lazy load");
        };
        let mut spanned: Vec<_> = spans.keys().copied().collect();
        spanned.sort();
        assert_eq!(spanned, vec![content, form]);
        let stream = |id| doc.get_object(id).unwrap().as_stream().unwrap();
        assert!(stream(form).content.is_empty());
        assert!(stream(program).content.is_empty(), "font program copied");
        assert_eq!(stream(cmap).content, b"cmap data");
        assert_eq!(
            contents.stream(&doc, form, 1 << 20).expect("form"),
            b"BT (form) Tj ET"
        );
        assert!(matches!(
            contents.stream(&doc, form, 5),
            Err(lopdf::Error::Decompress(_))
        ));
        let page = first_page(&doc, &contents);
        assert_eq!(page, [TEXT, b"\n"].concat());
    }

    #[test]
    fn a_stream_ending_in_crlf_and_an_indirect_length_are_found() {
        let body = b"1 0 obj\n<< /Length 2 0 R >>\r\nstream\r\nabc\r\nendstream\nendobj\n";
        assert_eq!(data_span(body, 0, 3), Some(37..40));
        // As lopdf: one end of line may sit between the data and `endstream`, nothing else.
        assert_eq!(data_span(body, 0, 5), Some(37..42));
        assert_eq!(data_span(body, 0, 2), None);
    }

    fn deflated(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut writer =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        writer.write_all(data).expect("compress");
        writer.finish().expect("compress")
    }

    #[test]
    fn inflating_gives_lopdfs_bytes_and_leaves_anything_unusual_to_lopdf() {
        let text = TEXT.repeat(500);
        let data = deflated(&text);
        let flate = dictionary! { "Filter" => "FlateDecode" };
        let mut inflater = Decompress::new(true);
        let lopdf = Stream::new(flate.clone(), data.clone())
            .decompressed_content_with_limit(1 << 20)
            .expect("lopdf inflates it");
        // The same bytes, twice from one inflater, and with the filter in an array.
        for dict in [
            flate.clone(),
            flate.clone(),
            dictionary! { "Filter" => vec!["FlateDecode".into()] },
        ] {
            assert_eq!(
                inflate(&dict, &data, 1 << 20, &mut inflater),
                Some(lopdf.clone())
            );
        }
        // Exactly at the limit is read; one byte over is lopdf's to refuse.
        assert_eq!(
            inflate(&flate, &data, text.len(), &mut inflater),
            Some(text.clone())
        );
        assert_eq!(inflate(&flate, &data, text.len() - 1, &mut inflater), None);
        // Cut short, a predictor, another filter: lopdf's rules.
        assert_eq!(
            inflate(&flate, &data[..data.len() / 2], 1 << 20, &mut inflater),
            None
        );
        let predicted = dictionary! {
            "Filter" => "FlateDecode", "DecodeParms" => dictionary! { "Predictor" => 12 },
        };
        assert_eq!(inflate(&predicted, &data, 1 << 20, &mut inflater), None);
        let two = dictionary! {
            "Filter" => vec!["ASCIIHexDecode".into(), "FlateDecode".into()],
        };
        assert_eq!(inflate(&two, &data, 1 << 20, &mut inflater), None);
        assert_eq!(
            inflate(&dictionary! {}, &text, 1 << 20, &mut inflater),
            None
        );
    }
}
