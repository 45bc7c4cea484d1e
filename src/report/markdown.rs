//! Text from outside (scenario names, directory names, labels) made inert in Markdown: a
//! `|` would end a table cell early, `<script>` would land in the page as HTML, and `*`,
//! `_`, `[`, `` ` `` would turn into emphasis, links or code.

/// `text` as one Markdown table cell or inline text: every character Markdown or HTML
/// would read as markup is escaped, and line breaks become spaces (a cell is one line).
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape_markdown("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape_markdown("a|b"), "a\\|b");
        assert_eq!(escape_markdown("x\\|y"), "x\\\\\\|y");
        assert_eq!(escape_markdown("[link](http://e)"), "\\[link\\](http://e)");
        assert_eq!(escape_markdown("two\nlines"), "two lines");
        assert_eq!(
            escape_markdown("loh 84976 B, 1.2 MB"),
            "loh 84976 B, 1.2 MB"
        );
    }
}
