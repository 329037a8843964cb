//! Outside text (test names and messages, artifact names, registry answers, error
//! texts) made inert for Markdown: the one place the job summary, the bundle's
//! `summary.md` and the stages' Markdown fragments escape what they did not write.

/// Outside text (test names and messages, artifact names, registry answers, error
/// texts) as inert Markdown inline text. Escaped with a backslash: everything that
/// makes a link or an image (`[`, `]`), raw HTML or an entity (`<`, `>`, `&`), code
/// (`` ` ``), a table cell (`|`), math (`$`), strikethrough (`~`), the backslash
/// itself, an autolink (`:` before `//`, the `.` of `www.`), and a block marker at the
/// very start (`#`, `>`, `-`, `+`, `*`, `=`, `1.`). Line breaks become spaces, so the
/// text cannot start a new block (`## ✅ Release audit passed`). Emphasis (`*`, `_`)
/// inside the text stays: it can only change how the text itself looks.
///
/// An @mention (`@alice`, `@org/team`) gets a zero-width space after its `@`: GitHub
/// notifies whoever a Markdown text mentions once it is pasted into an issue, a pull
/// request or a release (a backslash does not stop it: GitHub finds mentions in the
/// rendered text). It reads the same; an address (`a@b.c`) is left as it is.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut chars = s.chars().peekable();
    let mut prev: [char; 3] = ['\0'; 3];
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() && c != '\t' => out.extend(c.escape_default()),
            '\\' | '`' | '[' | ']' | '|' | '~' | '<' | '>' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '-' | '+' | '*' | '=' if first => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if first_digits(&out) => {
                out.push('\\');
                out.push(c);
            }
            '@' if !is_word(prev[2]) && chars.peek().is_some_and(char::is_ascii_alphanumeric) => {
                out.push_str(MENTION_BREAK)
            }
            ':' if chars.peek() == Some(&'/') => out.push_str("\\:"),
            '.' if prev.iter().all(|p| p.eq_ignore_ascii_case(&'w')) => out.push_str("\\."),
            c => out.push(c),
        }
        first = first && c.is_whitespace();
        prev = [prev[1], prev[2], c];
    }
    out
}

/// What an @mention's `@` becomes: followed by a zero-width space, no mention.
pub const MENTION_BREAK: &str = "@\u{200B}";

/// A character GitHub's mention finder counts as part of a word before the `@`.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `out` so far is only digits (after blanks): a `.` or `)` next would make an
/// ordered list item.
fn first_digits(out: &str) -> bool {
    let t = out.trim_start();
    !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit())
}

/// Outside text as the content of a Markdown code span (`` `…` ``), where nothing is
/// markup: backticks (which would end the span) become `'`, line breaks spaces, and in
/// a table cell `|` is escaped (GitHub splits cells on it even inside code).
pub fn md_code(s: &str, in_table: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '`' => out.push('\''),
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() && c != '\t' => out.extend(c.escape_default()),
            '|' if in_table => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    if out.trim().is_empty() { format!("'{out}'") } else { out }
}

#[cfg(test)]
mod tests {
    use super::md_escape;

    #[test]
    fn mentions_are_broken_and_addresses_kept() {
        for (text, escaped) in [
            ("cc @alice", "cc @\u{200B}alice"),
            ("@org/security-team", "@\u{200B}org/security-team"),
            ("(@bob)", "(@\u{200B}bob)"),
            ("ops@example.com", "ops@example.com"),
            ("a_@b", "a_@b"),
            ("@ alone", "@ alone"),
        ] {
            assert_eq!(md_escape(text), escaped, "{text}");
        }
    }
}
