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
            ':' if chars.peek() == Some(&'/') => out.push_str("\\:"),
            '.' if prev.iter().all(|p| p.eq_ignore_ascii_case(&'w')) => out.push_str("\\."),
            c => out.push(c),
        }
        first = first && c.is_whitespace();
        prev = [prev[1], prev[2], c];
    }
    out
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
