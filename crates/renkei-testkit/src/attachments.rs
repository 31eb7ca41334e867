//! Synthetic files to attach to documents: a placeholder wound photo (PNG), a one-page PDF,
//! and — for tests of the privacy rule — a JPEG carrying a fake EXIF GPS position, XMP, a
//! comment and a second picture after its end, as phone cameras write them.
//!
//! Everything is made in code from a seed: no real photo or document is ever used.

use img_parts::Bytes;
use img_parts::png::PngChunk;

/// The position written into [`photo_with_gps_jpeg`]'s EXIF and XMP (an invented point in
/// Tokyo Bay), as text that a test can look for in the bytes.
pub const FAKE_GPS_TEXT: &str = "35.6000N 139.8000E";

/// A small RGB picture: a skin-coloured field with a reddish oval in the middle, the size and
/// shade varying with `seed`. Contains only the chunks a decoder needs.
pub fn wound_photo_png(seed: u64) -> Vec<u8> {
    const W: u32 = 160;
    const H: u32 = 112;
    let rx = 30.0 + (seed % 7) as f64 * 3.0;
    let ry = 18.0 + (seed % 5) as f64 * 2.0;
    let shade = (seed % 40) as u8;
    let mut raw = Vec::with_capacity(((W * 3 + 1) * H) as usize);
    for y in 0..H {
        raw.push(0); // filter: none
        for x in 0..W {
            let dx = (f64::from(x) - f64::from(W) / 2.0) / rx;
            let dy = (f64::from(y) - f64::from(H) / 2.0) / ry;
            let rgb = if dx * dx + dy * dy <= 1.0 {
                [200 - shade, 60, 60]
            } else {
                [236, 200 - shade / 2, 170]
            };
            raw.extend_from_slice(&rgb);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&W.to_be_bytes());
    ihdr.extend_from_slice(&H.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    for (kind, contents) in [
        (*b"IHDR", ihdr),
        (*b"IDAT", zlib_stored(&raw)),
        (*b"IEND", Vec::new()),
    ] {
        png.extend_from_slice(&PngChunk::new(kind, Bytes::from(contents)).encoder().bytes());
    }
    png
}

/// zlib without compression (stored blocks): enough for a picture of a few kilobytes, and
/// needs no compressor.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(0xFFFF).collect();
    let last = blocks.len().saturating_sub(1);
    if blocks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == last));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A one-page PDF with a few lines of ASCII text (the standard Helvetica font has no Japanese).
pub fn one_page_pdf(lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("BT /F1 14 Tf 56 780 Td 18 TL\n");
    for line in lines {
        let escaped: String = line
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        text.push_str(&format!("({escaped}) Tj T*\n"));
    }
    text.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.push_str(&format!("{} 0 obj\n{body}\nendobj\n", i + 1));
    }
    let xref = pdf.len();
    pdf.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for o in offsets {
        pdf.push_str(&format!("{o:010} 00000 n \n"));
    }
    pdf.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.into_bytes()
}

/// A JPEG segment: marker and length-prefixed contents.
fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let len = u16::try_from(contents.len() + 2).unwrap_or(u16::MAX);
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&len.to_be_bytes());
    s.extend_from_slice(contents);
    s
}

