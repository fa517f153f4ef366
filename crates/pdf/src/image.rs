//! Specimen images for the stamp (ECS `imageTTD` / `imageBase64`): JPEG is embedded as is
//! (DCTDecode, only its header is read), PNG is decoded (8-bit, non-interlaced; grey, RGB,
//! palette, with or without alpha) and re-compressed as FlateDecode colour data plus an /SMask
//! for transparency, which most signature specimens have.
//!
//! Untrusted input: every length and index is checked; sizes are capped.

use crate::PdfError;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use std::io::{Read, Write};

/// Largest specimen file accepted.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// Largest width or height in pixels.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// How the pixel data is stored in the PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageData {
    /// A JPEG file, embedded with /DCTDecode; `components` 1 (grey), 3 (RGB) or 4 (CMYK).
    Jpeg {
        /// The whole JPEG file.
        data: Vec<u8>,
        /// Colour components from the frame header.
        components: u8,
    },
    /// Zlib-compressed 8-bit samples (/FlateDecode), `components` 1 or 3, and an optional
    /// zlib-compressed 8-bit alpha channel.
    Flate {
        /// Colour samples, row after row (no PNG filter bytes), zlib-compressed.
        data: Vec<u8>,
        /// 1 (DeviceGray) or 3 (DeviceRGB).
        components: u8,
        /// Alpha samples, zlib-compressed, written as the image's /SMask; None when opaque.
        alpha: Option<Vec<u8>>,
    },
}

/// A checked specimen image, ready to embed as an image XObject in the stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenImage {
    /// Width in pixels (1 to [`MAX_IMAGE_SIDE`]).
    pub width: u32,
    /// Height in pixels (1 to [`MAX_IMAGE_SIDE`]).
    pub height: u32,
    /// The pixels, encoded as they go into the PDF.
    pub data: ImageData,
}

fn bad(msg: &str) -> PdfError {
    PdfError::InvalidPlacement(format!("gambar spesimen / specimen image: {msg}"))
}

/// Reads a JPEG or PNG specimen.
pub fn parse_specimen(bytes: &[u8]) -> Result<SpecimenImage, PdfError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(bad("larger than 8 MiB"));
    }
    let img = if bytes.starts_with(&[0xff, 0xd8]) {
        parse_jpeg(bytes)?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        parse_png(bytes)?
    } else {
        return Err(bad("not a JPEG or PNG file"));
    };
    if img.width == 0
        || img.height == 0
        || img.width > MAX_IMAGE_SIDE
        || img.height > MAX_IMAGE_SIDE
    {
        return Err(bad("width and height must be 1 to 4096 pixels"));
    }
    Ok(img)
}

