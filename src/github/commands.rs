//! Workflow commands: the `::name props::data` lines the runner reads from stdout.
//!
//! Escaping follows actions/toolkit `command.ts`: data escapes `%`, `\r`, `\n`;
//! properties additionally escape `:` and `,`. Outside GitHub Actions (local CLI use)
//! the same calls print plain, readable lines instead, so the CLI stays quiet of
//! runner syntax. Annotations are capped at 10 per kind, as the runner shows no more.

use std::io::Write;
use std::sync::Mutex;

/// Annotations past this count per kind are printed as plain log lines.
pub const MAX_ANNOTATIONS_PER_KIND: usize = 10;

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

/// Formats one command line (without the trailing newline).
pub fn format_command(name: &str, props: &[(&str, String)], data: &str) -> String {
    let mut line = format!("::{name}");
    let props: Vec<String> = props
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    if !props.is_empty() {
        line.push(' ');
        line.push_str(&props.join(","));
    }
    line.push_str("::");
    line.push_str(&escape_data(data));
    line
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
                self.emit(&format_command("add-mask", &[], line));
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
            eprintln!("{}: {title}{message}", kind.command());
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

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(format_command("warning", &[("title", String::new())], "w"), "::warning::w");
    }
}
