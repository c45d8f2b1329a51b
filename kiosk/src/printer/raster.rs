//! Text drawn as a 1-bit image, for printers without Chinese fonts: the
//! kiosk renders the line itself with a CJK font (ab_glyph) and sends the
//! picture (GS v 0) instead of GB18030 text.

use std::path::Path;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// Where Debian's fonts-noto-cjk puts the font that has every character.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// A loaded font. The file is memory-mapped and lives as long as the kiosk,
/// so its 20 MB only count against memory for the glyphs actually drawn.
pub struct RasterFont {
    font: FontRef<'static>,
}

/// A picture one dot per bit, rows padded to whole bytes, most significant
/// bit leftmost: exactly the data layout of ESC/POS `GS v 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub bits: Vec<u8>,
}

impl Bitmap {
    pub fn bytes_per_row(&self) -> u32 {
        self.width.div_ceil(8)
    }

    pub fn is_set(&self, x: u32, y: u32) -> bool {
        let byte = self.bits[(y * self.bytes_per_row() + x / 8) as usize];
        byte & (0x80 >> (x % 8)) != 0
    }

    pub fn dots(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }
}

impl RasterFont {
    pub fn load(path: &Path) -> anyhow::Result<RasterFont> {
        let file = std::fs::File::open(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot open the font {} for printing Chinese as images: {e}; install fonts-noto-cjk or set [printer] raster_font",
                path.display()
            )
        })?;
        // SAFETY: the font file is not expected to change while the kiosk runs
        // (the same assumption every program that maps fonts makes).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        let data: &'static [u8] = Box::leak(Box::new(map));
        let font = FontRef::try_from_slice_and_index(data, 0)
            .map_err(|e| anyhow::anyhow!("{} is not a usable font: {e}", path.display()))?;
        Ok(RasterFont { font })
    }

    /// Draws `text` centred on a line `width` dots wide and `height` dots
    /// high, shrinking it if it would not fit.
    pub fn render(&self, text: &str, width: u32, height: u32) -> Bitmap {
        let mut scale = PxScale::from(height as f32);
        let mut measured = self.measure(text, scale);
        if measured > width as f32 {
            scale = PxScale::from(height as f32 * width as f32 / measured);
            measured = self.measure(text, scale);
        }
        let scaled = self.font.as_scaled(scale);
        // Centre vertically on the line: the font's ascent and descent span it.
        let baseline = (height as f32 + scaled.ascent() + scaled.descent()) / 2.0;
        let mut bitmap = Bitmap {
            width,
            height,
            bits: vec![0; (width.div_ceil(8) * height) as usize],
        };
        let mut x = ((width as f32 - measured) / 2.0).max(0.0);
        let mut previous = None;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(prev) = previous {
                x += scaled.kern(prev, id);
            }
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(x, baseline));
            x += scaled.h_advance(id);
            previous = Some(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let row_bytes = bitmap.bytes_per_row();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i64 + gx as i64;
                let py = bounds.min.y as i64 + gy as i64;
                if coverage >= 0.5
                    && (0..width as i64).contains(&px)
                    && (0..height as i64).contains(&py)
                {
                    let (px, py) = (px as u32, py as u32);
                    bitmap.bits[(py * row_bytes + px / 8) as usize] |= 0x80 >> (px % 8);
                }
            });
        }
        bitmap
    }

    fn measure(&self, text: &str, scale: PxScale) -> f32 {
        let scaled = self.font.as_scaled(scale);
        let mut previous = None;
        let mut w = 0.0;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(prev) = previous {
                w += scaled.kern(prev, id);
            }
            w += scaled.h_advance(id);
            previous = Some(id);
        }
        w
    }
}