fn parse_jpeg(b: &[u8]) -> Result<SpecimenImage, PdfError> {
    // Walk the marker segments up to the first start-of-frame.
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xff {
            return Err(bad("broken JPEG marker"));
        }
        let marker = b[i + 1];
        if marker == 0xff {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let is_sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            let seg = b
                .get(i + 4..i + 2 + len)
                .ok_or_else(|| bad("truncated JPEG"))?;
            if seg.len() < 6 {
                return Err(bad("truncated JPEG frame header"));
            }
            let height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
            let width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
            let components = seg[5];
            if !matches!(components, 1 | 3 | 4) {
                return Err(bad("JPEG with unsupported colour components"));
            }
            return Ok(SpecimenImage {
                width,
                height,
                data: ImageData::Jpeg {
                    data: b.to_vec(),
                    components,
                },
            });
        }
        if len < 2 {
            return Err(bad("broken JPEG segment"));
        }
        i += 2 + len;
    }
    Err(bad("JPEG without a frame header"))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn parse_png(b: &[u8]) -> Result<SpecimenImage, PdfError> {
    let mut i = 8;
    let mut header: Option<(u32, u32, u8, u8, u8)> = None;
    let mut idat = Vec::new();
    let mut palette: &[u8] = &[];
    let mut trns: &[u8] = &[];
    while i + 8 <= b.len() {
        let len = be32(&b[i..i + 4]) as usize;
        let kind = &b[i + 4..i + 8];
        let data = b
            .get(i + 8..i.saturating_add(8).saturating_add(len))
            .ok_or_else(|| bad("truncated PNG chunk"))?;
        match kind {
            b"IHDR" if data.len() >= 13 => {
                header = Some((
                    be32(&data[0..4]),
                    be32(&data[4..8]),
                    data[8],
                    data[9],
                    data[12],
                ));
            }
            b"PLTE" => palette = data,
            b"tRNS" => trns = data,
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    let (width, height, depth, color, interlace) = header.ok_or_else(|| bad("PNG without IHDR"))?;
    if depth != 8 || interlace != 0 {
        return Err(bad("only 8-bit, non-interlaced PNG is supported"));
    }
    if width == 0 || height == 0 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(bad("width and height must be 1 to 4096 pixels"));
    }
    let channels: usize = match color {
        0 => 1,
        2 => 3,
        3 => 1,
        4 => 2,
        6 => 4,
        _ => return Err(bad("unsupported PNG colour type")),
    };
    let (w, h) = (width as usize, height as usize);
    let stride = w * channels;
    let expected = (stride + 1) * h;
    let mut raw = Vec::with_capacity(expected);
    ZlibDecoder::new(&idat[..])
        .take(expected as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|_| bad("PNG data does not decompress"))?;
    if raw.len() < expected {
        return Err(bad("PNG data is truncated"));
    }
    let pixels = unfilter(&raw, stride, h, channels)?;

    let out_components: u8 = if matches!(color, 0 | 4) { 1 } else { 3 };
    let mut colour = Vec::with_capacity(w * h * usize::from(out_components));
    let mut alpha: Option<Vec<u8>> = match color {
        4 | 6 => Some(Vec::with_capacity(w * h)),
        3 if !trns.is_empty() => Some(Vec::with_capacity(w * h)),
        _ => None,
    };
    for px in pixels.chunks_exact(channels) {
        match color {
            0 => colour.push(px[0]),
            2 => colour.extend_from_slice(&px[..3]),
            3 => {
                let idx = usize::from(px[0]);
                let rgb = palette
                    .get(idx * 3..idx * 3 + 3)
                    .ok_or_else(|| bad("PNG palette index out of range"))?;
                colour.extend_from_slice(rgb);
                if let Some(a) = alpha.as_mut() {
                    a.push(trns.get(idx).copied().unwrap_or(255));
                }
            }
            4 => {
                colour.push(px[0]);
                if let Some(a) = alpha.as_mut() {
                    a.push(px[1]);
                }
            }
            _ => {
                colour.extend_from_slice(&px[..3]);
                if let Some(a) = alpha.as_mut() {
                    a.push(px[3]);
                }
            }
        }
    }
    Ok(SpecimenImage {
        width,
        height,
        data: ImageData::Flate {
            data: deflate(&colour)?,
            components: out_components,
            alpha: alpha.map(|a| deflate(&a)).transpose()?,
        },
    })
}

/// Reverses PNG's per-row filters (None, Sub, Up, Average, Paeth).
fn unfilter(raw: &[u8], stride: usize, h: usize, bpp: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = vec![0u8; stride * h];
    for y in 0..h {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let filter = line[0];
        let src = &line[1..];
        let (prev_rows, rest) = out.split_at_mut(y * stride);
        let prev: Option<&[u8]> = if y > 0 {
            Some(&prev_rows[(y - 1) * stride..])
        } else {
            None
        };
        let cur = &mut rest[..stride];
        for x in 0..stride {
            let a = if x >= bpp { cur[x - bpp] } else { 0 };
            let b = prev.map_or(0, |p| p[x]);
            let c = if x >= bpp {
                prev.map_or(0, |p| p[x - bpp])
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                _ => return Err(bad("unknown PNG row filter")),
            };
            cur[x] = src[x].wrapping_add(predicted);
        }
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|_| bad("compression failed"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]); // CRC is not checked
        c
    }

    /// A PNG of `w` x `h` RGBA pixels, each row with filter `filter` (0 or 1).
    pub(crate) fn png_rgba(w: u32, h: u32, rgba: [u8; 4], filter: u8) -> Vec<u8> {
        let mut raw = Vec::new();
        for _ in 0..h {
            raw.push(filter);
            for x in 0..w {
                if filter == 1 && x > 0 {
                    raw.extend_from_slice(&[0, 0, 0, 0]);
                } else {
                    raw.extend_from_slice(&rgba);
                }
            }
        }
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(b"IDAT", &deflate(&raw).unwrap()));
        png.extend(chunk(b"IEND", &[]));
        png
    }

    fn inflate(d: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ZlibDecoder::new(d).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn png_rgba_with_sub_filter_splits_alpha() {
        let img = parse_specimen(&png_rgba(3, 2, [200, 10, 20, 128], 1)).unwrap();
        assert_eq!((img.width, img.height), (3, 2));
        let ImageData::Flate {
            data,
            components,
            alpha,
        } = img.data
        else {
            panic!("not flate")
        };
        assert_eq!(components, 3);
        assert_eq!(inflate(&data), [200, 10, 20].repeat(6));
        assert_eq!(inflate(&alpha.unwrap()), vec![128; 6]);
    }

    #[test]
    fn jpeg_header_is_read() {
        // SOI, APP0 (length 4), SOF0 (8 bits, 30 high, 40 wide, 3 components)
        let mut j = vec![0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0];
        j.extend_from_slice(&[0xff, 0xc0, 0, 17, 8, 0, 30, 0, 40, 3]);
        j.extend_from_slice(&[0u8; 9]);
        let img = parse_specimen(&j).unwrap();
        assert_eq!((img.width, img.height), (40, 30));
        assert!(matches!(img.data, ImageData::Jpeg { components: 3, .. }));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(parse_specimen(b"GIF89a").is_err());
        let png = png_rgba(4, 4, [1, 2, 3, 4], 0);
        for cut in 0..png.len() {
            let _ = parse_specimen(&png[..cut]);
        }
        for i in 0..png.len() {
            let mut p = png.clone();
            p[i] ^= 0xa5;
            let _ = parse_specimen(&p);
        }
        let j = [0xff, 0xd8, 0xff, 0xc0, 0, 2];
        assert!(parse_specimen(&j).is_err());
    }
}