/// An 8×8 grey baseline JPEG that any decoder shows: one block, DC difference 0, end of block.
/// The Huffman tables have a single one-bit code each, so the scan is the bits `00` padded
/// with ones.
pub fn grey_jpeg() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    let mut dqt = vec![0x00];
    dqt.extend_from_slice(&[1u8; 64]);
    j.extend(segment(0xDB, &dqt));
    j.extend(segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
    let one_code = |class_id: u8| {
        let mut t = vec![class_id, 1];
        t.extend_from_slice(&[0u8; 15]);
        t.push(0); // the one symbol: DC category 0 / AC end of block
        t
    };
    j.extend(segment(0xC4, &one_code(0x00)));
    j.extend(segment(0xC4, &one_code(0x10)));
    j.extend(segment(0xDA, &[1, 1, 0x00, 0, 63, 0]));
    j.push(0x3F);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

/// [`grey_jpeg`] as a phone would write it: an EXIF segment whose GPS IFD holds a position, an
/// XMP packet and a comment repeating it ([`FAKE_GPS_TEXT`]), and after the end of the picture
/// a second one with its own EXIF (as MPF does).
pub fn photo_with_gps_jpeg() -> Vec<u8> {
    let grey = grey_jpeg();
    let body = grey.get(2..).unwrap_or_default();
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, &exif_with_gps()));
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
         xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" exif:GPSLatitude=\"35,36.0N\" \
         exif:GPSLongitude=\"139,48.0E\" exif:UserComment=\"{FAKE_GPS_TEXT}\"/></rdf:RDF>\
         </x:xmpmeta>"
    );
    j.extend(segment(0xE1, xmp.as_bytes()));
    j.extend(segment(
        0xFE,
        format!("taken at {FAKE_GPS_TEXT}").as_bytes(),
    ));
    j.extend_from_slice(body);
    // A second picture after the end of the first, with its own metadata.
    j.extend_from_slice(&[0xFF, 0xD8]);
    j.extend(segment(0xE1, &exif_with_gps()));
    j.extend_from_slice(body);
    j
}

/// `Exif\0\0` and a big-endian TIFF structure: IFD0 with a GPSInfo pointer and an
/// ImageDescription, and a GPS IFD with latitude and longitude.
fn exif_with_gps() -> Vec<u8> {
    fn entry(tag: u16, kind: u16, count: u32, value: u32) -> Vec<u8> {
        let mut e = tag.to_be_bytes().to_vec();
        e.extend_from_slice(&kind.to_be_bytes());
        e.extend_from_slice(&count.to_be_bytes());
        e.extend_from_slice(&value.to_be_bytes());
        e
    }
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    let description = format!("{FAKE_GPS_TEXT}\0");
    // Layout (offsets from the TIFF header): header 8, IFD0 at 8 with 2 entries (2+24+4 = 30),
    // GPS IFD at 38 with 4 entries (2+48+4 = 54), then the values.
    let gps_ifd = 38u32;
    let values = gps_ifd + 54;
    let lat_at = values;
    let lon_at = lat_at + 24;
    let desc_at = lon_at + 24;
    let mut t = b"MM\0\x2A".to_vec();
    t.extend_from_slice(&8u32.to_be_bytes());
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend(entry(
        0x010E,
        ASCII,
        u32::try_from(description.len()).unwrap_or(0),
        desc_at,
    ));
    t.extend(entry(0x8825, LONG, 1, gps_ifd));
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&4u16.to_be_bytes());
    t.extend(entry(0x0001, ASCII, 2, u32::from_be_bytes(*b"N\0\0\0")));
    t.extend(entry(0x0002, RATIONAL, 3, lat_at));
    t.extend(entry(0x0003, ASCII, 2, u32::from_be_bytes(*b"E\0\0\0")));
    t.extend(entry(0x0004, RATIONAL, 3, lon_at));
    t.extend_from_slice(&0u32.to_be_bytes());
    for (num, den) in [(35u32, 1u32), (36, 1), (0, 1), (139, 1), (48, 1), (0, 1)] {
        t.extend_from_slice(&num.to_be_bytes());
        t.extend_from_slice(&den.to_be_bytes());
    }
    t.extend_from_slice(description.as_bytes());
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(t);
    exif
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_files_have_the_signatures_of_their_formats() {
        let png = wound_photo_png(3);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(img_parts::png::Png::from_bytes(Bytes::from(png)).is_ok());
        let pdf = one_page_pdf(&["Synthetic (demo)"]);
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        let jpeg = photo_with_gps_jpeg();
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        let parsed = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(jpeg.clone())).unwrap();
        assert!(
            parsed.segments().iter().any(|s| s.marker() == 0xE1),
            "the EXIF segment is there to be removed"
        );
        let needle = FAKE_GPS_TEXT.as_bytes();
        assert!(jpeg.windows(needle.len()).any(|w| w == needle));
    }
}
