//! Which exposition format a scrape gets: content negotiation on the `Accept` header
//! (0.0.4 text by default, OpenMetrics 1.0.0 when asked for it).

/// The two exposition formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4: the default.
    Text,
    /// OpenMetrics 1.0.0, for clients whose `Accept` asks for it.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// Chooses the format from an `Accept` header: OpenMetrics when the client names
    /// `application/openmetrics-text` (version 1.0.0 or none) with a quality at least as
    /// high as the 0.0.4 text's (`text/plain`, `text/*` or `*/*`); the 0.0.4 text
    /// otherwise, also when the header is absent or names neither.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        // For each format, the quality of the most specific media range that matches it.
        let mut open_metrics: Option<(u8, f32)> = None;
        let mut text: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut quality = 1.0_f32;
            let mut version = None;
            let mut valid = true;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => match value.parse::<f32>() {
                        Ok(q) if (0.0..=1.0).contains(&q) => quality = q,
                        _ => valid = false,
                    },
                    "version" => version = Some(value.to_string()),
                    _ => {}
                }
            }
            if !valid {
                continue;
            }
            let (slot, specificity) = match media.as_str() {
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v == "1.0.0") =>
                {
                    (&mut open_metrics, 2)
                }
                "text/plain" if version.as_deref().is_none_or(|v| v == "0.0.4") => (&mut text, 2),
                "text/*" => (&mut text, 1),
                "*/*" => (&mut text, 0),
                _ => continue,
            };
            if slot.is_none_or(|(best, _)| specificity > best) {
                *slot = Some((specificity, quality));
            }
        }
        let quality = |slot: Option<(u8, f32)>| slot.map_or(0.0, |(_, q)| q);
        if quality(open_metrics) > 0.0 && quality(open_metrics) >= quality(text) {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}
