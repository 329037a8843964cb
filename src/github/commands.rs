//! Workflow commands: the `::name props::data` lines the runner reads from stdout.
//!
//! Escaping follows actions/toolkit `command.ts`: data escapes `%`, `\r`, `\n`;
//! properties additionally escape `:` and `,`. Outside GitHub Actions (local CLI use)
//! the same calls print plain, readable lines instead, so the CLI stays quiet of
//! runner syntax. Annotations are capped at 10 per kind, as the runner shows no more.
//!
//! # The one printing path for outside text
//!
//! The runner reads a step's stdout *and* stderr line by line and acts on commands in
//! them: a line that starts with `::` once leading blanks are trimmed, and the legacy
//! `##[name]` form anywhere in a line. A bare `\r` ends a line as much as `\n` does.
//! Test names, failure messages, artifact names, registry answers and bundle paths are
//! outside text, so every line that carries any of it goes through [`inert`] (plain
//! text) or [`inert_json`] (JSON documents) before it is printed, and annotation data
//! goes through [`format_command`], which applies both the toolkit escaping and
//! [`inert`]. Nothing printed that way can become a command, whatever it contains.

use std::io::Write;
use std::sync::Mutex;

/// Annotations past this count per kind are printed as plain log lines.
pub const MAX_ANNOTATIONS_PER_KIND: usize = 10;

/// Makes text safe to print as (part of) one log line the runner reads, wherever in
/// the line it goes: line breaks and other control characters become visible escapes
/// (`\n`, `\r`, `\u{1b}`), a leading `::` (after blanks) becomes `\::`, and every
/// legacy `##[` becomes `##\[`. Apply it to whole lines (or to each piece of outside
/// text in a line): the result never starts a command and never contains one.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' || matches!(c, '\u{2028}' | '\u{2029}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if out.contains("##[") {
        out = out.replace("##[", "##\\[");
    }
    let blanks = out.len() - out.trim_start().len();
    if out[blanks..].starts_with("::") {
        out.insert(blanks, '\\');
    }
    out
}

/// Makes a JSON document safe to print: `##[` inside strings becomes `##\u005b`,
/// which every JSON reader decodes to the same text. (Pretty or compact JSON never
/// starts a line with `::`, and serde_json already escapes line breaks in strings.)
pub fn inert_json(json: &str) -> String {
    json.replace("##[", "##\\u005b")
}

/// Prints one line of outside text to stdout through [`inert`].
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", inert(line));
}

/// Prints one line of outside text to stderr through [`inert`].
pub fn eprint_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", inert(line));
}

pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationKind {
    Error,
    Warning,
    Notice,
}

impl AnnotationKind {
    fn command(self) -> &'static str {
        match self {
            AnnotationKind::Error => "error",
            AnnotationKind::Warning => "warning",
            AnnotationKind::Notice => "notice",
        }
    }
}

/// Where an annotation points and how it is titled. All fields optional.
#[derive(Debug, Default, Clone)]
pub struct AnnotationProps {
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u64>,
}

/// Formats one command line (without the trailing newline). Property values and data
/// are outside text: they are escaped as the toolkit does, and `##[` in them is made
/// inert too (line breaks survive as `%0A`, so a multi-line message stays multi-line).
pub fn format_command(name: &str, props: &[(&str, String)], data: &str) -> String {
    let mut line = format!("::{name}");
    let props: Vec<String> = props
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(&legacy_inert(v))))
        .collect();
    if !props.is_empty() {
        line.push(' ');
        line.push_str(&props.join(","));
    }
    line.push_str("::");
    line.push_str(&escape_data(&legacy_inert(data)));
    line
}

fn legacy_inert(text: &str) -> String {
    text.replace("##[", "##\\[")
}

/// A secret for `::add-mask::` must reach the runner unchanged, so it is not made
/// inert; only the toolkit escaping applies.
fn format_mask(secret_line: &str) -> String {
    format!("::add-mask::{}", escape_data(secret_line))
}

/// Masks a secret that is only learned mid-run (e.g. a token obtained by exchanging a
/// key), for code that holds no [`Commands`]: prints `::add-mask::` when running in
/// GitHub Actions, nothing otherwise.
pub fn mask_late_secret(secret: &str) {
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v.trim() == "true");
    Commands::new(in_actions).add_mask(secret);
}

