//! The chart font, embedded in the binary: DejaVu Sans regular and bold (Bitstream Vera
//! licence, see `assets/fonts/`). plotters' `ab_glyph` backend never looks at system
//! fonts, so a chart looks the same on a laptop, in CI and in a container without fonts.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

/// The family name charts ask for; it resolves only to the embedded font.
pub const FONT_FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts with plotters, once per process.
pub fn ensure_registered() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for (style, bytes) in [
                (FontStyle::Normal, DEJAVU_SANS),
                (FontStyle::Bold, DEJAVU_SANS_BOLD),
            ] {
                register_font(FONT_FAMILY, style, bytes).map_err(|_| {
                    format!(
                        "the embedded chart font ({}) is not a valid TrueType font",
                        style.as_str()
                    )
                })?;
            }
            Ok(())
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_fonts_register() {
        super::ensure_registered().unwrap();
    }
}