/// Writes workflow commands to stdout (or plain lines outside Actions).
pub struct Commands {
    in_actions: bool,
    counts: Mutex<[usize; 3]>,
}

impl Commands {
    pub fn new(in_actions: bool) -> Self {
        Commands { in_actions, counts: Mutex::new([0; 3]) }
    }

    pub fn in_actions(&self) -> bool {
        self.in_actions
    }

    fn emit(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Registers a secret with the runner so it is masked in every later log line.
    pub fn add_mask(&self, secret: &str) {
        if self.in_actions && !secret.trim().is_empty() {
            for line in secret.lines().filter(|l| !l.trim().is_empty()) {
                self.emit(&format_mask(line));
            }
        }
    }

    pub fn annotate(&self, kind: AnnotationKind, props: &AnnotationProps, message: &str) {
        let index = kind as usize;
        let shown = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            counts[index] += 1;
            counts[index] <= MAX_ANNOTATIONS_PER_KIND
        };
        if self.in_actions && shown {
            let mut p: Vec<(&str, String)> = Vec::new();
            if let Some(t) = &props.title {
                p.push(("title", t.clone()));
            }
            if let Some(f) = &props.file {
                p.push(("file", f.clone()));
            }
            if let Some(l) = props.line {
                p.push(("line", l.to_string()));
            }
            self.emit(&format_command(kind.command(), &p, message));
        } else {
            let title = props.title.as_deref().map(|t| format!("{t}: ")).unwrap_or_default();
            eprint_line(&format!("{}: {title}{message}", kind.command()));
        }
    }

    /// Opens a collapsible log group; it closes when the guard drops.
    pub fn group(&self, name: &str) -> GroupGuard<'_> {
        if self.in_actions {
            self.emit(&format_command("group", &[], name));
        } else {
            log::info!("== {name}");
        }
        GroupGuard { commands: self }
    }
}

pub struct GroupGuard<'a> {
    commands: &'a Commands,
}

impl Drop for GroupGuard<'_> {
    fn drop(&mut self) {
        if self.commands.in_actions {
            self.commands.emit("::endgroup::");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_like_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let line = format_command(
            "error",
            &[("file", "src/a,b.rs".into()), ("line", "3".into()), ("title", "T: x".into())],
            "boom\nsecond line",
        );
        assert_eq!(line, "::error file=src/a%2Cb.rs,line=3,title=T%3A x::boom%0Asecond line");
    }

    /// What the runner would treat as a command in one physical line (its parser:
    /// `\r` and `\n` end lines, leading blanks are trimmed before `::`, `##[` anywhere).
    fn runner_commands(text: &str) -> Vec<String> {
        text.split(['\n', '\r'])
            .filter(|l| l.trim_start().starts_with("::") || l.contains("##["))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn outside_text_never_becomes_a_command() {
        for hostile in [
            "x\n::stop-commands::tok",
            "x\r::add-mask::secret",
            "   ::set-output name=verdict::passed",
            "\t::error::forged",
            "ok ##[error]forged",
            "##[set-output name=verdict;]passed",
            "a\u{2028}b\u{1b}[2Kc",
        ] {
            let line = inert(hostile);
            assert!(runner_commands(&line).is_empty(), "{hostile:?} → {line:?}");
            assert!(runner_commands(&format!("          {line}")).is_empty(), "{line:?}");
            assert!(!line.contains(['\n', '\r', '\u{1b}', '\u{2028}']), "{line:?}");
            let annotation = format_command("error", &[("title", hostile.into())], hostile);
            assert_eq!(
                runner_commands(&annotation),
                std::slice::from_ref(&annotation),
                "only the annotation itself: {annotation:?}"
            );
        }
        assert_eq!(inert("  ::x"), "  \\::x");
        assert_eq!(inert("a\nb"), "a\\nb");
        assert_eq!(inert("tests::name stays readable"), "tests::name stays readable");
        let json = inert_json(
            &serde_json::to_string_pretty(&serde_json::json!({"name": "##[error]x\n::add-mask::y"})).unwrap(),
        );
        assert!(runner_commands(&json).is_empty(), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "##[error]x\n::add-mask::y", "JSON readers see the same text");
    }

    #[test]
    fn masks_reach_the_runner_unchanged() {
        assert_eq!(format_mask("a##[b::c%"), "::add-mask::a##[b::c%25");
    }

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(format_command("warning", &[("title", String::new())], "w"), "::warning::w");
    }
}
